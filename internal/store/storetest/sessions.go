package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/session"
	"github.com/omnikpi/omnikpi/internal/store"
)

// sessionsIndependentOfOrderAndBatches: the sessions a store keeps on
// ingest are those a split of all the events at once gives, however the
// events arrive: shuffled, in batches of any size, with re-sent copies,
// statuses and replies before the messages they follow, a message whose
// later copy names its conversation, and resolutions weeks later.
func sessionsIndependentOfOrderAndBatches(t *testing.T, open Opener) {
	ctx := context.Background()
	events := randomConversations(rand.New(rand.NewPCG(7, 11)), 400)
	var all []*session.Event
	for i := range events {
		all = append(all, session.FromEvent(&events[i]))
	}
	var want []string
	for k, evs := range session.Group(all) {
		for _, s := range session.Split(k, evs, 24*time.Hour) {
			want = append(want, describe(s))
		}
	}
	sort.Strings(want)
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			s := open(t)
			rng := rand.New(rand.NewPCG(seed, 3))
			mixed := append([]event.Event(nil), events...)
			for i := 0; i < 40; i++ {
				mixed = append(mixed, events[rng.IntN(len(events))]) // re-sent
			}
			rng.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
			for len(mixed) > 0 {
				n := min(len(mixed), 1+rng.IntN(60))
				if _, err := s.Insert(ctx, mixed[:n]); err != nil {
					t.Fatal(err)
				}
				mixed = mixed[n:]
			}
			got := storedSessions(t, s)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("stored sessions differ from a split of all events:\n%s", diffLines(got, want))
			}
		})
	}
}

// randomConversations makes n events of conversations over three months:
// named conversations that resolve and reopen, customers writing without
// a conversation id, agent and bot replies, re-sent copies of messages
// under other event ids that name the conversation only on the later copy.
func randomConversations(rng *rand.Rand, n int) []event.Event {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []event.Event
	id := 0
	next := func(kind event.Kind, at time.Time, mod func(*event.Event)) {
		id++
		e := event.Event{ID: fmt.Sprintf("e%d", id), Workspace: "w", Kind: kind, Channel: "whatsapp", Count: 1, TS: at}
		mod(&e)
		out = append(out, e)
	}
	for len(out) < n {
		at := start.Add(time.Duration(rng.IntN(90*24*60)) * time.Minute)
		customer := fmt.Sprintf("k%d", rng.IntN(12))
		conv := ""
		if rng.IntN(2) == 0 {
			conv = fmt.Sprintf("c%d", rng.IntN(10))
		}
		msg := fmt.Sprintf("m%d", id)
		switch r := rng.IntN(10); {
		case r < 4:
			next(event.MessageReceived, at, func(e *event.Event) { e.Customer, e.Conversation, e.Message = customer, conv, msg })
			if rng.IntN(4) == 0 { // the same message again under another event id, naming its conversation
				next(event.MessageReceived, at.Add(time.Second), func(e *event.Event) {
					e.Customer, e.Conversation, e.Message = customer, fmt.Sprintf("c%d", rng.IntN(10)), msg
				})
			}
		case r < 7:
			actor, agent := event.ActorAgent, fmt.Sprintf("a%d", rng.IntN(3))
			if rng.IntN(3) == 0 {
				actor, agent = event.ActorBot, ""
			}
			next(event.MessageSent, at, func(e *event.Event) {
				e.Customer, e.Conversation, e.Message, e.Actor, e.Agent = customer, conv, msg, actor, agent
			})
		case r < 8 && conv != "":
			next(event.ConversationResolved, at.Add(time.Duration(rng.IntN(30*24))*time.Hour), func(e *event.Event) { e.Conversation, e.Customer = conv, customer })
		case r < 9 && conv != "":
			next(event.ConversationReopened, at, func(e *event.Event) { e.Conversation = conv })
		case conv != "":
			next(event.ConversationAssigned, at, func(e *event.Event) { e.Conversation, e.Agent = conv, fmt.Sprintf("a%d", rng.IntN(3)) })
		}
	}
	return out
}

// storedSessions reads every stored session of workspace w.
func storedSessions(t *testing.T, s Store) []string {
	t.Helper()
	rows, err := s.DB().Query("SELECT " + store.SessionColumnNames()[len("workspace, "):] + " FROM " +
		s.Dialect().Facts(store.SessionFactsTable, "s") + " WHERE s.workspace = 'w'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		sess, err := store.ScanSession(rows)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, describe(sess))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// describe writes a session as one comparable line.
func describe(s *session.Session) string {
	text := func(p *string) string {
		if p == nil {
			return "-"
		}
		return *p
	}
	num := func(p *int64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	reply := func(r *session.Reply) string {
		if r == nil {
			return "-"
		}
		return fmt.Sprintf("%d>%d:%s:%s:%v", r.From, r.At, text(r.Agent), text(r.Team), r.Bot)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%d|%s", s.Key.Name(), s.Conversation, s.Start, num(s.FirstIn))
	for _, d := range session.DimNames {
		fmt.Fprintf(&b, "|%s=%s", d, text(s.Dims[d]))
	}
	fmt.Fprintf(&b, "|first %s|human %s|resolved %s by %s|last %v %d|goals %v|replies", reply(s.FirstReply), reply(s.FirstHuman),
		num(s.Resolved), text(s.Resolver), s.LastIn, s.LastAt, s.Goals)
	for _, r := range s.Replies {
		fmt.Fprintf(&b, " %d>%d:%s", r.From, r.At, text(r.Agent))
	}
	return b.String()
}

func diffLines(got, want []string) string {
	in := func(list []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range list {
			m[s] = true
		}
		return m
	}
	g, w := in(got), in(want)
	var b strings.Builder
	for _, s := range want {
		if !g[s] {
			b.WriteString("missing: " + s + "\n")
		}
	}
	for _, s := range got {
		if !w[s] {
			b.WriteString("extra:   " + s + "\n")
		}
	}
	return b.String()
}
