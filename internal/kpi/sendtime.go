package kpi

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// SendTimeCell is one hour of the week: the reads and customer messages
// that happened in it, and how the campaign messages sent in it fared.
type SendTimeCell struct {
	Day     string `json:"day"`  // mon … sun
	Hour    int    `json:"hour"` // 0–23, local
	Reads   int64  `json:"reads"`
	Replies int64  `json:"replies"`
	// Sent are the campaign messages sent in this hour; Read of them were
	// read (of SentReads, those on channels that report reads) and
	// Replied answered within the reply window.
	Sent      int64 `json:"sent"`
	SentReads int64 `json:"sent_reporting_reads"`
	Read      int64 `json:"read"`
	Replied   int64 `json:"replied"`
	// The rates in %, and the median seconds from send to read; null
	// without messages to measure.
	ReadRate   *float64 `json:"read_rate"`
	ReplyRate  *float64 `json:"reply_rate"`
	TimeToRead *float64 `json:"median_time_to_read"`
}

// SendTimeChannel is a channel's hours of the week, and its best hours by
// the report's metric.
type SendTimeChannel struct {
	Channel *string        `json:"channel"`
	Hours   []SendTimeCell `json:"hours"` // 168, Monday 00:00 first
	Best    []SendTimeCell `json:"best"`
}

// SendTimeMetrics are what the best hours can be chosen by: activity (reads
// and customer messages together, the default), reads or replies as they
// happened, or, normalised by the campaign messages sent in each hour, the
// read rate, the reply rate or the median time to read (the shortest is
// best).
var SendTimeMetrics = []string{"activity", "reads", "replies", "read_rate", "reply_rate", "time_to_read"}

// The send-time view: GET /v1/sendtime, 'omnikpi report --view sendtime'
// and the dashboard's views/sendtime.js; its test scripts are
// testdata/sendtime*.txt.
var _ = register(View{
	Name: "sendtime", Path: "/v1/sendtime", Schema: "SendTimeReport", Request: true,
	Summary: "Reads and replies by local hour of the week per channel, and the read rate, reply rate and time to read of the messages sent in each hour, with the best hours",
	Params: []Param{
		{Name: "metric", Doc: "What the best hours are best at: " + strings.Join(SendTimeMetrics, ", ") + " (default activity)",
			Enum: SendTimeMetrics, Default: "activity", Check: func(v string) error {
				if !slices.Contains(SendTimeMetrics, v) {
					return &RequestError{Field: "metric", Reason: quote(v) + " is none of " + strings.Join(SendTimeMetrics, ", ")}
				}
				return nil
			}},
		{Name: "min_sent", Doc: "The messages an hour must have sent to be among the best by a rate or the time to read (default 20)",
			Type: "integer", Min: 1, Max: 1_000_000, Default: "20"},
	},
	Columns: sendTimeColumns,
	Run: func(ctx context.Context, e *Engine, r Request, p Params) (Result, error) {
		return e.BestSendTime(ctx, r, p["metric"], p.Int("min_sent"))
	},
	New: func(Params) Result { return &SendTimeReport{} },
})

// SendTimeReport is when customers read and reply, in the report's zone.
type SendTimeReport struct {
	Workspace string            `json:"workspace"`
	From      string            `json:"from"`
	To        string            `json:"to"`
	TimeZone  string            `json:"time_zone"`
	Metric    string            `json:"metric"`
	MinSent   int               `json:"min_sent"`
	Channels  []SendTimeChannel `json:"channels"`
}

var dayNames = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// BestSendTime counts the period's reads of outbound messages and the
// customers' messages by local hour of the week, per channel, and how the
// campaign messages sent in each hour fared, and picks each channel's
// three best hours by metric (among hours that sent minSent messages or
// more, for a rate or the time to read).
func (e *Engine) BestSendTime(ctx context.Context, r Request, metric string, minSent int) (SendTimeReport, error) {
	r.GroupBy, r.Bucket = nil, ""
	if metric == "" {
		metric = "activity"
	}
	res, err := e.prepare(ctx, r)
	if err != nil {
		return SendTimeReport{}, err
	}
	grids := map[string]*[168]SendTimeCell{}
	names := map[string]*string{}
	cell := func(channel *string, how float64) *SendTimeCell {
		key := deref(channel)
		if grids[key] == nil {
			grids[key], names[key] = &[168]SendTimeCell{}, channel
		}
		if h := int(how); h >= 0 && h < 168 {
			return &grids[key][h]
		}
		return &SendTimeCell{} // out of the week: nowhere
	}
	delays := map[*SendTimeCell][]float64{}
	for _, q := range []string{"send-time-reads", "send-time-replies", "send-time-sent", "send-time-replied", "send-time-read-delays"} {
		rows, err := e.query(ctx, res, q)
		if err != nil {
			return SendTimeReport{}, err
		}
		for rows.Next() {
			var channel *string
			var how float64
			var n [3]float64
			dest := []any{&channel, &how, &n[0]}
			switch q {
			case "send-time-sent":
				dest = append(dest, &n[1], &n[2])
			case "send-time-read-delays":
				dest = append(dest, &n[1])
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return SendTimeReport{}, fmt.Errorf("read %s: %w", q, err)
			}
			c := cell(channel, how)
			switch q {
			case "send-time-reads":
				c.Reads += int64(n[0])
			case "send-time-replies":
				c.Replies += int64(n[0])
			case "send-time-sent":
				c.Sent, c.SentReads, c.Read = c.Sent+int64(n[0]), c.SentReads+int64(n[1]), c.Read+int64(n[2])
			case "send-time-replied":
				c.Replied += int64(n[0])
			case "send-time-read-delays": // a delay in seconds, and how many reads took it
				for range int(n[1]) {
					delays[c] = append(delays[c], max(0, n[0]))
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return SendTimeReport{}, err
		}
	}
	rep := SendTimeReport{Workspace: res.Workspace, From: res.fromText(), To: res.toText(), TimeZone: res.Location.String(),
		Metric: metric, MinSent: minSent, Channels: []SendTimeChannel{}}
	for key, grid := range grids {
		ch := SendTimeChannel{Channel: names[key]}
		for h := range grid {
			c := &grid[h]
			c.Day, c.Hour = dayNames[h/24], h%24
			c.ReadRate, c.ReplyRate = ratio(float64(c.Read), float64(c.SentReads), 100).value, ratio(float64(c.Replied), float64(c.Sent), 100).value
			c.TimeToRead = statistic(delays[c], statMedian).value
			ch.Hours = append(ch.Hours, *c)
		}
		ch.Best = bestHours(ch.Hours, metric, int64(minSent))
		rep.Channels = append(rep.Channels, ch)
	}
	sort.Slice(rep.Channels, func(a, b int) bool { return deref(rep.Channels[a].Channel) < deref(rep.Channels[b].Channel) })
	return rep, nil
}

// bestHours are the three best hours by metric, earlier hours of the week
// first on a tie. An hour without the metric's figure is never among them,
// nor, for a rate or the time to read, one that sent fewer than minSent
// messages: one message read at 3 a.m. is no 100 % hour.
func bestHours(hours []SendTimeCell, metric string, minSent int64) []SendTimeCell {
	val := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	score := func(c SendTimeCell) (float64, bool) {
		switch metric {
		case "reads":
			return float64(c.Reads), c.Reads > 0
		case "replies":
			return float64(c.Replies), c.Replies > 0
		case "read_rate":
			return val(c.ReadRate), c.ReadRate != nil && c.SentReads >= minSent
		case "reply_rate":
			return val(c.ReplyRate), c.ReplyRate != nil && c.Sent >= minSent
		case "time_to_read":
			return -val(c.TimeToRead), c.TimeToRead != nil && c.Sent >= minSent
		}
		return float64(c.Reads + c.Replies), c.Reads+c.Replies > 0
	}
	var cand []SendTimeCell
	for _, c := range hours {
		if _, ok := score(c); ok {
			cand = append(cand, c)
		}
	}
	sort.SliceStable(cand, func(a, b int) bool { x, _ := score(cand[a]); y, _ := score(cand[b]); return x > y })
	return cand[:min(3, len(cand))]
}

var sendTimeColumns = []Column{
	{Name: "channel", Type: TypeString}, {Name: "day", Type: TypeString, Doc: "mon … sun"},
	{Name: "hour", Type: TypeInteger, Doc: "0–23, local", Text: func(v any) string { return fmt.Sprintf("%02d:00", v) }},
	{Name: "reads", Type: TypeInteger, Unit: Count}, {Name: "replies", Type: TypeInteger, Unit: Count},
	{Name: "sent", Type: TypeInteger, Unit: Count, Doc: "campaign messages sent in the hour"},
	{Name: "read_rate", Type: TypeNumber, Unit: Percent, Digits: digits(1), Doc: "of the messages sent in the hour, on channels that report reads"},
	{Name: "reply_rate", Type: TypeNumber, Unit: Percent, Digits: digits(1), Doc: "of the messages sent in the hour, answered within the reply window"},
	{Name: "median_time_to_read", Type: TypeNumber, Unit: Seconds, Digits: digits(0), Doc: "of the messages sent in the hour"},
	{Name: "best", Type: TypeBoolean, Doc: "one of the channel's three best hours by the metric",
		Text: func(v any) string { return map[bool]string{true: "best"}[v == true] }},
}

// Table is a row per channel and hour of the week with reads or replies.
func (rep SendTimeReport) Table() Table {
	t := Table{Title: fmt.Sprintf("Reads and replies by hour of the week, workspace %s, %s to %s (%s); best by %s", rep.Workspace, rep.From, rep.To, rep.TimeZone, rep.Metric),
		Columns: sendTimeColumns}
	for _, ch := range rep.Channels {
		best := map[string]bool{}
		for _, b := range ch.Best {
			best[b.Day+strconv.Itoa(b.Hour)] = true
		}
		for _, h := range ch.Hours {
			if h.Reads+h.Replies+h.Sent == 0 {
				continue
			}
			t.Rows = append(t.Rows, []any{ch.Channel, h.Day, h.Hour, h.Reads, h.Replies, h.Sent, h.ReadRate, h.ReplyRate, h.TimeToRead,
				best[h.Day+strconv.Itoa(h.Hour)]})
		}
	}
	return t
}
