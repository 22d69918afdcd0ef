package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/session"
)

// The session facts (KPIS.md §3): one row per conversation session, kept
// on ingest. After each batch, the sessions of the keys it touches (a
// conversation id, or a customer on a channel) are split anew from the
// key's stored events, starting at the latest stored session that began
// before the earliest change, so a session is the same whatever period
// asks for it, and a late event reads only the days since. Business hours
// are not applied here: the rows keep times, and the KPIs measure them in
// open hours when asked.

// SessionFactsTable is the table of session rows.
const SessionFactsTable = "session_facts"

// SessionColumns are the session table's columns, in the order of
// SessionRow. Flags are 0 or 1 in an Int, the same in both stores.
var SessionColumns = []Column{
	{"workspace", Text, false},
	{"key_conversation", Text, false}, // the conversation id, "" for a customer's messages
	{"key_customer", Text, false},     // with key_channel, for a customer's messages that name no conversation
	{"key_channel", Text, false},
	{"start_ms", Int, false},
	{"counted", Int, false}, // 1: a conversation of the reports (session.Counted)
	{"conversation", Text, false},
	{"channel", Text, true},
	{"customer", Text, true},
	{"campaign", Text, true},
	{"template", Text, true},
	{"variant", Text, true},
	{"agent", Text, true},
	{"team", Text, true},
	{"first_in_ms", Int, true},
	{"reply_ms", Int, true}, // the first business reply after first_in_ms
	{"reply_agent", Text, true},
	{"reply_team", Text, true},
	{"reply_bot", Int, false},
	{"human_ms", Int, true}, // the first agent reply after first_in_ms
	{"human_agent", Text, true},
	{"human_team", Text, true},
	{"replies", Text, false}, // JSON [[from_ms, at_ms, agent, team], …]: each customer message and the reply to it
	{"resolved_ms", Int, true},
	{"resolver", Text, true},
	{"last_in", Int, false}, // 1: the last message is the customer's
	{"last_ms", Int, false}, // the last message, 0 when none
	{"goals", Text, false},  // JSON array of the goals reached
}

// SessionColumnNames lists SessionColumns' names for an INSERT or SELECT.
func SessionColumnNames() string {
	names := make([]string, len(SessionColumns))
	for i, c := range SessionColumns {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// SessionRow lays a session out as SessionColumns.
func SessionRow(workspace string, s *session.Session) []any {
	flag := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	replies := make([][4]any, len(s.Replies))
	for i, r := range s.Replies {
		replies[i] = [4]any{r.From, r.At, r.Agent, r.Team}
	}
	rb, _ := json.Marshal(replies)
	goals := s.Goals
	if goals == nil {
		goals = []string{}
	}
	gb, _ := json.Marshal(goals)
	row := []any{workspace, s.Key.Conversation, s.Key.Customer, s.Key.Channel, s.Start, flag(s.Counted()), s.Conversation}
	for _, d := range session.DimNames {
		row = append(row, nullText(s.Dims[d]))
	}
	reply := func(r *session.Reply) []any {
		if r == nil {
			return []any{nil, nil, nil}
		}
		return []any{r.At, nullText(r.Agent), nullText(r.Team)}
	}
	row = append(row, nullInt(s.FirstIn))
	row = append(row, reply(s.FirstReply)...)
	row = append(row, flag(s.FirstReply != nil && s.FirstReply.Bot))
	row = append(row, reply(s.FirstHuman)...)
	return append(row, string(rb), nullInt(s.Resolved), nullText(s.Resolver), flag(s.LastIn), s.LastAt, string(gb))
}

func nullText(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func nullInt(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

// ScanSession reads a row of SessionColumns but the workspace.
func ScanSession(rows Rows) (*session.Session, error) {
	s := &session.Session{Dims: map[string]*string{}}
	var counted, bot, lastIn int64
	var replyAt, humanAt *int64
	var replyAgent, replyTeam, humanAgent, humanTeam *string
	var replies, goals string
	dims := make([]*string, len(session.DimNames))
	dest := []any{&s.Key.Conversation, &s.Key.Customer, &s.Key.Channel, &s.Start, &counted, &s.Conversation}
	for i := range dims {
		dest = append(dest, &dims[i])
	}
	dest = append(dest, &s.FirstIn, &replyAt, &replyAgent, &replyTeam, &bot, &humanAt, &humanAgent, &humanTeam,
		&replies, &s.Resolved, &s.Resolver, &lastIn, &s.LastAt, &goals)
	if err := rows.Scan(dest...); err != nil {
		return nil, fmt.Errorf("read session facts: %w", err)
	}
	for i, d := range session.DimNames {
		s.Dims[d] = dims[i]
	}
	s.LastIn = lastIn == 1
	if replyAt != nil && s.FirstIn != nil {
		s.FirstReply = &session.Reply{From: *s.FirstIn, At: *replyAt, Agent: replyAgent, Team: replyTeam, Bot: bot == 1}
	}
	if humanAt != nil && s.FirstIn != nil {
		s.FirstHuman = &session.Reply{From: *s.FirstIn, At: *humanAt, Agent: humanAgent, Team: humanTeam}
	}
	var pairs [][4]any
	if err := json.Unmarshal([]byte(replies), &pairs); err != nil {
		return nil, fmt.Errorf("read the replies of session %s: %w", s.Conversation, err)
	}
	for _, p := range pairs {
		from, _ := p[0].(float64)
		at, _ := p[1].(float64)
		s.Replies = append(s.Replies, session.Reply{From: int64(from), At: int64(at), Agent: jsonText(p[2]), Team: jsonText(p[3])})
	}
	if err := json.Unmarshal([]byte(goals), &s.Goals); err != nil {
		return nil, fmt.Errorf("read the goals of session %s: %w", s.Conversation, err)
	}
	return s, nil
}

func jsonText(v any) *string {
	if t, ok := v.(string); ok {
		return &t
	}
	return nil
}

// SessionSource is what the session upkeep reads from a store: counting
// events (session.Kinds) and the stored sessions' starts.
type SessionSource interface {
	// SessionEventsOfMessages returns the stored events of a workspace
	// that name one of the messages, whatever their time.
	SessionEventsOfMessages(ctx context.Context, workspace string, messages []string) ([]*session.Event, error)
	// SessionStarts returns the starts of the stored sessions of keys.
	SessionStarts(ctx context.Context, workspace string, keys []session.Key) (map[session.Key][]int64, error)
	// SessionEventsOfKeys returns the stored events of each key from its
	// time on (it may return earlier ones too).
	SessionEventsOfKeys(ctx context.Context, workspace string, from map[session.Key]int64) ([]*session.Event, error)
}

// SessionUpdate is the work of one batch on one workspace's sessions: for
// each key, the stored sessions from its time in From on are replaced by
// Sessions.
type SessionUpdate struct {
	Workspace string
	From      map[session.Key]int64
	Starts    map[session.Key][]int64 // the starts stored before
	Sessions  []*session.Session
}

// UpdateSessions works out the sessions of a workspace that changed
// with events, which were added to the store (or removed from it) just
// before.
func UpdateSessions(ctx context.Context, src SessionSource, workspace string, events []*session.Event, gap time.Duration) (SessionUpdate, error) {
	up := SessionUpdate{Workspace: workspace, From: map[session.Key]int64{}}
	siblings, err := src.SessionEventsOfMessages(ctx, workspace, session.Messages(events))
	if err != nil {
		return up, err
	}
	changed := session.Affected(events, siblings)
	if len(changed) == 0 {
		return up, nil
	}
	keys := make([]session.Key, 0, len(changed))
	for k := range changed {
		keys = append(keys, k)
	}
	if up.Starts, err = src.SessionStarts(ctx, workspace, keys); err != nil {
		return up, err
	}
	for k, t := range changed {
		up.From[k] = session.RecomputeFrom(t, up.Starts[k])
	}
	stored, err := src.SessionEventsOfKeys(ctx, workspace, up.From)
	if err != nil {
		return up, err
	}
	copies, err := src.SessionEventsOfMessages(ctx, workspace, session.Messages(stored))
	if err != nil {
		return up, err
	}
	for _, list := range session.Recompute(append(stored, copies...), up.From, gap) {
		up.Sessions = append(up.Sessions, list...)
	}
	return up, nil
}

// SessionEvents takes the events of a batch that sessions read, by
// workspace.
func SessionEvents(events []event.Event) map[string][]*session.Event {
	out := map[string][]*session.Event{}
	for i := range events {
		e := &events[i]
		for _, k := range session.Kinds {
			if string(e.Kind) == k {
				out[e.Workspace] = append(out[e.Workspace], session.FromEvent(e))
				break
			}
		}
	}
	return out
}

// SessionGapOf is the session gap of a workspace, the default when it has
// no settings yet.
func SessionGapOf(ctx context.Context, s interface {
	Workspace(context.Context, string) (Workspace, error)
}, workspace string) (time.Duration, error) {
	ws, err := s.Workspace(ctx, workspace)
	if errors.Is(err, ErrNotFound) {
		return Windows{}.SessionGap(), nil
	}
	if err != nil {
		return 0, err
	}
	return ws.Windows.SessionGap(), nil
}

// SessionEventSelect is the SELECT list of the counting events' columns,
// in the order ScanSessionEvent reads them; prop is the store's
// expression of the goal prop.
func SessionEventSelect(alias, goal string) string {
	cols := ""
	for _, c := range []string{"id", "ts", "kind", "conversation", "actor", "agent", "team", "channel", "customer", "message", "campaign", "template", "variant"} {
		cols += alias + "." + c + ", "
	}
	return cols + goal
}

// ScanSessionEvent reads a row of SessionEventSelect.
func ScanSessionEvent(rows Rows) (*session.Event, error) {
	ev := &session.Event{}
	if err := rows.Scan(&ev.ID, &ev.TS, &ev.Kind, &ev.Conversation, &ev.Actor, &ev.Agent, &ev.Team, &ev.Channel,
		&ev.Customer, &ev.Message, &ev.Campaign, &ev.Template, &ev.Variant, &ev.Goal); err != nil {
		return nil, fmt.Errorf("read conversation events: %w", err)
	}
	if ev.Goal != nil && *ev.Goal == "" {
		ev.Goal = nil
	}
	return ev, nil
}

// ReadSessionEvents reads every row of a SessionEventSelect query.
func ReadSessionEvents(rows Rows, err error) ([]*session.Event, error) {
	if err != nil {
		return nil, fmt.Errorf("read conversation events: %w", err)
	}
	defer rows.Close()
	var out []*session.Event
	for rows.Next() {
		ev, err := ScanSessionEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// ReadSessionStarts reads rows of (key_conversation, key_customer,
// key_channel, start_ms) into each key's starts.
func ReadSessionStarts(rows Rows, err error) (map[session.Key][]int64, error) {
	if err != nil {
		return nil, fmt.Errorf("read stored sessions: %w", err)
	}
	defer rows.Close()
	out := map[session.Key][]int64{}
	for rows.Next() {
		var k session.Key
		var start int64
		if err := rows.Scan(&k.Conversation, &k.Customer, &k.Channel, &start); err != nil {
			return nil, fmt.Errorf("read stored sessions: %w", err)
		}
		out[k] = append(out[k], start)
	}
	return out, rows.Err()
}
