package kpi_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/demo"
	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// conformanceEnd is the exclusive end of the generated data: the sixty
// days before it cross Europe's switch to summer time.
var conformanceEnd = time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC)

// conformanceWorkspaces are the tenants of the data set, in different time
// zones, each with data of its own.
var conformanceWorkspaces = []struct {
	name, timeZone string
	seed           int64
	events         int
}{
	{"amsterdam", "Europe/Amsterdam", 3, 14_000},
	{"jakarta", "Asia/Jakarta", 4, 9_000},
}

// trapEvents are the counting rules' traps that generated data may not
// hold: reads and clicks without deliveries, a second order_placed for one
// order, a return without an amount, a third currency, an opt-out on
// another channel than the message, statuses of a message never sent.
const trapEvents = `
{"id":"t1","ts":"2026-03-20T09:00:00Z","kind":"message_sent","channel":"whatsapp","message":"trap-m1","customer":"trap-a","actor":"campaign","campaign":"trap","template":"trap_t","variant":"A"}
{"id":"t2","ts":"2026-03-20T09:05:00Z","kind":"message_read","channel":"whatsapp","message":"trap-m1"}
{"id":"t3","ts":"2026-03-20T09:06:00Z","kind":"button_clicked","channel":"whatsapp","message":"trap-m1"}
{"id":"t4","ts":"2026-03-21T10:00:00Z","kind":"message_read","channel":"instagram","message":"trap-m2"}
{"id":"t5","ts":"2026-03-21T09:00:00Z","kind":"message_sent","channel":"instagram","message":"trap-m2","customer":"trap-b","actor":"campaign","campaign":"trap","template":"trap_t","variant":"B"}
{"id":"t6","ts":"2026-03-22T10:00:00Z","kind":"order_placed","order":"trap-o1","amount":"19.99","currency":"USD","customer":"trap-a"}
{"id":"t7","ts":"2026-03-22T11:00:00Z","kind":"order_placed","order":"trap-o1","amount":"25.00","currency":"USD","customer":"trap-a"}
{"id":"t8","ts":"2026-03-23T11:00:00Z","kind":"order_returned","order":"trap-o1"}
{"id":"t9","ts":"2026-03-24T11:00:00Z","kind":"order_placed","order":"trap-o2","amount":"7.50","currency":"USD","customer":"trap-b","conversation":"trap-c1"}
{"id":"t10","ts":"2026-03-24T12:00:00Z","kind":"order_refunded","order":"trap-o2","amount":"2.50","currency":"USD"}
{"id":"t11","ts":"2026-03-24T10:00:00Z","kind":"message_received","channel":"instagram","message":"trap-in1","customer":"trap-b","conversation":"trap-c1","actor":"customer"}
{"id":"t12","ts":"2026-03-24T10:00:30Z","kind":"message_sent","channel":"instagram","message":"trap-out1","customer":"trap-b","conversation":"trap-c1","actor":"agent","agent":"ana","team":"sales"}
{"id":"t13","ts":"2026-03-25T10:00:00Z","kind":"opted_out","channel":"sms","customer":"trap-a"}
{"id":"t14","ts":"2026-03-25T10:00:00Z","kind":"opted_out","channel":"whatsapp","customer":"trap-a"}
{"id":"t15","ts":"2026-03-26T10:00:00Z","kind":"message_delivered","channel":"whatsapp","message":"trap-never-sent"}
{"id":"t16","ts":"2026-03-26T10:00:00Z","kind":"goal_reached","customer":"trap-b","channel":"instagram","conversation":"trap-c1","props":{"goal":"booking"}}
{"id":"t17","ts":"2026-03-20T08:00:00Z","kind":"campaign_cost","campaign":"trap","amount":"3.00","currency":"USD","props":{"cost_type":"messaging"}}
{"id":"t18","ts":"2025-02-15T10:00:00Z","kind":"order_placed","order":"t18","customer":"cus_00001","amount":"12.00","currency":"EUR"}
{"id":"t19","ts":"2025-03-10T10:00:00Z","kind":"order_placed","order":"t19","customer":"cus_00002","amount":"8.00","currency":"EUR"}
{"id":"t20","ts":"2026-03-02T10:00:00Z","kind":"impression","channel":"instagram","medium":"paid_social","count":900}
{"id":"t21","ts":"2026-03-02T10:00:00Z","kind":"social_interaction","channel":"instagram","medium":"paid_social","count":21,"props":{"type":"click"}}
`

// conformanceEvents generates the data set: each workspace's demo data and
// the traps, with the workspace set.
func conformanceEvents(t *testing.T) []event.Event {
	t.Helper()
	var all []event.Event
	for _, w := range conformanceWorkspaces {
		var buf bytes.Buffer
		if _, err := demo.Generate(context.Background(), &buf, demo.Options{Seed: w.seed, Events: w.events, End: conformanceEnd, Days: 60}); err != nil {
			t.Fatal(err)
		}
		buf.WriteString(trapEvents)
		for i, line := range strings.Split(buf.String(), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			e, err := event.ParseJSON([]byte(line))
			if err != nil {
				t.Fatalf("%s line %d: %v", w.name, i+1, err)
			}
			e.Workspace = w.name
			all = append(all, e)
		}
	}
	return all
}

// loadShuffled inserts events into s in a random order of its own, with
// one in twenty delivered twice, in batches of random sizes.
func loadShuffled(t *testing.T, s store.Store, events []event.Event, seed uint64) {
	t.Helper()
	ctx := context.Background()
	for _, w := range conformanceWorkspaces {
		ws := store.NewWorkspace(w.name)
		ws.TimeZone = w.timeZone
		// A rate card that changes in the middle of the data, its later
		// version with volume tiers, so the messaging cost is priced by
		// date and by each message's number in its month on both stores.
		changed := conformanceEnd.AddDate(0, 0, -30).Format(time.DateOnly)
		ws.RateCard = &store.RateCard{Currency: "EUR", Prices: []store.RatePrice{
			{Category: "marketing", Country: "ID", Price: "0.0380"}, {Category: "marketing", Price: "0.0900"},
			{From: changed, Category: "marketing", Price: "0.1000", TierFrom: 1, TierTo: 500},
			{From: changed, Category: "marketing", Price: "0.0800", TierFrom: 501},
		}}
		if err := s.PutWorkspace(ctx, ws); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 17))
	mixed := append([]event.Event(nil), events...)
	for range len(events) / 20 {
		mixed = append(mixed, events[rng.IntN(len(events))])
	}
	rng.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
	for len(mixed) > 0 {
		n := min(len(mixed), 1+rng.IntN(6000))
		if _, err := s.Insert(ctx, mixed[:n]); err != nil {
			t.Fatal(err)
		}
		mixed = mixed[n:]
	}
}

// conformanceRequests are the requests both stores must answer alike, each
// for every KPI of the catalogue: the whole range and a part of it, every
// dimension as group, every bucket, filters, combinations and a time zone
// other than the workspace's.
func conformanceRequests(events []event.Event, workspace string) []url.Values {
	first := map[string]string{}
	for _, e := range events {
		if e.Workspace != workspace {
			continue
		}
		for d, v := range map[string]string{"campaign": e.Campaign, "agent": e.Agent, "template": e.Template} {
			if v != "" && (first[d] == "" || v < first[d]) {
				first[d] = v
			}
		}
	}
	whole := url.Values{"from": {"2026-02-01"}, "to": {"2026-04-16"}}
	with := func(kv ...string) url.Values {
		q := url.Values{}
		for k, v := range whole {
			q[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
	reqs := []url.Values{
		with(),
		with("from", "2026-03-10", "to", "2026-03-31T12:00:00+02:00"),
	}
	for _, d := range kpi.Dimensions {
		reqs = append(reqs, with("group_by", d))
	}
	for _, b := range kpi.Buckets {
		reqs = append(reqs, with("bucket", b))
	}
	reqs = append(reqs,
		with("channel", "whatsapp"),
		with("channel", "instagram,sms", "group_by", "channel"),
		with("class", "conversation", "group_by", "channel"),
		with("class", "campaign", "group_by", "campaign", "bucket", "week"),
		with("campaign", first["campaign"], "group_by", "template"),
		with("group_by", "campaign,variant", "bucket", "week", "channel", "whatsapp"),
		with("agent", first["agent"], "bucket", "day"),
		with("template", first["template"], "group_by", "variant", "bucket", "month"),
		with("bucket", "day", "tz", "America/New_York"),
	)
	return reqs
}

// TestConformance_DuckDBAndClickHouse loads one data set into DuckDB and
// into ClickHouse in three layouts (one server, sharded over two shards,
// replicated through ZooKeeper), each in its own random order with
// duplicates, and requires every KPI of the catalogue to come out the same
// in all four for every request: counts and money exactly, ratios within
// 1e-9 relative.
func TestConformance_DuckDBAndClickHouse(t *testing.T) {
	chtest.URL(t)
	events := conformanceEvents(t)

	duck, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "conformance.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { duck.Close() })
	stores := map[string]store.Store{"duckdb": duck, "clickhouse": chtest.Open(t)}
	// The sharded layout, on a test cluster of two shards on one server.
	sharded := chtest.OpenTwoShards(t)
	stores["clickhouse-sharded"] = sharded
	// The replicated layout, on a cluster of one replicated shard.
	stores["clickhouse-replicated"] = chtest.OpenReplicated(t)
	for i, name := range []string{"duckdb", "clickhouse", "clickhouse-sharded", "clickhouse-replicated"} {
		loadShuffled(t, stores[name], events, uint64(i+1))
	}
	for _, shard := range chtest.ShardDatabases {
		var n int64
		if err := sharded.DB().QueryRow("SELECT count() FROM " + shard + ".events_local").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n < int64(len(events))/4 {
			t.Errorf("shard %s holds %d of %d events: the data is not spread over the shards", shard, n, len(events))
		}
	}

	engines := map[string]*kpi.Engine{}
	for name, s := range stores {
		e, err := kpi.New(s)
		if err != nil {
			t.Fatal(err)
		}
		engines[name] = e
	}
	var ids []string
	for _, d := range kpi.Catalogue() {
		ids = append(ids, d.ID)
	}
	seen := map[string]bool{} // KPIs that had a value somewhere
	for _, w := range conformanceWorkspaces {
		for _, q := range conformanceRequests(events, w.name) {
			q.Set("kpi", strings.Join(ids, ","))
			name := w.name + "?" + q.Encode()
			t.Run(name, func(t *testing.T) {
				req, err := kpi.FromValues(w.name, q)
				if err != nil {
					t.Fatal(err)
				}
				want, err := engines["duckdb"].Compute(context.Background(), req)
				if err != nil {
					t.Fatalf("duckdb: %v", err)
				}
				for _, name := range []string{"clickhouse", "clickhouse-sharded", "clickhouse-replicated"} {
					got, err := engines[name].Compute(context.Background(), req)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					compareReports(t, name, got, want)
				}
				for _, row := range want.Rows {
					for _, v := range row.KPIs {
						if v.Value != nil {
							seen[v.ID] = true
						}
					}
				}
			})
		}
	}
	// A KPI that never had a value would be compared only as null = null.
	for _, id := range ids {
		if !seen[id] {
			t.Errorf("%s has no value in any request: the data set does not exercise it", id)
		}
	}
}

// compareReports requires the same rows, in the same order, with the same
// figures.
func compareReports(t *testing.T, name string, got, want kpi.Report) {
	t.Helper()
	if got.From != want.From || got.To != want.To || got.TimeZone != want.TimeZone {
		t.Fatalf("range: %s %s–%s %s, duckdb %s–%s %s", name, got.From, got.To, got.TimeZone, want.From, want.To, want.TimeZone)
	}
	if len(got.Rows) != len(want.Rows) {
		t.Fatalf("%s has %d rows, duckdb %d:\n%[1]s groups %v\nduckdb groups %v",
			name, len(got.Rows), len(want.Rows), groups(got), groups(want))
	}
	for i := range want.Rows {
		g, w := got.Rows[i], want.Rows[i]
		if gk, wk := groupKey(g.Group), groupKey(w.Group); gk != wk {
			t.Fatalf("row %d: %s group %s, duckdb %s", i, name, gk, wk)
		}
		if len(g.KPIs) != len(w.KPIs) {
			t.Fatalf("group %s: %s has %d figures, duckdb %d", groupKey(w.Group), name, len(g.KPIs), len(w.KPIs))
		}
		for j := range w.KPIs {
			gv, wv := g.KPIs[j], w.KPIs[j]
			where := fmt.Sprintf("group %s, %s %s", groupKey(w.Group), wv.ID, wv.Currency)
			switch {
			case gv.ID != wv.ID || gv.Currency != wv.Currency:
				t.Errorf("%s: %s gives %s %s", where, name, gv.ID, gv.Currency)
			case gv.Numerator != wv.Numerator || gv.Denominator != wv.Denominator:
				t.Errorf("%s: %s %v / %v, duckdb %v / %v", where, name, gv.Numerator, gv.Denominator, wv.Numerator, wv.Denominator)
			case (gv.Value == nil) != (wv.Value == nil):
				t.Errorf("%s: %s value %v, duckdb %v", where, name, fmtValue(gv.Value), fmtValue(wv.Value))
			case gv.Value != nil && !closeEnough(*gv.Value, *wv.Value):
				t.Errorf("%s: %s value %v, duckdb %v", where, name, *gv.Value, *wv.Value)
			case gv.Rating != wv.Rating || gv.Reason != wv.Reason:
				t.Errorf("%s: %s rated %q (%s), duckdb %q (%s)", where, name, gv.Rating, gv.Reason, wv.Rating, wv.Reason)
			}
		}
	}
}

func closeEnough(a, b float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

func fmtValue(v *float64) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprint(*v)
}

func groupKey(g map[string]*string) string {
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s;", k, fmtString(g[k]))
	}
	return b.String()
}

func fmtString(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

func groups(r kpi.Report) []string {
	var out []string
	for _, row := range r.Rows {
		out = append(out, groupKey(row.Group))
	}
	return out
}
