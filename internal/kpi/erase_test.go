package kpi

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// eraseStore is a store whose tables the test reads.
type eraseStore interface {
	store.Store
	DB() *sql.DB
}

var eraseStores = map[string]func(t *testing.T) eraseStore{
	"duckdb": func(t *testing.T) eraseStore {
		s, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "e.duckdb"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	},
	"clickhouse": func(t *testing.T) eraseStore { return chtest.Open(t) },
	// The sharded layout on a test cluster of two shards on one server,
	// and the replicated layout on a cluster of one replicated shard.
	"clickhouse-sharded":    func(t *testing.T) eraseStore { return chtest.OpenTwoShards(t) },
	"clickhouse-replicated": func(t *testing.T) eraseStore { return chtest.OpenReplicated(t) },
}

// eraseReference opens the store that holds TestForget_Customer's events
// without carol's: another store like the one erased, but for the sharded
// layout, of which one store can be open at a time, ClickHouse on one
// server (the conformance test holds the layouts to the same figures).
func eraseReference(name string) func(t *testing.T) eraseStore {
	if name == "clickhouse-sharded" {
		return eraseStores["clickhouse"]
	}
	return eraseStores[name]
}

// customerEvents are one customer's month: a campaign message delivered
// and read (statuses naming only the message), a conversation with a
// question, an agent's answer and its resolution, an order in it, partly
// refunded, and a CSAT answer. Customer ids that are phone numbers are
// hashed as ingestion stores them.
func customerEvents(customer string, i int, day time.Time) []event.Event {
	at := func(min int) time.Time { return day.Add(time.Duration(i)*time.Hour + time.Duration(min)*time.Minute) }
	p := fmt.Sprintf("%s-%d-", day.Format("0102"), i)
	m, v, o := p+"m", p+"v", p+"o"
	money := func(minor int64) *event.Money { return &event.Money{Minor: minor, Currency: "EUR"} }
	score := float64(3 + i%3)
	evs := []event.Event{
		{ID: p + "sent", TS: at(0), Kind: event.MessageSent, Channel: "whatsapp", Message: m, Customer: customer, Campaign: "spring", Actor: event.ActorCampaign},
		{ID: p + "dlv", TS: at(1), Kind: event.MessageDelivered, Channel: "whatsapp", Message: m},
		{ID: p + "read", TS: at(2), Kind: event.MessageRead, Channel: "whatsapp", Message: m},
		{ID: p + "open", TS: at(5), Kind: event.ConversationOpened, Channel: "whatsapp", Conversation: v, Customer: customer},
		{ID: p + "in", TS: at(5), Kind: event.MessageReceived, Channel: "whatsapp", Message: p + "in", Conversation: v, Customer: customer, Actor: event.ActorCustomer, Text: "do you have red shoes"},
		{ID: p + "out", TS: at(8), Kind: event.MessageSent, Channel: "whatsapp", Message: p + "out", Conversation: v, Customer: customer, Actor: event.ActorAgent, Agent: "ana"},
		{ID: p + "done", TS: at(20), Kind: event.ConversationResolved, Channel: "whatsapp", Conversation: v},
		{ID: p + "ord", TS: at(30), Kind: event.OrderPlaced, Channel: "whatsapp", Order: o, Conversation: v, Customer: customer, Amount: money(int64(5000 + 1000*i))},
		{ID: p + "ref", TS: at(40), Kind: event.OrderRefunded, Order: o, Amount: money(700)},
		{ID: p + "csat", TS: at(50), Kind: event.SurveyAnswered, Channel: "whatsapp", Customer: customer, Score: &score, Props: map[string]any{"survey": "csat"}},
	}
	for k := range evs {
		evs[k].Workspace, evs[k].Count = "w", 1
	}
	ingest.HashPhoneCustomers(evs, "w")
	return evs
}

// eraseFixture is three customers' January and March; carol, known by
// her phone number, is the one to erase.
const carol = "+62 812-3456-7890"

var eraseCustomers = []string{"alice", "bob", carol}

func eraseData(without string) []event.Event {
	var evs []event.Event
	for _, day := range []time.Time{time.Date(2026, 1, 12, 9, 0, 0, 0, time.UTC), time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)} {
		for i, c := range eraseCustomers {
			if c != without {
				evs = append(evs, customerEvents(c, i, day)...)
			}
		}
	}
	return evs
}

func loadErase(t *testing.T, s store.Store, evs []event.Event) {
	t.Helper()
	ctx := context.Background()
	if err := s.PutWorkspace(ctx, store.NewWorkspace("w")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Insert(ctx, evs); err != nil {
		t.Fatal(err)
	}
}

// figures is the report of the period as JSON: the totals, and grouped
// by customer.
func figures(t *testing.T, s store.Store, from, to string, kpis []string) string {
	t.Helper()
	e, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, by := range [][]string{nil, {"customer"}} {
		rep, err := e.Compute(context.Background(), Request{Workspace: "w", From: from, To: to, GroupBy: by, KPIs: kpis})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.MarshalIndent(rep.Rows, "", " ")
		out = append(out, b...)
	}
	return string(out)
}

func countRows(t *testing.T, s eraseStore, query string, args ...any) int64 {
	t.Helper()
	var n any
	if err := s.DB().QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	var v int64
	fmt.Sscan(fmt.Sprint(n), &v)
	return v
}

// TestForget_Customer: erasing a customer, by phone number, removes her
// events, texts and facts; every other customer's figures, and the
// totals less hers, are those of the same events without her; and her
// late events are dropped, on both stores.
func TestForget_Customer(t *testing.T) {
	for name, open := range eraseStores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s, ref := open(t), eraseReference(name)(t)
			// The reference holds the same events without carol's.
			loadErase(t, s, eraseData(""))
			loadErase(t, ref, eraseData(carol))
			from, to := "2026-01-01", "2026-04-01"
			before, want := figures(t, s, from, to, nil), figures(t, ref, from, to, nil)
			if before == want {
				t.Fatal("carol's events change no figure: the test proves nothing")
			}
			hashed := ingest.CustomerID(carol, "w")
			ws, _ := s.Workspace(ctx, "w")
			stored, phones := storedCustomers(map[string][]string{"customer": {carol}}, ws)["customer"], []string{"6281234567890"}
			er, err := s.Forget(ctx, "w", stored, phones)
			if err != nil {
				t.Fatal(err)
			}
			// Per month: 10 events, 2 messages (campaign, reply) and the
			// inbound one, 1 conversation, 1 order.
			if er.Events != 20 || er.Messages != 6 || er.Orders != 2 || er.Conversations != 2 {
				t.Errorf("erasure %+v, want 20 events, 6 messages, 2 orders, 2 conversations", er)
			}
			if got := figures(t, s, from, to, nil); got != want {
				t.Errorf("figures after the erasure differ from those of the events without her:\n%s\nwant\n%s", got, want)
			}
			for _, q := range []string{
				"SELECT count(*) FROM events WHERE customer = ? OR message LIKE '%-2-m' OR order_id LIKE '%-2-o' OR conversation LIKE '%-2-v'",
				"SELECT count(*) FROM message_facts WHERE customer = ? OR message LIKE '%-2-%'",
				"SELECT count(*) FROM order_facts WHERE customer = ? OR order_id LIKE '%-2-%'",
				"SELECT count(*) FROM conversation_facts WHERE customer = ? OR conversation LIKE '%-2-%'",
				"SELECT count(*) FROM session_facts WHERE customer = ? OR key_customer = ? OR key_conversation LIKE '%-2-%'",
			} {
				args := []any{hashed}
				if strings.Count(q, "?") == 2 {
					args = append(args, hashed)
				}
				if n := countRows(t, s, q, args...); n != 0 {
					t.Errorf("%d rows of hers left: %s", n, q)
				}
			}
			if n := countRows(t, s, "SELECT count(*) FROM events WHERE text IS NOT NULL"); n != 4 {
				t.Errorf("%d texts left, want the other customers' 4", n)
			}
			// A late webhook: her message, and a status of her campaign
			// message that names only the message.
			late := []event.Event{
				{ID: "late-in", Workspace: "w", TS: time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC), Kind: event.MessageReceived, Channel: "whatsapp",
					Message: "late-in", Customer: carol, Actor: event.ActorCustomer, Text: "hello again", Count: 1},
				{ID: "late-read", Workspace: "w", TS: time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC), Kind: event.MessageRead, Channel: "whatsapp",
					Message: "0309-2-m", Count: 1},
			}
			ingest.HashPhoneCustomers(late, "w")
			drops, err := s.Dropped(ctx, late)
			if err != nil || drops[0] != store.Forgotten || drops[1] != store.Forgotten {
				t.Fatalf("Dropped: %v %v, want both forgotten", drops, err)
			}
			got, err := s.Insert(ctx, late)
			if err != nil || got[0] != store.Forgotten || got[1] != store.Forgotten {
				t.Fatalf("late events: %v %v, want both forgotten", got, err)
			}
			if got := figures(t, s, from, to, nil); got != want {
				t.Errorf("her late events changed the figures")
			}
			// Someone else's events are still taken.
			other := customerEvents("dave", 5, time.Date(2026, 3, 21, 9, 0, 0, 0, time.UTC))
			if got, err := s.Insert(ctx, other); err != nil || got[0] != store.Accepted {
				t.Fatalf("another customer's events: %v %v", got, err)
			}
		})
	}
}

// TestForget_Workspace: erasing a workspace leaves nothing of it.
func TestForget_Workspace(t *testing.T) {
	for name, open := range eraseStores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			loadErase(t, s, eraseData(""))
			er, err := s.ForgetWorkspace(ctx, "w")
			if err != nil {
				t.Fatal(err)
			}
			if er.Events != 60 || er.Orders != 6 {
				t.Errorf("erasure %+v, want 60 events and 6 orders", er)
			}
			for _, table := range []string{"events", "message_facts", "order_facts", "conversation_facts", "session_facts"} {
				if n := countRows(t, s, "SELECT count(*) FROM "+table+" WHERE workspace = 'w'"); n != 0 {
					t.Errorf("%d rows left in %s", n, table)
				}
			}
			if _, err := s.Workspace(ctx, "w"); err == nil {
				t.Error("the workspace's settings are left")
			}
		})
	}
}

// factFigures are the KPIs computed from the message, order,
// conversation and session facts alone.
var factFigures = []string{"messages_sent", "delivery_rate", "open_rate", "response_rate", "gross_revenue", "net_revenue",
	"aov", "refund_rate", "rpc", "chat_to_purchase_rate",
	"conversations", "first_response_time", "avg_response_time", "resolution_time", "unclosed_conversations"}

// TestRetention_KeepsFactFigures: a policy that expires January's raw
// events removes them, while the figures the facts give for January stay
// as they were; a late event of January is dropped as expired.
func TestRetention_KeepsFactFigures(t *testing.T) {
	for name, open := range eraseStores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			loadErase(t, s, eraseData(""))
			jan := figures(t, s, "2026-01-01", "2026-02-01", factFigures)
			mar := figures(t, s, "2026-03-01", "2026-04-01", nil)
			cut := store.Retention{EventsMonths: 2, TextsMonths: 1}.Cutoffs(time.Date(2026, 4, 15, 8, 0, 0, 0, time.UTC))
			if !cut.Events.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) || !cut.Texts.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) || !cut.Facts.IsZero() {
				t.Fatalf("cutoffs %+v", cut)
			}
			run, err := s.ApplyRetention(ctx, "w", cut)
			if err != nil {
				t.Fatal(err)
			}
			if run.Events != 30 || run.Facts != 0 {
				t.Errorf("run %+v, want 30 events removed and no facts", run)
			}
			if n := countRows(t, s, "SELECT count(*) FROM events WHERE workspace = 'w' AND ts < ?", cut.Events.UnixMilli()); n != 0 {
				t.Errorf("%d events of January left", n)
			}
			if n := countRows(t, s, "SELECT count(*) FROM message_facts WHERE workspace = 'w' AND first_ms < ?", cut.Events.UnixMilli()); n != 9 {
				t.Errorf("%d message facts of January left, want 9", n)
			}
			if got := figures(t, s, "2026-01-01", "2026-02-01", factFigures); got != jan {
				t.Errorf("January's figures from the facts changed:\n%s\nwant\n%s", got, jan)
			}
			if got := figures(t, s, "2026-03-01", "2026-04-01", nil); got != mar {
				t.Errorf("March's figures changed")
			}
			late := customerEvents("alice", 0, time.Date(2026, 1, 12, 9, 0, 0, 0, time.UTC))[8:9] // a refund re-sent
			if got, err := s.Insert(ctx, late); err != nil || got[0] != store.Expired {
				t.Fatalf("a late January event: %v %v, want expired", got, err)
			}
			if got := figures(t, s, "2026-01-01", "2026-02-01", factFigures); got != jan {
				t.Errorf("a late January event changed January's figures")
			}
		})
	}
}
