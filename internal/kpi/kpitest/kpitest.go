// Package kpitest runs the KPI scripts of internal/kpi/testdata against any
// store, so that every backend is held to the same numbers.
//
// A script is a text file of directives, one per line ('#' starts a comment):
//
//	workspace W                     the workspace of the events that follow (default "w")
//	timezone Europe/Berlin          sets the workspace's time zone
//	ratecard USD marketing/ID=0.0411 marketing=0.025 … [from=2026-01-01]
//	                                adds a version of the workspace's rate card (from its date, or since always):
//	                                category[:type]/country[@market]=price, no country for the others, then
//	                                optional ;tier=FROM-TO (TO empty for no bound) and ;free=N (monthly per number)
//	hours mon=09:00-12:00,13:00-17:00 … holidays=2026-12-25,…
//	                                sets the workspace's business hours
//	band KPI low=L high=H best=B       overrides the workspace's band of a KPI (each end optional)
//	receipts web=none,sms=delivered…  which statuses channels report (store.ParseReceipts)
//	event {json}                    one event in the generic format
//	repeat N {json with {i}}        N events, {i} replaced by 1..N
//	meta [currency=C] [template=ID=NAME…] [fetched=RFC3339] {json}
//	                                Meta's pricing_analytics or template_analytics answer, read into events
//	                                as 'omnikpi import-meta' reads it (internal/ingest/metaanalytics)
//	request from=… to=… kpi=…       a KPI request in the query syntax of GET /v1/kpis
//	expect [group=k:v,…] ID [currency=C] [label=L] value=V|null numerator=N denominator=D rating=R reason=…
//	                                also unit=, previous=, change=, last_year=, change_last_year=, change_unit=,
//	                                band_low=, band_high=, band_best= (none without a band), band_source=
//	view NAME k=v …                 a view of the registry (kpi.ViewNamed) with its query parameters
//	rows N                          the view's table has N rows
//	row column=text …               some row of the view's table has these cells (text as CSV writes it,
//	                                "_" for a space or an underscore, nothing for no value)
//
// Each request is answered three times: on the events in file order, on the
// same events shuffled into random batches with duplicates, and the answers
// must agree with each other and with every expect line that follows it.
package kpitest

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest/metaanalytics"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Opener makes an empty store for one run.
type Opener func(t *testing.T) store.Store

// Run runs every script in dir of fsys against stores made by open.
func Run(t *testing.T, fsys fs.FS, open Opener) {
	files, err := fs.Glob(fsys, "*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts found: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(file, ".txt"), func(t *testing.T) {
			b, err := fs.ReadFile(fsys, file)
			if err != nil {
				t.Fatal(err)
			}
			s, err := parse(string(b))
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			s.run(t, open)
		})
	}
}

// Embedded is a helper for callers that embed the scripts themselves.
type Embedded = embed.FS

type script struct {
	events   []event.Event
	settings map[string]*store.Workspace
	requests []request
}

type request struct {
	line    int
	ws      string
	view    string // a view of the registry; "" for a KPI request
	values  url.Values
	expects []expect
	rows    []rowExpect
}

// rowExpect is a row or rows line about a view's table.
type rowExpect struct {
	line  int
	cells map[string]string // column → cell; nil for a count
	count int
}

type expect struct {
	line     int
	group    map[string]string
	id       string
	currency string
	label    string // "_" stands for a space
	fields   map[string]string
}

func parse(text string) (*script, error) {
	s := &script{settings: map[string]*store.Workspace{}}
	ws := "w"
	settings := func() *store.Workspace {
		if s.settings[ws] == nil {
			w := store.NewWorkspace(ws)
			s.settings[ws] = &w
		}
		return s.settings[ws]
	}
	for n, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, rest, _ := strings.Cut(line, " ")
		lineErr := func(err error) error { return fmt.Errorf("line %d: %w", n+1, err) }
		switch word {
		case "workspace":
			ws = rest
		case "timezone":
			settings().TimeZone = rest
		case "ratecard":
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				return nil, lineErr(fmt.Errorf("ratecard needs a currency"))
			}
			card := &store.RateCard{Currency: fields[0]}
			for _, f := range fields[1:] {
				if from, ok := strings.CutPrefix(f, "from="); ok {
					for i := range card.Prices {
						card.Prices[i].From = from
					}
					continue
				}
				p, err := ratePrice(f)
				if err != nil {
					return nil, lineErr(err)
				}
				card.Prices = append(card.Prices, p)
			}
			if err := card.Validate(); err != nil {
				return nil, lineErr(err)
			}
			if old := settings().RateCard; old != nil {
				*card = old.Merge(*card)
			}
			settings().RateCard = card
		case "hours":
			h := &store.BusinessHours{Open: map[string][]string{}}
			for _, f := range strings.Fields(rest) {
				k, v, _ := strings.Cut(f, "=")
				if k == "holidays" {
					h.Holidays = strings.Split(v, ",")
				} else {
					h.Open[k] = strings.Split(v, ",")
				}
			}
			if err := kpi.ValidateBusinessHours(*h); err != nil {
				return nil, lineErr(err)
			}
			settings().BusinessHours = h
		case "receipts":
			change, err := store.ParseReceipts(rest)
			if err != nil {
				return nil, lineErr(err)
			}
			settings().SetReceipts(change)
		case "band":
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				return nil, lineErr(fmt.Errorf("band needs a KPI"))
			}
			var b store.Band
			for _, f := range fields[1:] {
				k, v, _ := strings.Cut(f, "=")
				x, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return nil, lineErr(err)
				}
				switch k {
				case "low":
					b.Low = &x
				case "high":
					b.High = &x
				case "best":
					b.Best = &x
				default:
					return nil, lineErr(fmt.Errorf("band: unknown end %q", k))
				}
			}
			if settings().Bands == nil {
				settings().Bands = map[string]store.Band{}
			}
			settings().Bands[fields[0]] = b
		case "event":
			e, err := event.ParseJSON([]byte(rest))
			if err != nil {
				return nil, lineErr(err)
			}
			e.Workspace = ws
			s.events = append(s.events, e)
		case "repeat":
			countText, tmpl, _ := strings.Cut(rest, " ")
			count, err := strconv.Atoi(countText)
			if err != nil {
				return nil, lineErr(err)
			}
			for i := 1; i <= count; i++ {
				e, err := event.ParseJSON([]byte(strings.ReplaceAll(tmpl, "{i}", strconv.Itoa(i))))
				if err != nil {
					return nil, lineErr(err)
				}
				e.Workspace = ws
				s.events = append(s.events, e)
			}
		case "meta":
			events, err := metaEvents(ws, rest)
			if err != nil {
				return nil, lineErr(err)
			}
			s.events = append(s.events, events...)
		case "view":
			name, args, _ := strings.Cut(rest, " ")
			if _, ok := kpi.ViewNamed(name); !ok {
				return nil, lineErr(fmt.Errorf("no view %q", name))
			}
			q := url.Values{}
			for _, kv := range strings.Fields(args) {
				k, v, _ := strings.Cut(kv, "=")
				q.Add(k, v)
			}
			s.requests = append(s.requests, request{line: n + 1, ws: ws, view: name, values: q})
		case "row", "rows":
			if len(s.requests) == 0 || s.requests[len(s.requests)-1].view == "" {
				return nil, lineErr(fmt.Errorf("%s before any view", word))
			}
			ex := rowExpect{line: n + 1}
			if word == "rows" {
				var err error
				if ex.count, err = strconv.Atoi(rest); err != nil {
					return nil, lineErr(err)
				}
			} else {
				ex.cells = map[string]string{}
				for _, tok := range strings.Fields(rest) {
					k, v, _ := strings.Cut(tok, "=")
					ex.cells[strings.ReplaceAll(k, "_", " ")] = strings.ReplaceAll(v, "_", " ")
				}
			}
			last := &s.requests[len(s.requests)-1]
			last.rows = append(last.rows, ex)
		case "request":
			q := url.Values{}
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				q.Add(k, v)
			}
			s.requests = append(s.requests, request{line: n + 1, ws: ws, values: q})
		case "expect":
			if len(s.requests) == 0 {
				return nil, lineErr(fmt.Errorf("expect before any request"))
			}
			ex := expect{line: n + 1, fields: map[string]string{}}
			for _, tok := range strings.Fields(rest) {
				k, v, isKV := strings.Cut(tok, "=")
				switch {
				case !isKV:
					ex.id = tok
				case k == "group":
					ex.group = map[string]string{}
					for _, pair := range strings.Split(v, ",") {
						gk, gv, _ := strings.Cut(pair, ":")
						ex.group[gk] = gv
					}
				case k == "currency":
					ex.currency = v
				case k == "label":
					ex.label = strings.ReplaceAll(v, "_", " ")
				default:
					ex.fields[k] = strings.ReplaceAll(v, "_", " ")
				}
			}
			last := &s.requests[len(s.requests)-1]
			last.expects = append(last.expects, ex)
		default:
			return nil, lineErr(fmt.Errorf("unknown directive %q", word))
		}
	}
	return s, nil
}

func (s *script) load(t *testing.T, open Opener, events []event.Event, batches func(int) []int) *kpi.Engine {
	t.Helper()
	st := open(t)
	ctx := context.Background()
	for _, w := range s.settings {
		if err := st.PutWorkspace(ctx, *w); err != nil {
			t.Fatal(err)
		}
	}
	start := 0
	for _, size := range batches(len(events)) {
		if _, err := st.Insert(ctx, events[start:start+size]); err != nil {
			t.Fatal(err)
		}
		start += size
	}
	engine, err := kpi.New(st)
	if err != nil {
		t.Fatal(err)
	}
	return engine
}

func (s *script) run(t *testing.T, open Opener) {
	inOrder := s.load(t, open, s.events, func(n int) []int { return []int{n} })

	rng := rand.New(rand.NewPCG(uint64(len(s.events)), 42))
	shuffled := append([]event.Event(nil), s.events...)
	for i := 0; i < len(s.events)/5+1 && len(s.events) > 0; i++ {
		shuffled = append(shuffled, s.events[rng.IntN(len(s.events))]) // retries
	}
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	mixed := s.load(t, open, shuffled, func(n int) []int {
		var sizes []int
		for n > 0 {
			size := min(n, 1+rng.IntN(max(40, n/25)))
			sizes = append(sizes, size)
			n -= size
		}
		return sizes
	})

	for _, r := range s.requests {
		if r.view != "" {
			r.runView(t, inOrder, mixed)
			continue
		}
		req, err := kpi.FromValues(r.ws, r.values)
		if err != nil {
			t.Fatalf("line %d: %v", r.line, err)
		}
		want, err := inOrder.Compute(context.Background(), req)
		if err != nil {
			t.Fatalf("line %d: compute: %v", r.line, err)
		}
		got, err := mixed.Compute(context.Background(), req)
		if err != nil {
			t.Fatalf("line %d: compute on shuffled events: %v", r.line, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("line %d: the report depends on arrival order:\nin order: %s\nshuffled: %s", r.line, dump(want), dump(got))
		}
		for _, ex := range r.expects {
			ex.check(t, want)
		}
	}
}

// runView answers a view on both stores, which must agree, and checks its
// table's rows.
func (r request) runView(t *testing.T, inOrder, mixed *kpi.Engine) {
	t.Helper()
	v, _ := kpi.ViewNamed(r.view)
	table := func(e *kpi.Engine) (kpi.Table, string) {
		out, err := v.Compute(context.Background(), e, r.ws, r.values)
		if err != nil {
			t.Fatalf("line %d: view %s: %v", r.line, r.view, err)
		}
		var b strings.Builder
		tab := out.Table()
		if err := kpi.WriteCSV(&b, tab); err != nil {
			t.Fatal(err)
		}
		return tab, b.String()
	}
	tab, want := table(inOrder)
	if _, got := table(mixed); got != want {
		t.Errorf("line %d: the view depends on arrival order:\nin order:\n%s\nshuffled:\n%s", r.line, want, got)
	}
	cell := func(row []any, name string) (string, bool) {
		for i, c := range tab.Columns {
			// A row line writes "_" for a space, so a name or text with
			// an underscore is also written as it is.
			if c.Name == name || c.Header() == name || strings.ReplaceAll(c.Name, "_", " ") == name {
				return kpi.CellText(row[i]), true
			}
		}
		return "", false
	}
	for _, ex := range r.rows {
		if ex.cells == nil {
			if len(tab.Rows) != ex.count {
				t.Errorf("line %d: %d rows, want %d:\n%s", ex.line, len(tab.Rows), ex.count, want)
			}
			continue
		}
		found := false
		for _, row := range tab.Rows {
			match := true
			for k, v := range ex.cells {
				got, ok := cell(row, k)
				if !ok {
					t.Fatalf("line %d: no column %q in %s", ex.line, k, strings.SplitN(want, "\n", 2)[0])
				}
				match = match && (same(got, v) || same(strings.ReplaceAll(got, "_", " "), v))
			}
			found = found || match
		}
		if !found {
			t.Errorf("line %d: no row %v in the view:\n%s", ex.line, ex.cells, want)
		}
	}
}

func (ex expect) check(t *testing.T, rep kpi.Report) {
	t.Helper()
	for _, row := range rep.Rows {
		if !groupMatches(row.Group, ex.group) {
			continue
		}
		for _, v := range row.KPIs {
			if v.ID != ex.id || v.Currency != ex.currency || v.Label != ex.label {
				continue
			}
			for k, want := range ex.fields {
				if got := field(v, k); !same(got, want) {
					t.Errorf("line %d: %s %v: %s = %s, want %s", ex.line, ex.id, ex.group, k, got, want)
				}
			}
			return
		}
	}
	t.Errorf("line %d: no %s (currency %q, label %q) for group %v in the report:\n%s", ex.line, ex.id, ex.currency, ex.label, ex.group, dump(rep))
}

func groupMatches(got map[string]*string, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			return false
		}
		if g == nil {
			if v != "null" {
				return false
			}
		} else if *g != v {
			return false
		}
	}
	return true
}

func field(v kpi.Value, k string) string {
	switch k {
	case "value":
		if v.Value == nil {
			return "null"
		}
		return strconv.FormatFloat(*v.Value, 'f', -1, 64)
	case "numerator":
		return strconv.FormatFloat(v.Numerator, 'f', -1, 64)
	case "denominator":
		return strconv.FormatFloat(v.Denominator, 'f', -1, 64)
	case "rating":
		return string(v.Rating)
	case "reason":
		return v.Reason
	case "unit":
		return string(v.Unit)
	case "change_unit":
		return v.ChangeUnit
	case "band_low", "band_high", "band_best":
		if v.Band == nil {
			return "none"
		}
		x := map[string]*float64{"band_low": v.Band.Low, "band_high": v.Band.High, "band_best": v.Band.Best}[k]
		if x == nil {
			return "null"
		}
		return strconv.FormatFloat(*x, 'f', -1, 64)
	case "band_source":
		if v.Band == nil {
			return "none"
		}
		return v.Band.Source
	case "previous", "change", "last_year", "change_last_year":
		x := map[string]*float64{"previous": v.Previous, "change": v.Change, "last_year": v.LastYear, "change_last_year": v.ChangeLastYear}[k]
		if x == nil {
			return "null"
		}
		return strconv.FormatFloat(*x, 'f', -1, 64)
	}
	return "unknown field " + k
}

// same compares numbers to 1e-9 relative, anything else as text.
func same(got, want string) bool {
	g, err1 := strconv.ParseFloat(got, 64)
	w, err2 := strconv.ParseFloat(want, 64)
	if err1 == nil && err2 == nil {
		return math.Abs(g-w) <= 1e-9*math.Max(1, math.Abs(w))
	}
	return got == want
}

func dump(rep kpi.Report) string {
	var b strings.Builder
	for _, row := range rep.Rows {
		fmt.Fprint(&b, "  group {")
		for k, v := range row.Group {
			if v == nil {
				fmt.Fprintf(&b, "%s:null ", k)
			} else {
				fmt.Fprintf(&b, "%s:%s ", k, *v)
			}
		}
		fmt.Fprintln(&b, "}")
		for _, v := range row.KPIs {
			val := "null"
			if v.Value != nil {
				val = strconv.FormatFloat(*v.Value, 'f', -1, 64)
			}
			fmt.Fprintf(&b, "    %s %s %q value=%s num=%v den=%v rating=%s reason=%s\n", v.ID, v.Currency, v.Label, val, v.Numerator, v.Denominator, v.Rating, v.Reason)
		}
	}
	return b.String()
}

// ratePrice reads a rate card row of a ratecard line:
// category[:type][/country[@market]]=price[;tier=FROM-TO][;free=N].
func ratePrice(f string) (store.RatePrice, error) {
	parts := strings.Split(f, ";")
	key, price, ok := strings.Cut(parts[0], "=")
	if !ok {
		return store.RatePrice{}, fmt.Errorf("rate %q: want category/country=price", f)
	}
	key, country, _ := strings.Cut(key, "/")
	country, market, _ := strings.Cut(country, "@")
	category, typ, _ := strings.Cut(key, ":")
	p := store.RatePrice{Category: category, Type: typ, Country: country, Market: market, Price: price}
	for _, opt := range parts[1:] {
		name, v, _ := strings.Cut(opt, "=")
		var err error
		switch name {
		case "tier":
			lo, hi, _ := strings.Cut(v, "-")
			if p.TierFrom, err = strconv.ParseInt(lo, 10, 64); err == nil && hi != "" {
				p.TierTo, err = strconv.ParseInt(hi, 10, 64)
			}
		case "free":
			p.FreePerNumber, err = strconv.ParseInt(v, 10, 64)
		default:
			err = fmt.Errorf("unknown option %q", name)
		}
		if err != nil {
			return store.RatePrice{}, fmt.Errorf("rate %q: %w", f, err)
		}
	}
	return p, nil
}

// metaEvents reads a meta line: options, then Meta's answer as JSON.
func metaEvents(ws, rest string) ([]event.Event, error) {
	i := strings.Index(rest, "{")
	if i < 0 {
		return nil, fmt.Errorf("meta needs Meta's answer as JSON")
	}
	opts := metaanalytics.Options{Workspace: ws, Templates: map[string]string{}, FetchedAt: time.Unix(0, 0)}
	for _, f := range strings.Fields(rest[:i]) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "currency":
			opts.Currency = v
		case "template":
			id, name, _ := strings.Cut(v, "=")
			opts.Templates[id] = name
		case "fetched":
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return nil, err
			}
			opts.FetchedAt = t
		default:
			return nil, fmt.Errorf("meta: unknown option %q", k)
		}
	}
	res, err := metaanalytics.Parse([]byte(rest[i:]), opts)
	return res.Events, err
}
