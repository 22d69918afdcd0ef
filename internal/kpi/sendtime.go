package kpi

import (
	"context"
	"fmt"
	"sort"
	"strconv"
)

// SendTimeCell is one hour of the week: reads and replies in it.
type SendTimeCell struct {
	Day     string `json:"day"`  // mon … sun
	Hour    int    `json:"hour"` // 0–23, local
	Reads   int64  `json:"reads"`
	Replies int64  `json:"replies"`
}

// SendTimeChannel is a channel's hours of the week, and its best hours:
// the three with the most reads and replies together.
type SendTimeChannel struct {
	Channel *string        `json:"channel"`
	Hours   []SendTimeCell `json:"hours"` // 168, Monday 00:00 first
	Best    []SendTimeCell `json:"best"`
}

// The send-time view: GET /v1/sendtime, 'omnikpi report --view sendtime'
// and the dashboard's views/sendtime.js; its test script is
// testdata/sendtime.txt.
var _ = register(View{
	Name: "sendtime", Path: "/v1/sendtime", Schema: "SendTimeReport", Request: true,
	Summary: "Reads and replies by local hour of the week per channel, with the best hours",
	Columns: sendTimeColumns,
	Run: func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) {
		return e.BestSendTime(ctx, r)
	},
	New: func(Params) Result { return &SendTimeReport{} },
})

// SendTimeReport is when customers read and reply, in the report's zone.
type SendTimeReport struct {
	Workspace string            `json:"workspace"`
	From      string            `json:"from"`
	To        string            `json:"to"`
	TimeZone  string            `json:"time_zone"`
	Channels  []SendTimeChannel `json:"channels"`
}

var dayNames = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// BestSendTime counts the period's reads of outbound messages and the
// customers' messages by local hour of the week, per channel.
func (e *Engine) BestSendTime(ctx context.Context, r Request) (SendTimeReport, error) {
	r.GroupBy, r.Bucket = nil, ""
	res, err := e.prepare(ctx, r)
	if err != nil {
		return SendTimeReport{}, err
	}
	grids := map[string]*[168][2]int64{}
	names := map[string]*string{}
	for i, q := range []string{"send-time-reads", "send-time-replies"} {
		rows, err := e.query(ctx, res, q)
		if err != nil {
			return SendTimeReport{}, err
		}
		for rows.Next() {
			var channel *string
			var how, n float64
			if err := rows.Scan(&channel, &how, &n); err != nil {
				rows.Close()
				return SendTimeReport{}, fmt.Errorf("read %s: %w", q, err)
			}
			key := deref(channel)
			if grids[key] == nil {
				grids[key], names[key] = &[168][2]int64{}, channel
			}
			if h := int(how); h >= 0 && h < 168 {
				grids[key][h][i] += int64(n)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return SendTimeReport{}, err
		}
	}
	rep := SendTimeReport{Workspace: res.Workspace, From: res.fromText(),
		To: res.toText(), TimeZone: res.Location.String(), Channels: []SendTimeChannel{}}
	for key, grid := range grids {
		ch := SendTimeChannel{Channel: names[key]}
		for h, c := range grid {
			ch.Hours = append(ch.Hours, SendTimeCell{Day: dayNames[h/24], Hour: h % 24, Reads: c[0], Replies: c[1]})
		}
		best := append([]SendTimeCell(nil), ch.Hours...)
		sort.SliceStable(best, func(a, b int) bool { return best[a].Reads+best[a].Replies > best[b].Reads+best[b].Replies })
		for _, c := range best[:3] {
			if c.Reads+c.Replies > 0 {
				ch.Best = append(ch.Best, c)
			}
		}
		rep.Channels = append(rep.Channels, ch)
	}
	sort.Slice(rep.Channels, func(a, b int) bool { return deref(rep.Channels[a].Channel) < deref(rep.Channels[b].Channel) })
	return rep, nil
}

var sendTimeColumns = []Column{
	{Name: "channel", Type: TypeString}, {Name: "day", Type: TypeString, Doc: "mon … sun"},
	{Name: "hour", Type: TypeInteger, Doc: "0–23, local", Text: func(v any) string { return fmt.Sprintf("%02d:00", v) }},
	{Name: "reads", Type: TypeInteger, Unit: Count}, {Name: "replies", Type: TypeInteger, Unit: Count},
	{Name: "best", Type: TypeBoolean, Doc: "one of the channel's three best hours",
		Text: func(v any) string { return map[bool]string{true: "best"}[v == true] }},
}

// Table is a row per channel and hour of the week with reads or replies.
func (rep SendTimeReport) Table() Table {
	t := Table{Title: fmt.Sprintf("Reads and replies by hour of the week, workspace %s, %s to %s (%s)", rep.Workspace, rep.From, rep.To, rep.TimeZone),
		Columns: sendTimeColumns}
	for _, ch := range rep.Channels {
		best := map[string]bool{}
		for _, b := range ch.Best {
			best[b.Day+strconv.Itoa(b.Hour)] = true
		}
		for _, h := range ch.Hours {
			if h.Reads+h.Replies == 0 {
				continue
			}
			t.Rows = append(t.Rows, []any{ch.Channel, h.Day, h.Hour, h.Reads, h.Replies, best[h.Day+strconv.Itoa(h.Hour)]})
		}
	}
	return t
}
