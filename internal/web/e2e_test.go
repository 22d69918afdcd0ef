package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/omnikpi/omnikpi/internal/alerts"
	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/demo"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/journal"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
	"github.com/omnikpi/omnikpi/internal/web/browsertest"
)

const (
	workspace = "shop"
	timeZone  = "Asia/Jakarta"
	password  = "correct horse battery"
)

// artifacts is where screenshots go: $OMNIKPI_ARTIFACTS or
// test-artifacts/dashboard at the repository's root.
func artifacts(t *testing.T) string {
	dir := os.Getenv("OMNIKPI_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "test-artifacts", "dashboard")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// load fills a DuckDB file with the demo generator's events for workspace,
// with business hours, a user and alert rules, and evaluates the rules once.
func load(t *testing.T) (store.Store, *kpi.Engine) {
	t.Helper()
	ctx := context.Background()
	s, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "dashboard.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	ws := store.NewWorkspace(workspace)
	ws.TimeZone = timeZone
	ws.BusinessHours = &store.BusinessHours{Open: map[string][]string{
		"mon": {"09:00-17:00"}, "tue": {"09:00-17:00"}, "wed": {"09:00-17:00"}, "thu": {"09:00-17:00"},
		"fri": {"09:00-17:00"}, "sat": {"10:00-14:00"},
	}}
	hash, err := api.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	ws.PutUser(store.User{Name: "alice", PasswordHash: hash})
	day := store.Duration(24 * time.Hour)
	ws.Alerts = []store.AlertRule{
		{ID: "opt-out-spike", Name: "Opt-out rate worse than its band", KPI: "opt_out_rate", Condition: "worse_than_band", Window: 7 * day},
		{ID: "failed-deliveries", Name: "Over 200 failed deliveries in a day", KPI: "messages_failed", Condition: "above", Value: 200, Window: day},
	}
	// A rate card whose price for Indonesia changed ten days ago.
	ws.RateCard = &store.RateCard{Currency: "EUR", Prices: []store.RatePrice{
		{Category: "marketing", Country: "ID", Price: "0.0380"}, {Category: "marketing", Price: "0.0900"},
		{From: time.Now().UTC().AddDate(0, 0, -10).Format(time.DateOnly), Category: "marketing", Country: "ID", Price: "0.0420"},
		{From: time.Now().UTC().AddDate(0, 0, -10).Format(time.DateOnly), Category: "marketing", Price: "0.0900"},
	}}
	if err := s.PutWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}

	// 100 days put the A/B test inside the 90-day preset and the campaign
	// that annoys people inside the last week.
	path := filepath.Join(t.TempDir(), "events.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Generate(ctx, f, demo.Options{Seed: 7, Events: 60_000, Days: 100}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := ingest.OpenFile(path, workspace)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		events, rejected, err := r.Next(20_000)
		if len(rejected) > 0 {
			t.Fatalf("demo events rejected: %v", rejected[0])
		}
		if len(events) > 0 {
			if _, err := s.Insert(ctx, events); err != nil {
				t.Fatal(err)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	engine, err := kpi.New(s)
	if err != nil {
		t.Fatal(err)
	}
	ev := &alerts.Evaluator{Store: s, Engine: engine, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := ev.EvaluateOnce(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	return s, engine
}

// page drives the dashboard in Chromium and reads the API beside it.
type page struct {
	t      *testing.T
	ctx    context.Context
	base   string
	key    string
	shots  string
	render int               // the last view drawn, from #view's data-render
	words  map[string]string // the page's dictionary; nil in English
}

// tr is an English text of the page in the page's language.
func (p *page) tr(text string) string {
	if w := p.words[text]; w != "" {
		return w
	}
	return text
}

// run runs browser actions, each batch within 30 s.
func (p *page) run(actions ...chromedp.Action) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 40*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		p.t.Fatal(err)
	}
}

// fill replaces an input's text by typing value.
func (p *page) fill(sel, value string) {
	p.t.Helper()
	var ok bool
	p.eval(fmt.Sprintf(`(() => { document.querySelector(%q).value = ''; return true; })()`, sel), &ok)
	p.run(chromedp.SendKeys(sel, value, chromedp.ByQuery))
}

func (p *page) eval(js string, v any) {
	p.t.Helper()
	p.run(chromedp.Evaluate(js, v, func(e *runtime.EvaluateParams) *runtime.EvaluateParams { return e.WithAwaitPromise(true) }))
}

// wait waits until the page has drawn view after the last one seen, and
// fails if it shows an error.
func (p *page) wait(view string) {
	p.t.Helper()
	var state struct {
		Render                      int    `json:"render"`
		State                       string `json:"state"`
		View                        string `json:"view"`
		Error                       string `json:"error"`
		LoadMS, DrawMS, SinceOpenMS string
	}
	js := fmt.Sprintf(`(() => { const m = document.querySelector('#view'); const n = +m.dataset.render || 0;
		return n > %d && m.dataset.state !== 'loading' && m.dataset.view === %q ? {render: n, state: m.dataset.state, view: m.dataset.view,
		error: (m.querySelector('.error:not([hidden])') || {}).textContent || '',
		LoadMS: m.dataset.loadMs || '', DrawMS: m.dataset.drawMs || '', SinceOpenMS: m.dataset.sinceOpenMs || ''} : null; })()`, p.render, view)
	p.run(chromedp.Poll(js, &state, chromedp.WithPollingTimeout(30*time.Second)))
	p.render = state.Render
	if view != "signin" {
		// Timings for the record, never asserted: the machines are shared.
		p.t.Logf("timing: %s requests and build %s ms, drawing %s ms, %s ms since the page opened", view, state.LoadMS, state.DrawMS, state.SinceOpenMS)
	}
	if state.State == "error" && view != "signin" {
		p.t.Fatalf("view %s shows an error: %s", view, state.Error)
	}
}

func (p *page) click(sel string) {
	p.t.Helper()
	p.run(chromedp.Click(sel, chromedp.ByQuery))
}

// choose picks a value of a select, once the option is there, as a person
// would.
func (p *page) choose(sel, value string) {
	p.t.Helper()
	var ok bool
	p.run(chromedp.Poll(fmt.Sprintf(`!!document.querySelector(%q + ' option[value="%s"]')`, sel, value), &ok, chromedp.WithPollingTimeout(20*time.Second)))
	p.eval(fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, sel, value), &ok)
}

func (p *page) shot(name string) {
	p.t.Helper()
	var png []byte
	p.run(chromedp.FullScreenshot(&png, 100))
	if err := os.WriteFile(filepath.Join(p.shots, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// chartsJS counts the charts of the view and lists those that do not draw
// a mark for each of their values (data-marks): a sparkline's points on
// its line or as dots, a bar's rectangle (with a width when its value is
// not zero), a heat map's cells.
const chartsJS = `(() => {
	const out = {count: 0, problems: []};
	for (const svg of document.querySelectorAll('#view svg.spark, #view svg.bars, #view svg.columns, #view svg.heat')) {
		out.count++;
		const kind = svg.classList[0], name = kind + ' "' + (svg.getAttribute('aria-label') || '') + '"';
		if (svg.dataset.marks === undefined) { out.problems.push(name + ' has no data-marks'); continue; }
		const want = +svg.dataset.marks;
		const box = svg.getBoundingClientRect();
		if (want > 0 && (box.width < 10 || box.height < 10)) out.problems.push(name + ' is drawn ' + box.width + ' x ' + box.height + ' px');
		let got = 0;
		if (kind === 'spark') {
			const d = (svg.querySelector('path.spark-line') || {getAttribute: () => ''}).getAttribute('d') || '';
			for (const part of d.split('M').slice(1)) { const n = part.split('L').length; if (n >= 2) got += n; }
			got += svg.querySelectorAll('circle.spark-point').length;
		} else if (kind === 'bars' || kind === 'columns') {
			for (const r of svg.querySelectorAll('g.bar > rect')) {
				got++;
				if (+r.dataset.value > 0 && !(r.getBoundingClientRect().width > 0)) out.problems.push(name + ': a bar of ' + r.dataset.value + ' has no width');
			}
		} else {
			got = svg.querySelectorAll('g.cell > rect').length;
		}
		if (got !== want) out.problems.push(name + ' draws ' + got + ' marks for ' + want + ' values');
	}
	const text = document.querySelector('#view').textContent;
	if (text.includes('[object ')) out.problems.push('the view shows ' + text.slice(text.indexOf('[object '), text.indexOf('[object ') + 20));
	return out;
})()`

// layoutJS lists what is wider than its card or panel: an element that
// sticks out of it, content wider than its element, and, unless on a
// phone (arg), a table or heat map that needs scrolling. On a phone those
// scroll sideways within their panel, which is allowed.
const layoutJS = `((phone) => {
	const problems = [];
	const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
		(typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\s+/).join('.') : '') +
		' "' + (e.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 40) + '"';
	for (const box of document.querySelectorAll('#view .panel, #view .card')) {
		const b = box.getBoundingClientRect();
		const where = (box.dataset.panel ? 'panel ' + box.dataset.panel : 'card ' + (box.dataset.card || '')) + ' (' + Math.round(b.width) + ' px)';
		for (const e of box.querySelectorAll('*')) {
			if (e.parentElement.closest('.panel, .card') !== box) continue;
			const scroller = e.parentElement.closest('.table-wrap, .scroll');
			if (scroller && box.contains(scroller)) continue;
			const svg = e instanceof SVGElement && e.tagName !== 'svg' ? e.closest('svg') : null;
			const r = e.getBoundingClientRect();
			if (r.width === 0 && r.height === 0) continue;
			const o = svg ? svg.getBoundingClientRect() : b;
			if (r.left < o.left - 1 || r.right > o.right + 1) {
				problems.push(name(e) + ' spans ' + Math.round(r.left - b.left) + '..' + Math.round(r.right - b.left) + ' px of ' + (svg ? 'its chart in ' : '') + where);
				continue;
			}
			if (e instanceof SVGElement || getComputedStyle(e).display === 'inline' || e.scrollWidth <= e.clientWidth + 1) continue;
			if (getComputedStyle(e).overflowX === 'visible') problems.push(name(e) + ' holds ' + e.scrollWidth + ' px in ' + e.clientWidth + ' px of ' + where);
			else if (!phone) problems.push(name(e) + ' scrolls: ' + e.scrollWidth + ' px in ' + e.clientWidth + ' px of ' + where);
		}
	}
	const page = document.documentElement;
	if (page.scrollWidth > page.clientWidth) problems.push('the page is ' + (page.scrollWidth - page.clientWidth) + ' px wider than the window');
	return problems;
})`

// checkUnclosed compares the page of unclosed conversations with the API's:
// the page asked for offset, the rows in the API's order (the longest
// waiting first), each age, and the total.
func (p *page) checkUnclosed(offset int) {
	p.t.Helper()
	src := p.src("unclosed")
	checkQuery(p.t, src, map[string]string{"limit": "25", "offset": strconv.Itoa(offset)})
	// Ages grow by the second: ask for them at the moment the page's were.
	var at string
	p.eval(`(document.querySelector('[data-panel=unclosed] [data-at]') || {dataset: {}}).dataset.at || ''`, &at)
	if at == "" {
		p.t.Error("the unclosed conversations do not say when their ages were measured")
	}
	src += "&at=" + url.QueryEscape(at)
	var res struct {
		Total         int
		Conversations []struct {
			Conversation string
			Age          float64 `json:"age_seconds"`
		}
	}
	p.getJSON(src, &res)
	rows := p.figures("[data-table=unclosed] td[data-kpi=age_seconds]")
	if len(rows) != len(res.Conversations) || len(rows) == 0 {
		p.t.Errorf("%d unclosed rows from %d, API %d", len(rows), offset, len(res.Conversations))
	}
	for i := range min(len(rows), len(res.Conversations)) {
		c := res.Conversations[i]
		if rows[i].Row != c.Conversation || !same(rows[i].Value, num(c.Age)) || !strings.HasPrefix(rows[i].Text, "waiting ") {
			p.t.Errorf("unclosed row %d: %s %s %q, API %s %v", offset+i, rows[i].Row, rows[i].Value, rows[i].Text, c.Conversation, c.Age)
			break
		}
		if i > 0 && c.Age > res.Conversations[i-1].Age {
			p.t.Errorf("unclosed row %d waits %v s, longer than the one before it", offset+i, c.Age)
		}
	}
	if title := p.text("[data-panel=unclosed] h2"); !strings.Contains(title, "("+strconv.Itoa(res.Total)+")") && !strings.Contains(title, fmt.Sprintf("(%s)", thousands(res.Total))) {
		p.t.Errorf("the unclosed panel says %q, API total %d", title, res.Total)
	}
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// checkConversationCharts compares the conversations by day and by hour of
// the day with the API's.
func (p *page) checkConversationCharts() {
	p.t.Helper()
	var daily struct {
		Rows []struct {
			Group map[string]*string
			KPIs  []entry `json:"kpis"`
		}
	}
	p.getJSON(p.src("daily"), &daily)
	var dayNodes []struct{ Day, Value string }
	p.eval(`[...document.querySelectorAll('[data-panel=daily] g.bar')].map(g => ({day: g.dataset.day, value: g.dataset.value}))`, &dayNodes)
	shown := map[string]string{}
	for _, d := range dayNodes {
		shown[d.Day] = d.Value
	}
	total := 0.0
	for _, r := range daily.Rows {
		for _, k := range r.KPIs {
			if k.ID != "conversations" || k.Label != "" || r.Group["bucket"] == nil || k.Value == nil {
				continue
			}
			day := (*r.Group["bucket"])[:10]
			total += *k.Value
			if !same(shown[day], k.Value) {
				p.t.Errorf("conversations on %s = %q, API %v", day, shown[day], *k.Value)
			}
		}
	}
	if total == 0 {
		p.t.Error("no conversations by day")
	}
	var hours struct {
		Hours []struct {
			Hour          int
			Conversations float64
			Average       *float64
		}
	}
	p.getJSON(p.src("hours"), &hours)
	var hourNodes []struct{ Hour, Value, Count string }
	p.eval(`[...document.querySelectorAll('[data-panel=hours] g.bar')].map(g => ({hour: g.dataset.hour, value: g.dataset.value, count: g.dataset.count}))`, &hourNodes)
	if len(hourNodes) != 24 || len(hours.Hours) != 24 {
		p.t.Fatalf("%d hours drawn, API %d", len(hourNodes), len(hours.Hours))
	}
	for i, h := range hours.Hours {
		if hourNodes[i].Hour != strconv.Itoa(h.Hour) || !same(hourNodes[i].Value, h.Average) || !same(hourNodes[i].Count, num(h.Conversations)) {
			p.t.Errorf("hour %d drawn %+v, API %v conversations, %s a day", h.Hour, hourNodes[i], h.Conversations, show(h.Average))
		}
	}
}

// checkView checks that the view draws at least charts charts, each with
// its marks, and that nothing in it is wider than its card or panel.
func (p *page) checkView(view string, charts int, phone bool) {
	p.t.Helper()
	var res struct {
		Count    int
		Problems []string
	}
	p.eval(chartsJS, &res)
	if res.Count < charts {
		p.t.Errorf("%s draws %d charts, want %d or more", view, res.Count, charts)
	}
	for _, s := range res.Problems {
		p.t.Errorf("%s: %s", view, s)
	}
	var layout []string
	p.eval(fmt.Sprintf("%s(%v)", layoutJS, phone), &layout)
	width := "1440 px"
	if phone {
		width = "a phone"
	}
	for i, s := range layout {
		if i == 10 {
			p.t.Errorf("%s at %s: and %d more", view, width, len(layout)-i)
			break
		}
		p.t.Errorf("%s at %s: %s", view, width, s)
	}
}

// query is the page's URL query.
func (p *page) query() url.Values {
	p.t.Helper()
	var s string
	p.eval(`location.search`, &s)
	q, err := url.ParseQuery(strings.TrimPrefix(s, "?"))
	if err != nil {
		p.t.Fatal(err)
	}
	return q
}

// src is the API URL a panel's figures came from.
func (p *page) src(panel string) string {
	p.t.Helper()
	var s string
	p.eval(fmt.Sprintf(`(document.querySelector('[data-panel=%q]') || {dataset: {}}).dataset.src || ''`, panel), &s)
	if s == "" {
		p.t.Fatalf("panel %s has no data-src", panel)
	}
	return s
}

// figure is one figure on the page: its data-kpi, data-value and where
// it is.
type figure struct {
	KPI      string `json:"kpi"`
	Value    string `json:"value"`
	Currency string `json:"currency"`
	Row      string `json:"row"`
	Col      string `json:"col"`
	Text     string `json:"text"`
}

func (p *page) figures(sel string) []figure {
	p.t.Helper()
	var out []figure
	p.eval(fmt.Sprintf(`[...document.querySelectorAll(%q)].map(e => ({kpi: e.dataset.kpi || '', value: e.dataset.value ?? '',
		currency: e.dataset.currency || '', row: e.dataset.row ?? ((e.closest('[data-row]') || {dataset: {}}).dataset.row || ''),
		col: e.dataset.col || '', text: e.textContent.trim()}))`, sel), &out)
	return out
}

func (p *page) text(sel string) string {
	p.t.Helper()
	var s string
	p.eval(fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ''`, sel), &s)
	return strings.TrimSpace(s)
}

// get reads an API URL with the key, failing on anything but 200.
func (p *page) get(path string) []byte {
	p.t.Helper()
	req, _ := http.NewRequest("GET", p.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+p.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		p.t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	return b
}

func (p *page) getJSON(path string, v any) {
	p.t.Helper()
	if err := json.Unmarshal(p.get(path), v); err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
}

// same tells whether a data-value equals the API's number (both absent
// when the API gives null).
func same(page string, want *float64) bool {
	if want == nil {
		return page == ""
	}
	got, err := strconv.ParseFloat(page, 64)
	return err == nil && got == *want
}

func num(v float64) *float64 { return &v }

func show(v *float64) string {
	if v == nil {
		return "null"
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

// entry is a KPI of a report.
type entry struct {
	ID         string   `json:"id"`
	Value      *float64 `json:"value"`
	Currency   string   `json:"currency"`
	Label      string   `json:"label"`
	Rating     string   `json:"rating"`
	Previous   *float64 `json:"previous"`
	Change     *float64 `json:"change"`
	ChangeUnit string   `json:"change_unit"`
}

type report struct {
	From, To string
	Rows     []struct {
		Group map[string]*string `json:"group"`
		KPIs  []entry            `json:"kpis"`
	} `json:"rows"`
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// checkQuery checks that an API URL the page used carries the filters.
func checkQuery(t *testing.T, src string, want map[string]string) url.Values {
	t.Helper()
	u, err := url.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s: %s = %q, want %q", src, k, q.Get(k), v)
		}
	}
	return q
}

// period is the date range of a preset of days in the workspace's zone:
// from and to, exclusive, as dates.
func period(days int) (string, string) {
	loc, _ := time.LoadLocation(timeZone)
	now := time.Now().In(loc)
	to := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	return to.AddDate(0, 0, -days).Format(time.DateOnly), to.Format(time.DateOnly)
}

// checkCards compares the KPI cards under sel with the report at src.
func (p *page) checkCards(sel, src string) map[string]*float64 {
	p.t.Helper()
	var rep report
	p.getJSON(src, &rep)
	want := map[string]entry{}
	for _, e := range rep.Rows[0].KPIs {
		if e.Label == "" {
			want[e.ID+"|"+e.Currency] = e
		}
	}
	got := p.figures(sel + " .value[data-kpi]")
	if len(got) != len(want) {
		p.t.Errorf("%s: %d cards, the API has %d figures", sel, len(got), len(want))
	}
	values := map[string]*float64{}
	for _, f := range got {
		e, ok := want[f.KPI+"|"+f.Currency]
		if !ok {
			p.t.Errorf("card %s %s is not in the API's answer", f.KPI, f.Currency)
			continue
		}
		values[f.KPI+"|"+f.Currency] = e.Value
		if !same(f.Value, e.Value) {
			p.t.Errorf("card %s %s = %q (%s), API %s", f.KPI, f.Currency, f.Value, f.Text, show(e.Value))
		}
	}
	changes, changeTexts := map[string]string{}, map[string]string{}
	for _, f := range p.figures(sel + " [data-kpi$='.change']") {
		changes[strings.TrimSuffix(f.KPI, ".change")+"|"+f.Currency] = f.Value
		changeTexts[strings.TrimSuffix(f.KPI, ".change")+"|"+f.Currency] = f.Text
	}
	ratings := map[string]string{}
	var list []struct{ Card, Currency, Rating string }
	p.eval(fmt.Sprintf(`[...document.querySelectorAll(%q)].map(c => ({card: c.dataset.card, currency: c.dataset.currency || '',
		rating: (c.querySelector('[data-rating]') || {dataset: {}}).dataset.rating || ''}))`, sel+" [data-card]"), &list)
	for _, c := range list {
		ratings[c.Card+"|"+c.Currency] = c.Rating
	}
	for k, e := range want {
		if e.Change != nil {
			if v, ok := changes[k]; ok && !same(v, e.Change) {
				p.t.Errorf("change of %s = %q, API %s", k, v, show(e.Change))
			}
			// Rates and scores change in points, the rest in percent.
			suffix := map[string]string{"points": strings.TrimPrefix(p.tr("{n} pts"), "{n}"), "percent": " %"}[e.ChangeUnit]
			if text, ok := changeTexts[k]; ok && (suffix == "" || !strings.HasSuffix(text, suffix)) {
				p.t.Errorf("change of %s reads %q, API in %q", k, text, e.ChangeUnit)
			}
			if id := strings.Split(k, "|")[0]; (id == "nps" || id == "csat" || id == "open_rate") && e.ChangeUnit != "points" {
				p.t.Errorf("change of %s in %q, want points", id, e.ChangeUnit)
			}
		}
		if r, ok := ratings[k]; ok && r != e.Rating {
			p.t.Errorf("rating of %s = %q, API %q", k, r, e.Rating)
		}
	}
	return values
}

// checkTable compares a table's KPI cells with a report grouped by dims.
func (p *page) checkTable(table, src string, dims ...string) {
	p.t.Helper()
	var rep report
	p.getJSON(src, &rep)
	cells := map[string]string{}
	rows := map[string]bool{}
	for _, f := range p.figures(fmt.Sprintf("[data-table=%q] td[data-kpi]", table)) {
		cells[f.Row+"|"+f.KPI] = f.Value
		rows[f.Row] = true
	}
	if len(rows) != len(rep.Rows) {
		p.t.Errorf("table %s has %d rows, the API %d", table, len(rows), len(rep.Rows))
	}
	compared := 0
	for _, r := range rep.Rows {
		var key []string
		for _, d := range dims {
			key = append(key, str(r.Group[d]))
		}
		row := strings.Join(key, "/")
		for _, e := range r.KPIs {
			if e.Label != "" || e.Currency != "" {
				continue
			}
			v, ok := cells[row+"|"+e.ID]
			if !ok {
				p.t.Errorf("table %s: no cell for %s %s", table, row, e.ID)
				continue
			}
			compared++
			if !same(v, e.Value) {
				p.t.Errorf("table %s: %s %s = %q, API %s", table, row, e.ID, v, show(e.Value))
			}
		}
	}
	if compared == 0 {
		p.t.Errorf("table %s: no figure compared", table)
	}
}

// checkAds compares the ads and clicks tables with the API's: each ad's
// chats, conversations, free-entry-point messages, orders and revenue,
// and each button's and link's clicks.
func (p *page) checkAds() {
	p.t.Helper()
	var ads struct {
		Ads []struct {
			AdID                   *string `json:"ad_id"`
			Leads, Conversations   float64
			FreeEntryPointMessages float64 `json:"free_entry_point_messages"`
			Orders                 float64
			Revenue                []struct {
				Currency string
				Revenue  float64
			}
		}
	}
	p.getJSON(p.src("ads"), &ads)
	cells := map[string]string{}
	for _, f := range p.figures("[data-table=ads] td[data-kpi]") {
		cells[f.Row+"|"+f.KPI] = f.Value
	}
	orders := 0.0
	for _, a := range ads.Ads {
		id := str(a.AdID)
		want := map[string]*float64{"leads": num(a.Leads), "conversations": num(a.Conversations),
			"free_entry_point_messages": num(a.FreeEntryPointMessages), "orders": num(a.Orders), "revenue": nil}
		if len(a.Revenue) > 0 {
			want["revenue"] = num(a.Revenue[0].Revenue)
		}
		for k, v := range want {
			if got, ok := cells[id+"|"+k]; !ok || !same(got, v) {
				p.t.Errorf("ad %s: %s = %q, API %s", id, k, got, show(v))
			}
		}
		orders += a.Orders
	}
	if len(ads.Ads) == 0 || orders == 0 {
		p.t.Errorf("the ads table has %d ads and %v orders: the demo's chats from ads and their orders are missing", len(ads.Ads), orders)
	}
	var clicks struct {
		Rows []struct {
			Kind                                        string
			Label, Payload, Channel, Campaign, Template *string
			Total, Unique                               float64
		}
	}
	p.getJSON(p.src("clicks"), &clicks)
	cells = map[string]string{}
	for _, f := range p.figures("[data-table=clicks] td[data-kpi]") {
		cells[f.Row+"|"+f.KPI] = f.Value
	}
	shown := 0
	for _, r := range clicks.Rows {
		row := strings.Join([]string{r.Kind, str(r.Label), str(r.Payload), str(r.Channel), str(r.Campaign), str(r.Template)}, "|")
		if _, ok := cells[row+"|total"]; !ok {
			continue // past the rows the table shows
		}
		shown++
		for k, v := range map[string]float64{"total": r.Total, "unique": r.Unique} {
			if got := cells[row+"|"+k]; !same(got, &v) {
				p.t.Errorf("clicks of %s: %s = %q, API %v", row, k, got, v)
			}
		}
		if r.Label == nil {
			p.t.Errorf("clicks of %s name no button or link", row)
		}
	}
	if shown == 0 || shown != min(50, len(clicks.Rows)) {
		p.t.Errorf("the clicks table shows %d of the API's %d rows", shown, len(clicks.Rows))
	}
}

// checkCosts compares the messaging cost table with the API's breakdown:
// a row per campaign, template, category, type and country, its counts
// and cost.
func (p *page) checkCosts() {
	p.t.Helper()
	var rep struct {
		Rows []map[string]any `json:"rows"`
	}
	p.getJSON(p.src("costs"), &rep)
	cells := map[string]string{}
	for _, f := range p.figures("[data-table=costs] td[data-kpi]") {
		cells[f.Row+"|"+f.KPI] = f.Value
	}
	priced := 0
	for _, r := range rep.Rows {
		text := func(k string) string { s, _ := r[k].(string); return s }
		row := strings.Join([]string{text("campaign"), text("template"), text("category"), text("pricing_type"), text("country"), text("currency")}, "|")
		for _, k := range []string{"delivered", "paid", "free", "cost", "cost_per_delivered"} {
			var want *float64
			if v, ok := r[k].(float64); ok {
				want = &v
			}
			if got, ok := cells[row+"|"+k]; !ok || !same(got, want) {
				p.t.Errorf("messaging cost of %s: %s = %q, API %s", row, k, got, show(want))
			}
		}
		if _, ok := r["cost"].(float64); ok {
			priced++
		}
	}
	if len(rep.Rows) == 0 || priced == 0 {
		p.t.Errorf("the messaging cost table has %d rows, %d priced", len(rep.Rows), priced)
	}
}

// checkEconomics compares the campaign economics table with the API's
// report by campaign: the message funnel's counts, and per currency the
// spend and revenue (ROCS's terms), ROCS and cost per conversion.
func (p *page) checkEconomics() {
	p.t.Helper()
	var rep struct {
		Rows []struct {
			Group map[string]*string `json:"group"`
			KPIs  []struct {
				ID                     string
				Value                  *float64
				Numerator, Denominator float64
				Currency, Label        string
			} `json:"kpis"`
		} `json:"rows"`
	}
	p.getJSON(p.src("economics"), &rep)
	cells := map[string]string{}
	texts := map[string]string{}
	for _, f := range p.figures("[data-table=economics] td[data-kpi]") {
		cells[f.Row+"|"+f.KPI] = f.Value
		texts[f.Row+"|"+f.KPI] = f.Text
	}
	check := func(row, kpi string, want *float64) {
		if v, ok := cells[row+"|"+kpi]; !ok || !same(v, want) {
			p.t.Errorf("economics of %s: %s = %q, API %s", row, kpi, v, show(want))
		}
	}
	rows, spent := 0, 0
	for _, r := range rep.Rows {
		campaign := str(r.Group["campaign"])
		if campaign == "" {
			continue
		}
		var sent *float64
		converted := 0.0
		var money []int
		messaging := map[string]*float64{}
		for i, k := range r.KPIs {
			switch {
			case k.Label != "":
			case k.ID == "messages_sent":
				sent = k.Value
			case k.ID == "campaign_conversion_rate":
				converted = k.Numerator
			case k.ID == "rocs" && k.Currency != "":
				money = append(money, i)
			case k.ID == "messaging_cost" && k.Currency != "":
				messaging[k.Currency] = k.Value
			}
		}
		if len(money) == 0 {
			rows++
			check(campaign+"|", "sent", sent)
			continue
		}
		for _, i := range money {
			k := r.KPIs[i]
			row := campaign + "|" + k.Currency
			rows++
			check(row, "sent", sent)
			check(row, "converted", num(converted))
			// No spend recorded is shown as none, and so is its cost per
			// conversion.
			var spend, cpc *float64
			if k.Denominator > 0 {
				spend = num(k.Denominator)
				if converted > 0 {
					cpc = num(k.Denominator / converted)
				}
			}
			check(row, "spend", spend)
			check(row, "revenue", num(k.Numerator))
			check(row, "rocs", k.Value)
			check(row, "messaging", messaging[k.Currency])
			check(row, "cpc", cpc)
			if k.Denominator > 0 {
				spent++
			}
			if sent != nil && *sent > 0 && (texts[row+"|first"] == "" || texts[row+"|first"] == "—") {
				p.t.Errorf("economics of %s: no send date for %v messages", row, *sent)
			}
		}
	}
	if rows == 0 || len(cells) == 0 {
		p.t.Errorf("the economics table shows %d cells for %d campaign rows", len(cells), rows)
	}
	p.t.Logf("campaign economics: %d rows, %d with spend", rows, spent)
}

func TestDashboard_EndToEnd(t *testing.T) {
	exec := browsertest.Chromium(t)
	shots := artifacts(t)
	s, engine := load(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ingester, err := journal.OpenIngester(t.TempDir(), s, log, journal.Options{}, journal.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// As serve does: the overview's answers computed ahead, the work
	// stopped and waited for before the store closes.
	var warming sync.WaitGroup
	defer warming.Wait()
	warmCtx, stopWarming := context.WithCancel(context.Background())
	defer stopWarming()
	srv := httptest.NewServer(api.New(s, ingester, engine, log, api.Options{Journal: ingester.Journal(), Background: warmCtx, BackgroundDone: &warming}))
	t.Cleanup(func() {
		srv.Close()
		ingester.Close(time.Minute)
	})
	plain, key := api.NewKey(workspace)
	if err := s.AddKey(context.Background(), key); err != nil {
		t.Fatal(err)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exec),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.UserDataDir(browsertest.ProfileDir(t)),
		chromedp.WindowSize(1440, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 6*time.Minute)
	defer cancelTimeout()
	// Start the browser on the tab's own context: a derived one with a
	// timeout would take the browser with it when it ends.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatal(err)
	}
	var jsErrors []string
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			jsErrors = append(jsErrors, e.ExceptionDetails.Error())
		}
	})
	p := &page{t: t, ctx: ctx, base: srv.URL, key: plain, shots: shots}
	from30, to30 := period(30)
	// Each step goes on from where the last left the browser: the first
	// to fail ends the test.
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}

	step("a wrong key is refused", func(t *testing.T) {
		p.t = t
		p.run(chromedp.Navigate(srv.URL + "/"))
		p.wait("signin")
		p.fill("#key", "ok_notakey")
		p.click("#key-submit")
		var msg string
		p.run(chromedp.Poll(`(e => e && !e.hidden && e.textContent)(document.querySelector('#signin-error'))`, &msg, chromedp.WithPollingTimeout(10*time.Second)))
		if !strings.Contains(strings.ToLower(msg), "unknown api key") {
			t.Errorf("error shown = %q", msg)
		}
		var view string
		p.eval(`document.querySelector('#view').dataset.view + (document.querySelector('#nav').hidden ? '' : '+nav')`, &view)
		if view != "signin" {
			t.Errorf("after a wrong key the page is %q, want the sign-in page alone", view)
		}
		p.shot("01-signin-wrong-key")
	})

	step("sign in and the overview", func(t *testing.T) {
		p.t = t
		p.fill("#key", plain)
		p.click("#key-submit")
		p.wait("overview")
		if tz := p.text("#who-tz"); tz != timeZone {
			t.Errorf("time zone shown = %q, want %s", tz, timeZone)
		}
		if ws := p.text("#who-name"); ws != workspace {
			t.Errorf("workspace shown = %q", ws)
		}
		src := p.src("overview")
		checkQuery(t, src, map[string]string{"from": from30, "to": to30, "compare": "previous", "channel": ""})
		values := p.checkCards("[data-panel=overview]", src)
		for _, id := range []string{"messages_sent|", "open_rate|", "ctr|", "aov|EUR", "first_response_time|", "nps|"} {
			if _, ok := values[id]; !ok {
				t.Errorf("no card for %s", id)
			}
		}
		var sparks int
		p.eval(`document.querySelectorAll('[data-panel=overview] svg.spark path.spark-line').length`, &sparks)
		if sparks < len(values)/2 {
			t.Errorf("%d sparklines for %d cards", sparks, len(values))
		}
		p.checkView("overview", 6, false)
		p.shot("02-overview")
	})

	step("filters change the URL and the figures", func(t *testing.T) {
		p.t = t
		var before report
		p.getJSON(p.src("overview"), &before)
		p.click("[data-days='7']")
		p.wait("overview")
		if q := p.query(); q.Get("days") != "7" {
			t.Errorf("after the 7-day preset the URL is ?%s", q.Encode())
		}
		from7, to7 := period(7)
		src := p.src("overview")
		checkQuery(t, src, map[string]string{"from": from7, "to": to7})
		week := p.checkCards("[data-panel=overview]", src)

		p.choose("select[data-filter=channel]", "whatsapp")
		p.wait("overview")
		q := p.query()
		if q.Get("channel") != "whatsapp" || q.Get("days") != "7" {
			t.Errorf("after choosing a channel the URL is ?%s", q.Encode())
		}
		src = p.src("overview")
		checkQuery(t, src, map[string]string{"from": from7, "to": to7, "channel": "whatsapp"})
		whatsapp := p.checkCards("[data-panel=overview]", src)
		if w, a := whatsapp["messages_sent|"], week["messages_sent|"]; w == nil || a == nil || *w >= *a {
			t.Errorf("messages sent on whatsapp %s, on every channel %s: the filter did not narrow", show(w), show(a))
		}
		p.checkView("overview", 6, false)
		p.shot("03-overview-7-days-whatsapp")

		// The URL alone gives the same view: a shared link.
		shared := p.base + "/?" + q.Encode()
		p.run(chromedp.Navigate(shared))
		p.render = 0
		p.wait("overview")
		if got := p.src("overview"); got != src {
			t.Errorf("the shared link asks %s, the page asked %s", got, src)
		}
		if v := p.text("select[data-filter=channel] option:checked"); v != "whatsapp" {
			t.Errorf("the shared link shows channel %q", v)
		}

		// Money in one currency: the API and the page leave out the others.
		p.choose("select[data-filter=currency]", "EUR")
		p.wait("overview")
		if q := p.query(); q.Get("currency") != "EUR" {
			t.Errorf("after choosing a currency the URL is ?%s", q.Encode())
		}
		if src := p.src("overview"); !strings.Contains(src, "currency=EUR") {
			t.Errorf("the overview asks the API %s, without the currency", src)
		}
		money := 0
		for _, f := range p.figures("[data-panel=overview] .value[data-currency]") {
			money++
			if f.Currency != "EUR" {
				t.Errorf("card %s in %s shown with the EUR filter", f.KPI, f.Currency)
			}
		}
		if money == 0 {
			t.Error("no money card in EUR")
		}

		// One class of messages: the cards count agent and bot replies,
		// fewer than every message but some.
		p.choose("select[data-filter=class]", "conversation")
		p.wait("overview")
		if q := p.query(); q.Get("class") != "conversation" {
			t.Errorf("after choosing a class the URL is ?%s", q.Encode())
		}
		src = p.src("overview")
		checkQuery(t, src, map[string]string{"channel": "whatsapp", "class": "conversation"})
		replies := p.checkCards("[data-panel=overview]", src)
		if r, w := replies["messages_sent|"], whatsapp["messages_sent|"]; r == nil || w == nil || *r == 0 || *r >= *w {
			t.Errorf("replies sent on whatsapp %s, every message %s: the class filter did not narrow", show(r), show(w))
		}
		p.checkView("overview", 1, false)
		p.shot("03b-overview-replies")

		// A range of dates typed in: to is inclusive on the page and
		// exclusive in the API.
		p.click("a.clear")
		p.wait("overview")
		if q := p.query(); q.Get("channel") != "" || q.Get("days") != "" || q.Get("currency") != "" || q.Get("class") != "" {
			t.Errorf("after Clear the URL is ?%s", q.Encode())
		}
		var ok bool
		p.eval(`(() => { const f = document.querySelector('[data-filter=from]'), t = document.querySelector('[data-filter=to]');
			f.value = '`+from7+`'; t.value = '`+from7+`'; t.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, &ok)
		p.wait("overview")
		day := time.Now().Format(time.DateOnly)
		if d, err := time.Parse(time.DateOnly, from7); err == nil {
			day = d.AddDate(0, 0, 1).Format(time.DateOnly)
		}
		if q := p.query(); q.Get("from") != from7 || q.Get("to") != day {
			t.Errorf("after typing one day the URL is ?%s", q.Encode())
		}
		src = p.src("overview")
		checkQuery(t, src, map[string]string{"from": from7, "to": day})
		p.checkCards("[data-panel=overview]", src)

		p.click("a.clear")
		p.wait("overview")
		if q := p.query(); q.Get("from") != "" || q.Get("to") != "" {
			t.Errorf("after Clear the URL is ?%s", q.Encode())
		}
	})

	step("campaigns, sorting, drill-down and CSV", func(t *testing.T) {
		p.t = t
		p.click("a[data-nav=campaigns]")
		p.wait("campaigns")
		src := p.src("campaigns")
		checkQuery(t, src, map[string]string{"from": from30, "to": to30, "group_by": "campaign,template"})
		p.checkTable("campaigns", src, "campaign", "template")
		// Both charts draw a bar per campaign, not the text of objects.
		for _, chart := range []string{"ctr", "open"} {
			var marks int
			var text string
			p.eval(fmt.Sprintf(`document.querySelectorAll('[data-panel=%s] svg.bars rect').length`, chart), &marks)
			p.eval(fmt.Sprintf(`document.querySelector('[data-panel=%s]').textContent`, chart), &text)
			if marks == 0 || strings.Contains(text, "[object Object]") {
				t.Errorf("the %s chart of campaigns draws %d bars: %q", chart, marks, text)
			}
		}
		p.checkEconomics()
		p.checkCosts()
		p.checkView("campaigns", 2, false)
		p.shot("04-campaigns")

		// Sorting by CTR, highest first.
		var idx int
		p.eval(`[...document.querySelectorAll('[data-table=campaigns] thead th')].findIndex(th => th.textContent.startsWith('Click-through'))`, &idx)
		if idx < 0 {
			t.Fatal("no click-through rate column")
		}
		p.click(fmt.Sprintf("[data-table=campaigns] thead th:nth-child(%d) button", idx+1))
		var ctr []float64
		for _, f := range p.figures("[data-table=campaigns] td[data-kpi=ctr]") {
			if v, err := strconv.ParseFloat(f.Value, 64); err == nil {
				ctr = append(ctr, v)
			}
		}
		if len(ctr) < 2 || !sort.IsSorted(sort.Reverse(sort.Float64Slice(ctr))) {
			t.Errorf("CTR after sorting = %v, want highest first", ctr)
		}

		// CSV: Chromium downloads the table's link; the file is the API's
		// CSV for the same query and holds the JSON's figures.
		var href string
		p.eval(`document.querySelector('[data-panel=campaigns] a[data-csv]').getAttribute('href')`, &href)
		// It names its workspace: a download carries no header.
		if want := src + "&format=csv&workspace=" + workspace; href != want {
			t.Errorf("CSV link = %s, want %s", href, want)
		}
		downloads := t.TempDir()
		done := make(chan string, 1)
		chromedp.ListenTarget(ctx, func(ev any) {
			if e, ok := ev.(*browser.EventDownloadProgress); ok && e.State == browser.DownloadProgressStateCompleted {
				select {
				case done <- e.GUID:
				default:
				}
			}
		})
		p.run(browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllowAndName).WithDownloadPath(downloads).WithEventsEnabled(true))
		p.click("[data-panel=campaigns] a[data-csv]")
		var file []byte
		select {
		case guid := <-done:
			var err error
			if file, err = os.ReadFile(filepath.Join(downloads, guid)); err != nil {
				t.Fatal(err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the CSV was not downloaded")
		}
		if api := p.get(href); !bytes.Equal(file, api) {
			t.Errorf("downloaded CSV differs from the API's:\n%s\n---\n%s", file, api)
		}
		checkCSV(t, file, p, src)

		// Drill-down to the recipients and failures of the newest campaign.
		var rep report
		p.getJSON(src, &rep)
		var campaign, template string
		for _, r := range rep.Rows {
			if r.Group["campaign"] != nil {
				campaign, template = *r.Group["campaign"], str(r.Group["template"])
				break
			}
		}
		if campaign == "" {
			t.Fatal("no campaign in the last 30 days")
		}
		p.click(fmt.Sprintf(`[data-table=campaigns] tr[data-row="%s/%s"] a[data-drill]`, campaign, template))
		p.wait("recipients")
		if q := p.query(); q.Get("campaign") != campaign || q.Get("template") != template {
			t.Errorf("drill-down URL ?%s, want campaign %s template %s", q.Encode(), campaign, template)
		}
		var fails struct {
			Sent, Failed int
			Reasons      []struct {
				Code     string
				Messages int
			}
		}
		fsrc := p.src("failures")
		checkQuery(t, fsrc, map[string]string{"campaign": campaign, "from": from30, "to": to30})
		p.getJSON(fsrc, &fails)
		got := map[string]string{}
		for _, f := range p.figures("[data-panel=failures] [data-kpi]") {
			got[f.Row+"|"+f.KPI] = f.Value
		}
		if got["|failed"] != strconv.Itoa(fails.Failed) || got["|sent"] != strconv.Itoa(fails.Sent) {
			t.Errorf("failures shown %s of %s, API %d of %d", got["|failed"], got["|sent"], fails.Failed, fails.Sent)
		}
		if fails.Failed == 0 || len(fails.Reasons) == 0 {
			t.Errorf("the campaign has no failures to show: %+v", fails)
		}
		for _, r := range fails.Reasons {
			if got[r.Code+"|messages"] != strconv.Itoa(r.Messages) {
				t.Errorf("failures with code %s = %q, API %d", r.Code, got[r.Code+"|messages"], r.Messages)
			}
		}
		// WhatsApp's codes come with what they mean and what to do.
		explained := 0
		for _, r := range fails.Reasons {
			want, ok := map[string]string{"131026": "no WhatsApp account", "131047": "24 hours"}[r.Code]
			if !ok {
				continue
			}
			explained++
			if m := got[r.Code+"|meaning"]; !strings.Contains(m, want) {
				t.Errorf("code %s is explained as %q, want it to say %q", r.Code, m, want)
			}
			if a := got[r.Code+"|action"]; len(a) < 10 {
				t.Errorf("code %s says to do %q", r.Code, a)
			}
		}
		if explained == 0 {
			t.Errorf("no failure with a WhatsApp code to explain: %+v", fails.Reasons)
		}
		var recs struct {
			Total      int
			Recipients []struct{ Message, Status string }
		}
		p.getJSON(p.src("recipients"), &recs)
		rows := p.figures("[data-table=recipients] td[data-kpi=status]")
		if want := min(len(recs.Recipients), 100); len(rows) != want || want == 0 {
			t.Errorf("%d recipient rows, want %d", len(rows), want)
		}
		for i := range min(len(rows), len(recs.Recipients)) {
			if rows[i].Row != recs.Recipients[i].Message || rows[i].Value != recs.Recipients[i].Status {
				t.Errorf("recipient row %d = %s %s, API %s %s", i, rows[i].Row, rows[i].Value, recs.Recipients[i].Message, recs.Recipients[i].Status)
				break
			}
		}
		p.checkView("recipients", 1, false)
		p.shot("05-recipients")

		// Narrowed to the failed messages, then to those replied to: the
		// rows are the API's for the same status.
		for _, status := range []string{"failed", "replied", ""} {
			p.click(fmt.Sprintf("[data-panel=recipients] button[data-status=%q]", status))
			p.wait("recipients")
			if q := p.query(); q.Get("status") != status {
				t.Errorf("after choosing %q the URL is ?%s", status, q.Encode())
			}
			src := p.src("recipients")
			checkQuery(t, src, map[string]string{"campaign": campaign})
			var narrowed struct {
				Recipients []struct{ Message, Status, Replied string }
			}
			p.getJSON(src, &narrowed)
			shown := p.figures("[data-table=recipients] td[data-kpi=replied]")
			if want := min(len(narrowed.Recipients), 100); len(shown) != want || (want == 0 && status == "failed") {
				t.Errorf("status %q: %d rows, API %d", status, len(shown), want)
			}
			for i := range min(len(shown), len(narrowed.Recipients)) {
				r := narrowed.Recipients[i]
				if shown[i].Row != r.Message || status == "failed" && r.Status != "failed" || status == "replied" && r.Replied == "" {
					t.Errorf("status %q: row %d is %s (%s, replied %q)", status, i, shown[i].Row, r.Status, r.Replied)
					break
				}
			}
			if status == "replied" {
				p.shot("05c-recipients-replied")
			}
		}
	})

	step("A/B tests after a drill-down, and a campaign cleared with its template", func(t *testing.T) {
		p.t = t
		drilled := p.query()
		// The campaign filter follows to A/B tests, where it is no test:
		// the page says so and offers the tests instead of an error.
		p.click("a[data-nav=abtest]")
		p.wait("abtest")
		if e := p.text("#view .error"); e != "" {
			t.Errorf("A/B tests after a drill-down shows an error: %s", e)
		}
		if msg := p.text("#view .message"); msg == "" {
			t.Error("A/B tests after a drill-down says nothing")
		}
		if p.text("#view a[data-widen]") != "" {
			p.click("#view a[data-widen]")
			p.wait("abtest")
		}
		if e := p.text("#view .error"); e != "" {
			t.Errorf("A/B tests over 90 days after a drill-down shows an error: %s", e)
		}
		var tests []string
		p.eval(`[...document.querySelectorAll('select[data-abtest] option')].map(o => o.value).filter(v => v)`, &tests)
		if len(tests) == 0 {
			t.Fatalf("no A/B test to choose after a drill-down to %s: %q", drilled.Get("campaign"), p.text("#view"))
		}
		var chosen string
		p.eval(`document.querySelector('select[data-abtest]').value`, &chosen)
		if chosen == "" {
			p.choose("select[data-abtest]", tests[0])
			p.wait("abtest")
			if q := p.query(); "campaign:"+q.Get("campaign") != tests[0] && "template:"+q.Get("template") != tests[0] {
				t.Errorf("after choosing %s the URL is ?%s", tests[0], q.Encode())
			}
		}
		if rows := p.figures("[data-table=variants] td[data-kpi=sent]"); len(rows) < 2 {
			t.Errorf("the chosen test shows %d variants", len(rows))
		}
		p.checkView("abtest", 1, false)
		p.shot("05b-abtest-after-drill-down")

		// Clearing the campaign clears the template that came with it.
		p.run(chromedp.Navigate(p.base + "/?" + drilled.Encode()))
		p.render = 0
		p.wait("recipients")
		p.choose("select[data-filter=campaign]", "")
		p.wait("recipients")
		if q := p.query(); q.Get("campaign") != "" || q.Get("template") != "" {
			t.Errorf("after clearing the campaign the URL is ?%s", q.Encode())
		}
		if v := p.text("select[data-filter=template] option:checked"); v != "All templates" {
			t.Errorf("after clearing the campaign the template shown is %q", v)
		}
	})

	step("A/B test with its verdict", func(t *testing.T) {
		p.t = t
		p.run(chromedp.Navigate(p.base + "/?view=abtest"))
		p.render = 0
		p.wait("abtest")
		// Every test is listed, whatever the period, with its dates and
		// state as the API gives them.
		var list struct {
			Tests []struct {
				Campaign, Template *string
				FirstSent          string `json:"first_sent"`
				LastSent           string `json:"last_sent"`
				State              string
				Sent               float64
			}
		}
		p.getJSON(p.src("abtests"), &list)
		if len(list.Tests) == 0 {
			t.Fatal("the API lists no A/B test")
		}
		cells := map[string]string{}
		for _, f := range p.figures("[data-table=abtests] td[data-kpi]") {
			cells[f.Row+"|"+f.KPI] = f.Value
		}
		for _, x := range list.Tests {
			key := "campaign:" + str(x.Campaign)
			if x.Campaign == nil {
				key = "template:" + str(x.Template)
			}
			if cells[key+"|state"] != x.State || cells[key+"|first_sent"] != x.FirstSent || cells[key+"|last_sent"] != x.LastSent || !same(cells[key+"|sent"], num(x.Sent)) {
				t.Errorf("test %s shown %s %s–%s %s sent, API %s %s–%s %v", key, cells[key+"|state"], cells[key+"|first_sent"],
					cells[key+"|last_sent"], cells[key+"|sent"], x.State, x.FirstSent, x.LastSent, x.Sent)
			}
		}
		if e := p.text("#view .error"); e != "" {
			t.Errorf("A/B tests show an error: %s", e)
		}
		// Opening the latest test sets the period to its dates.
		first := list.Tests[0]
		p.click(`[data-table=abtests] a[data-test]`)
		p.wait("abtest")
		src := p.src("variants")
		q := checkQuery(t, src, map[string]string{"from": first.FirstSent[:10]})
		if last, _ := time.Parse(time.RFC3339, first.LastSent); q.Get("to") != last.AddDate(0, 0, 1).Format("2006-01-02") {
			t.Errorf("the test's period ends %s, its last send was %s", q.Get("to"), first.LastSent)
		}
		p.shot("06a-abtest-list")
		var res struct {
			Variants []struct {
				Variant string
				Sent    float64
				Rates   map[string]float64
				Revenue map[string]float64
			}
			Comparisons []struct {
				Metric, Variant, Verdict string
			}
		}
		p.getJSON(src, &res)
		if len(res.Variants) < 2 {
			t.Fatalf("A/B test of %s has %d variants", q.Get("campaign"), len(res.Variants))
		}
		cells = map[string]string{}
		for _, f := range p.figures("[data-table=variants] td[data-kpi]") {
			cells[f.Row+"|"+f.KPI] = f.Value
		}
		revenue := 0
		for _, v := range res.Variants {
			for cur, amount := range v.Revenue {
				revenue++
				if !same(cells[v.Variant+"|revenue."+cur], num(amount)) {
					t.Errorf("variant %s revenue = %q %s, API %v", v.Variant, cells[v.Variant+"|revenue."+cur], cur, amount)
				}
			}
			if !same(cells[v.Variant+"|sent"], num(v.Sent)) {
				t.Errorf("variant %s sent = %q, API %v", v.Variant, cells[v.Variant+"|sent"], v.Sent)
			}
			for m, rate := range v.Rates {
				if !same(cells[v.Variant+"|"+m], num(rate)) {
					t.Errorf("variant %s %s = %q, API %v", v.Variant, m, cells[v.Variant+"|"+m], rate)
				}
			}
		}
		if len(res.Comparisons) == 0 {
			t.Error("the A/B test has no comparison")
		}
		if revenue == 0 {
			t.Error("no revenue attributed to the variants of the test")
		}
		for _, c := range res.Comparisons {
			text := p.text(fmt.Sprintf(`[data-verdict="%s:%s"]`, c.Metric, c.Variant))
			if !strings.Contains(text, c.Verdict) {
				t.Errorf("verdict on %s shown %q, API %q", c.Metric, text, c.Verdict)
			}
		}
		p.checkView("abtest", 1, false)
		p.shot("06-abtest")
	})

	step("conversations and agents, in business hours", func(t *testing.T) {
		p.t = t
		// Afresh: the A/B test's campaign and dates would leave few
		// conversations.
		p.run(chromedp.Navigate(p.base + "/?view=service"))
		p.render = 0
		p.wait("service")
		src := p.src("service")
		checkQuery(t, src, map[string]string{"from": from30, "to": to30, "hours": ""})
		wall := p.checkCards("[data-panel=service]", src)
		p.checkTable("agents", p.src("agents"), "agent")
		p.checkUnclosed(0)
		p.checkConversationCharts()
		p.checkView("service", 4, false)
		p.shot("07-conversations")
		if p.text("[data-pager] a[data-page=next]") != "" {
			p.click("[data-pager] a[data-page=next]")
			p.wait("service")
			p.checkUnclosed(25)
			p.shot("07b-conversations-unclosed-page-2")
			p.click("[data-pager] a[data-page=previous]")
			p.wait("service")
			p.checkUnclosed(0)
		} else {
			t.Error("the unclosed conversations fit one page: the demo should need two")
		}

		p.click("[data-hours=business]")
		p.wait("service")
		if q := p.query(); q.Get("hours") != "business" {
			t.Errorf("after the business-hours toggle the URL is ?%s", q.Encode())
		}
		src = p.src("service")
		checkQuery(t, src, map[string]string{"hours": "business"})
		business := p.checkCards("[data-panel=service]", src)
		p.checkTable("agents", p.src("agents"), "agent")
		if w, b := wall["first_response_time|"], business["first_response_time|"]; w == nil || b == nil || *w == *b {
			t.Errorf("first response time %s in wall-clock and %s in business hours: the toggle changed nothing", show(w), show(b))
		}
		p.checkView("service", 2, false)
		p.shot("08-conversations-business-hours")
	})

	step("funnel and attribution", func(t *testing.T) {
		p.t = t
		p.click("a[data-nav=funnel]")
		p.wait("funnel")
		if q := p.query(); q.Get("hours") != "business" {
			t.Errorf("the hours setting did not follow to the next view: ?%s", q.Encode())
		}
		var stages struct {
			Stages []map[string]any
		}
		p.getJSON(p.src("stages"), &stages)
		var total map[string]any
		for _, s := range stages.Stages {
			if s["total"] == true {
				total = s
			}
		}
		bars := map[string]string{}
		for _, f := range p.figures("[data-panel=stages] g[data-kpi]") {
			bars[f.KPI] = f.Value
		}
		for _, s := range []string{"awareness", "engagement", "conversion", "advocacy"} {
			if v, _ := total[s].(float64); !same(bars[s], &v) {
				t.Errorf("funnel %s = %q, API %v", s, bars[s], total[s])
			}
		}
		var attr struct {
			Rows []struct {
				Channel  *string
				Currency string
				Credits  map[string]struct{ Revenue float64 }
			}
		}
		src := p.src("attribution")
		checkQuery(t, src, map[string]string{"by": "channel", "from": from30, "to": to30})
		p.getJSON(src, &attr)
		cells := map[string]string{}
		for _, f := range p.figures("[data-table=attribution] td[data-kpi]") {
			cells[f.Row+"|"+f.KPI] = f.Value
		}
		for _, r := range attr.Rows {
			for m, c := range r.Credits {
				k := str(r.Channel) + "|" + r.Currency + "|" + m
				if !same(cells[k], num(c.Revenue)) {
					t.Errorf("attribution %s = %q, API %v", k, cells[k], c.Revenue)
				}
			}
		}
		if len(attr.Rows) == 0 {
			t.Error("no attribution rows")
		}
		p.checkView("funnel", 3, false)
		p.shot("09-funnel-attribution")
	})

	step("clicks and click-to-WhatsApp ads", func(t *testing.T) {
		p.t = t
		p.click("a[data-nav=ads]")
		p.wait("ads")
		p.checkAds()
		p.checkView("ads", 0, false)
		p.shot("09c-clicks-ads")
	})

	step("business hours show on the overview, and Clear resets them", func(t *testing.T) {
		p.t = t
		p.click("a[data-nav=overview]")
		p.wait("overview")
		src := p.src("overview")
		checkQuery(t, src, map[string]string{"hours": "business"})
		business := p.checkCards("[data-panel=overview]", src)
		frt := `[data-panel=overview] [data-card=first_response_time] h3`
		if h := p.text(frt); !strings.Contains(h, "business hours") {
			t.Errorf("the overview's first response time in business hours is headed %q", h)
		}
		var pressed string
		p.eval(`document.querySelector('#filters [data-hours=business]').getAttribute('aria-pressed')`, &pressed)
		if pressed != "true" {
			t.Errorf("the filters' business hours switch is pressed=%q on the overview", pressed)
		}
		p.checkView("overview", 6, false)
		p.shot("09b-overview-business-hours")

		p.click("a.clear")
		p.wait("overview")
		if q := p.query(); q.Get("hours") != "" {
			t.Errorf("after Clear the URL is ?%s", q.Encode())
		}
		src = p.src("overview")
		checkQuery(t, src, map[string]string{"hours": ""})
		wall := p.checkCards("[data-panel=overview]", src)
		if w, b := wall["first_response_time|"], business["first_response_time|"]; w == nil || b == nil || *w == *b {
			t.Errorf("first response time %s after Clear, %s in business hours: Clear did not reset the hours", show(w), show(b))
		}
		if h := p.text(frt); strings.Contains(h, "business hours") {
			t.Errorf("after Clear the first response time is headed %q", h)
		}
	})

	step("cohorts heat map", func(t *testing.T) {
		p.t = t
		p.click("a[data-nav=cohorts]")
		p.wait("cohorts")
		// Few customers are new in the last 30 days: the page offers a
		// longer range.
		p.click("a[data-widen]")
		p.wait("cohorts")
		if q := p.query(); q.Get("days") != "90" {
			t.Errorf("URL ?%s after widening the range", q.Encode())
		}
		check := func(per string) {
			src := p.src("cohorts")
			from90, to90 := period(90)
			checkQuery(t, src, map[string]string{"period": per, "from": from90, "to": to90})
			var res struct {
				Cohorts []struct {
					Start   string
					Periods []struct{ Retained float64 }
				}
			}
			p.getJSON(src, &res)
			cells := map[string]string{}
			for _, f := range p.figures("[data-panel=cohorts] g.cell") {
				cells[f.Row+"|"+f.Col] = f.Value
			}
			n := 0
			for _, c := range res.Cohorts {
				for j, x := range c.Periods {
					n++
					if v := cells[c.Start+"|"+strconv.Itoa(j)]; !same(v, num(x.Retained)) {
						t.Errorf("cohort %s %s %d = %q, API %v", c.Start, per, j, v, x.Retained)
					}
				}
			}
			if n == 0 || len(cells) != n {
				t.Errorf("%d heat map cells, API %d", len(cells), n)
			}
		}
		check("week")
		p.checkView("cohorts", 1, false)
		p.shot("10-cohorts")
		p.choose("select[data-period]", "month")
		p.wait("cohorts")
		if q := p.query(); q.Get("period") != "month" {
			t.Errorf("URL ?%s after choosing months", q.Encode())
		}
		check("month")
	})

	step("best send time heat map", func(t *testing.T) {
		p.t = t
		p.click("a[data-nav=sendtime]")
		p.wait("sendtime")
		// By the read rate of the messages sent in each hour, then by the
		// time to read and by raw reads: the cells and the outlined best
		// hours follow the metric.
		for i, m := range []struct{ metric, field string }{
			{"read_rate", "read_rate"}, {"time_to_read", "median_time_to_read"}, {"reads", "reads"},
		} {
			if i > 0 {
				p.choose("select[data-metric]", m.metric)
				p.wait("sendtime")
			}
			src := p.src("sendtime")
			checkQuery(t, src, map[string]string{"metric": m.metric})
			var res struct {
				Channels []struct {
					Channel string
					Hours   []map[string]any
					Best    []struct {
						Day  string
						Hour int
					}
				}
			}
			p.getJSON(src, &res)
			cells := map[string]string{}
			for _, f := range p.figures("[data-panel=sendtime] g.cell") {
				cells[f.Row+"|"+f.Col] = f.Value
			}
			if len(cells) != 7*24 {
				t.Errorf("%s: %d hour-of-week cells, want 168", m.metric, len(cells))
			}
			for _, ch := range res.Channels {
				if ch.Channel != "whatsapp" {
					continue
				}
				filled := 0
				for _, h := range ch.Hours {
					var want *float64
					if v, ok := h[m.field].(float64); ok {
						want = num(v)
						filled++
					}
					if v := cells[fmt.Sprintf("%s|%v", h["day"], h["hour"])]; !same(v, want) {
						t.Errorf("%s %s %v = %q, API %s", m.metric, h["day"], h["hour"], v, show(want))
					}
				}
				if filled == 0 {
					t.Errorf("no hour has a %s", m.metric)
				}
				var marked []string
				p.eval(`[...document.querySelectorAll('[data-panel=sendtime] g.cell.mark')].map(g => g.dataset.row + ':' + g.dataset.col)`, &marked)
				var want []string
				for _, b := range ch.Best {
					want = append(want, fmt.Sprintf("%s:%d", b.Day, b.Hour))
				}
				slices.Sort(marked)
				slices.Sort(want)
				if !slices.Equal(marked, want) || len(want) == 0 {
					t.Errorf("by %s the best hours marked are %v, API %v", m.metric, marked, want)
				}
			}
			p.checkView("sendtime", 1, false)
			p.shot("11-send-time-" + strings.ReplaceAll(m.metric, "_", "-"))
		}
		p.choose("select[data-metric]", "read_rate")
		p.wait("sendtime")
	})

	step("alerts and firings", func(t *testing.T) {
		p.t = t
		p.click("a[data-nav=alerts]")
		p.wait("alerts")
		var rules struct {
			Alerts []struct {
				ID     string
				Firing *struct{ Value *float64 }
			}
		}
		p.getJSON("/v1/alerts", &rules)
		cells := map[string]string{}
		for _, f := range p.figures("[data-table=rules] td[data-kpi]") {
			cells[f.Row+"|"+f.KPI] = f.Value
		}
		firing := 0
		for _, r := range rules.Alerts {
			state := "ok"
			if r.Firing != nil {
				state = "firing"
				firing++
				if !same(cells[r.ID+"|value"], r.Firing.Value) {
					t.Errorf("rule %s value = %q, API %s", r.ID, cells[r.ID+"|value"], show(r.Firing.Value))
				}
			}
			if cells[r.ID+"|state"] != state {
				t.Errorf("rule %s shown %q, API %s", r.ID, cells[r.ID+"|state"], state)
			}
		}
		if firing == 0 {
			t.Error("the opt-out spike should fire")
		}
		var firings struct{ Firings []json.RawMessage }
		p.getJSON("/v1/alerts/firings", &firings)
		if rows := p.figures("[data-table=firings] td[data-kpi=rule]"); len(rows) != len(firings.Firings) {
			t.Errorf("%d firings shown, API %d", len(rows), len(firings.Firings))
		}
		// The account-health panel shows each number and template as the API
		// gives them: the demo's number flagged, its deal blast paused.
		var health kpi.HealthReport
		p.getJSON(p.src("health"), &health)
		shown := map[string]string{}
		for _, f := range p.figures("[data-panel=health] td[data-kpi]") {
			shown[f.Row+"|"+f.KPI] = f.Value
		}
		if len(health.PhoneNumbers) == 0 || len(health.Templates) == 0 {
			t.Fatalf("the demo's health: %+v", health)
		}
		for _, n := range health.PhoneNumbers {
			if shown[n.DisplayPhoneNumber+"|quality"] != deref(n.Quality) || shown[n.DisplayPhoneNumber+"|messaging_limit"] != deref(n.MessagingLimit) {
				t.Errorf("number %s shown %q at %q, API %q at %q", n.DisplayPhoneNumber, shown[n.DisplayPhoneNumber+"|quality"],
					shown[n.DisplayPhoneNumber+"|messaging_limit"], deref(n.Quality), deref(n.MessagingLimit))
			}
		}
		for _, tp := range health.Templates {
			key := deref(tp.ID)
			if shown[key+"|status"] != deref(tp.Status) || shown[key+"|quality_score"] != deref(tp.Quality) || shown[key+"|category"] != deref(tp.Category) {
				t.Errorf("template %s shown %q/%q/%q, API %q/%q/%q", deref(tp.Name), shown[key+"|status"], shown[key+"|quality_score"],
					shown[key+"|category"], deref(tp.Status), deref(tp.Quality), deref(tp.Category))
			}
		}
		if flagged := p.figures("[data-table=health-numbers] td.state.firing"); len(flagged) != 1 {
			t.Errorf("%d numbers shown flagged, want the demo's one", len(flagged))
		}
		p.checkView("alerts", 0, false)
		p.shot("12-alerts")

		// A firing names its rule, what it watches and the band, and links
		// to the view of its KPI.
		var firingLinks []string
		p.eval(`[...document.querySelectorAll('[data-table=firings] a[data-firing]')].map(a => a.getAttribute('href'))`, &firingLinks)
		if len(firingLinks) == 0 || !strings.Contains(firingLinks[0], "view=") {
			t.Errorf("firing links %q", firingLinks)
		}
		if bands := p.figures("[data-table=firings] td[data-kpi=band]"); len(bands) == 0 || bands[0].Text == "—" {
			t.Errorf("the firings show no band: %+v", bands)
		}

		// A rule made, muted, edited and deleted in the page, each step
		// seen by the API.
		rule := func() (r struct {
			ID, KPI, Condition, Window string
			Value                      float64
			Muted                      bool
		}, found bool) {
			var all struct {
				Alerts []struct {
					ID, KPI, Condition, Window string
					Value                      float64
					Muted                      bool
				}
			}
			p.getJSON("/v1/alerts", &all)
			for _, a := range all.Alerts {
				if a.ID == "ctr-drop" {
					return a, true
				}
			}
			return r, false
		}
		p.fill("form[data-form=rule] input[name=id]", "ctr-drop")
		p.fill("form[data-form=rule] input[name=name]", "Click-through under 20 %")
		p.choose("form[data-form=rule] select[name=kpi]", "ctr")
		p.choose("form[data-form=rule] select[name=condition]", "below")
		p.fill("form[data-form=rule] input[name=value]", "20")
		p.choose("form[data-form=rule] select[name=window]", "7d")
		p.click("form[data-form=rule] button[type=submit]")
		p.wait("alerts")
		if r, ok := rule(); !ok || r.KPI != "ctr" || r.Condition != "below" || r.Value != 20 || r.Window != "7d" || r.Muted {
			t.Fatalf("the rule made in the page: %+v (found %v)", r, ok)
		}
		p.click(`[data-table=rules] button[data-mute="ctr-drop"]`)
		p.wait("alerts")
		if r, _ := rule(); !r.Muted || !strings.Contains(p.text(`[data-table=rules] tr[data-row="ctr-drop"] td[data-kpi=state]`), "muted") {
			t.Errorf("after Mute: %+v, shown %q", r, p.text(`[data-table=rules] tr[data-row="ctr-drop"] td[data-kpi=state]`))
		}
		p.click(`[data-table=rules] a[data-edit="ctr-drop"]`)
		p.wait("alerts")
		p.fill("form[data-form=rule] input[name=value]", "25")
		p.shot("12b-alerts-edit")
		p.click("form[data-form=rule] button[type=submit]")
		p.wait("alerts")
		if r, _ := rule(); r.Value != 25 || !r.Muted || p.query().Get("edit") != "" {
			t.Errorf("after editing: %+v, URL ?%s", r, p.query().Encode())
		}
		p.click(`[data-table=rules] button[data-delete="ctr-drop"]`)
		p.click(`[data-table=rules] button[data-delete="ctr-drop"]`)
		p.wait("alerts")
		if r, ok := rule(); ok {
			t.Errorf("after deleting: %+v", r)
		}
	})

	step("on a phone", func(t *testing.T) {
		p.t = t
		p.run(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
		// Every view, with the charts it draws at any width.
		for _, v := range everyView {
			p.open(v.view)
			var inSight bool
			p.eval(`(() => { const n = document.querySelector('#nav'), a = n.querySelector('[aria-current=page]');
				const r = a.getBoundingClientRect(), b = n.getBoundingClientRect(); return r.left >= b.left - 1 && r.right <= b.right + 1; })()`, &inSight)
			if !inSight {
				t.Errorf("on a phone the tab of %s is scrolled out of sight", v.view)
			}
			p.checkView(v.view, v.charts, true)
			p.shot("13-" + v.view + "-phone")
		}
		p.click("a[data-nav=overview]")
		p.wait("overview")
		p.run(chromedp.EmulateViewport(1440, 900))
	})

	step("in Bahasa Indonesia, Bahasa Melayu and Chinese (Hong Kong)", func(t *testing.T) {
		p.t = t
		for _, lang := range []string{"id", "ms", "zh-HK"} {
			p.words = dictionary(t, lang)
			p.run(chromedp.Navigate(p.base + "/?view=overview"))
			p.render = 0
			p.wait("overview")
			p.choose("#language", lang)
			p.wait("overview")
			var htmlLang string
			p.eval(`document.documentElement.lang`, &htmlLang)
			if htmlLang != lang {
				t.Errorf("the page's lang is %q, want %s", htmlLang, lang)
			}
			// The tabs, the KPI names from the catalogue in the language,
			// and the figures equal to the API's.
			for view, title := range viewTitles {
				if got := p.text("a[data-nav=" + view + "]"); got != p.tr(title) || got == title {
					t.Errorf("%s: the tab of %s reads %q, want %q", lang, view, got, p.tr(title))
				}
			}
			var cat struct {
				KPIs []struct{ ID, Name string } `json:"kpis"`
			}
			p.getJSON("/v1/catalogue?lang="+lang, &cat)
			names := map[string]string{}
			for _, k := range cat.KPIs {
				names[k.ID] = k.Name
			}
			var cards []struct{ ID, Name string }
			p.eval(`[...document.querySelectorAll('[data-panel=overview] [data-card]')].map(c => ({id: c.dataset.card, name: c.querySelector('h3').firstChild.textContent.trim()}))`, &cards)
			if len(cards) == 0 {
				t.Fatalf("%s: no cards on the overview", lang)
			}
			for _, c := range cards {
				if c.Name != names[c.ID] {
					t.Errorf("%s: the card of %s is named %q, the catalogue %q", lang, c.ID, c.Name, names[c.ID])
				}
			}
			p.checkCards("[data-panel=overview]", p.src("overview"))
			// Numbers and dates follow the locale; the date inputs take
			// the same format as the page shows.
			from30, _ := period(30)
			fromDay, _ := time.Parse("2006-01-02", from30)
			week := fromDay.AddDate(0, 0, 7)
			var parts struct{ Period, From, Week string }
			p.eval(fmt.Sprintf(`(() => { const day = new Intl.DateTimeFormat(%q, {timeZone: 'UTC', year: 'numeric', month: '2-digit', day: '2-digit'});
				return {period: document.querySelector('.view-title small').textContent,
				from: day.format(new Date(%q)), week: day.format(new Date(%q))}; })()`, lang, from30+"T12:00:00Z", week.Format("2006-01-02")+"T12:00:00Z"), &parts)
			localFrom, typed := parts.From, parts.Week
			if !strings.Contains(parts.Period, localFrom) {
				t.Errorf("%s: the period reads %q, want its first day as %q", lang, parts.Period, localFrom)
			}
			var sent struct{ Text, Want string }
			p.eval(fmt.Sprintf(`(e => ({text: e.textContent.trim(), want: new Intl.NumberFormat(%q).format(+e.dataset.value)}))(document.querySelector('[data-panel=overview] .value[data-kpi=messages_sent]'))`, lang), &sent)
			if sent.Text != sent.Want {
				t.Errorf("%s: messages sent reads %q, want %q as the locale writes it", lang, sent.Text, sent.Want)
			}
			var value string
			p.eval(`document.querySelector('input[name=from]').value`, &value)
			if value != localFrom {
				t.Errorf("%s: the From input shows %q, want %q", lang, value, localFrom)
			}
			// Typed in that format, a date sets the period.
			p.fill("input[name=from]", typed)
			p.eval(`(() => { document.querySelector('input[name=from]').dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, new(bool))
			p.wait("overview")
			if got := p.query().Get("from"); got != week.Format("2006-01-02") {
				t.Errorf("%s: typing %q in From gives from=%q, want %s", lang, typed, got, week.Format("2006-01-02"))
			}
			// Clear resets the filters; the A/B list is there under any.
			p.choose("select[data-filter=channel]", "whatsapp")
			p.wait("overview")
			p.click("#filters .clear")
			p.wait("overview")
			if q := p.query(); q.Get("channel") != "" || q.Get("from") != "" {
				t.Errorf("%s: after Clear the URL is ?%s", lang, q.Encode())
			}
			p.choose("select[data-filter=campaign]", "daily_deals")
			p.wait("overview")
			p.click("a[data-nav=abtest]")
			p.wait("abtest")
			var tests int
			p.eval(`document.querySelectorAll('[data-table=abtests] tbody tr').length`, &tests)
			if tests == 0 {
				t.Errorf("%s: the A/B list is empty under a campaign filter", lang)
			}
			// The test opened: its verdicts in the language, as the API
			// found them.
			p.click(`[data-table=abtests] a[data-test]`)
			p.wait("abtest")
			var verdicts []struct{ Key, Text string }
			p.eval(`[...document.querySelectorAll('[data-verdict]')].map(e => ({key: e.dataset.verdict, text: e.textContent}))`, &verdicts)
			if len(verdicts) == 0 {
				t.Errorf("%s: the A/B test shows no verdict", lang)
			}
			for _, v := range verdicts {
				for _, english := range []string{" beats ", " loses to ", "no difference", "not enough data", "no significant", "no data on"} {
					if strings.Contains(v.Text, english) {
						t.Errorf("%s: the verdict on %s reads %q", lang, v.Key, v.Text)
					}
				}
			}
			p.shot("20-" + lang + "-abtest-verdict")
			p.click("a[data-nav=overview]")
			p.wait("overview")
			p.checkLanguage(lang)
		}
		p.words = nil
		p.run(chromedp.Navigate(p.base + "/?view=overview"))
		p.render = 0
		p.wait("overview")
		p.choose("#language", "en")
		p.wait("overview")
		if got := p.text("a[data-nav=campaigns]"); got != "Campaigns" {
			t.Errorf("back in English the campaigns tab reads %q", got)
		}
	})

	step("sign out", func(t *testing.T) {
		p.t = t
		var cookies []*network.Cookie
		p.run(chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			cookies, err = network.GetCookies().WithURLs([]string{p.base}).Do(ctx)
			return err
		}))
		i := slices.IndexFunc(cookies, func(c *network.Cookie) bool { return c.Name == api.SessionCookie })
		if i < 0 {
			t.Fatal("no session cookie while signed in")
		}
		if !cookies[i].HTTPOnly {
			t.Error("the session cookie is readable by scripts")
		}
		p.click("#sign-out")
		p.wait("signin")
		var status int
		p.eval(`fetch('/v1/kpis').then(r => r.status)`, &status)
		if status != http.StatusUnauthorized {
			t.Errorf("after signing out the page reads the API with status %d", status)
		}
		req, _ := http.NewRequest("GET", p.base+"/v1/kpis", nil)
		req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: cookies[i].Value})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("the old session cookie still reads the API: %d", res.StatusCode)
		}
		p.shot("14-signed-out")
	})

	step("a user signs in with a password", func(t *testing.T) {
		p.t = t
		fill := func(pw string) {
			p.fill("#workspace", workspace)
			p.fill("#user", "alice")
			p.fill("#password", pw)
			p.click("#user-submit")
		}
		fill("wrong password")
		var msg string
		p.run(chromedp.Poll(`(e => e && !e.hidden && e.textContent)(document.querySelector('#signin-error'))`, &msg, chromedp.WithPollingTimeout(10*time.Second)))
		if !strings.Contains(strings.ToLower(msg), "wrong user or password") {
			t.Errorf("error shown = %q", msg)
		}
		fill(password)
		p.wait("overview")
		if who, ws := p.text("#who-user"), p.text("#who-name"); who != "alice" || ws != workspace {
			t.Errorf("signed in as %q to %q", who, ws)
		}
		p.click("#sign-out")
		p.wait("signin")
	})

	if len(jsErrors) > 0 {
		t.Errorf("the page threw: %s", strings.Join(jsErrors, "; "))
	}
	t.Logf("screenshots in %s", shots)
}

// everyView is every view of the dashboard with the charts it draws at
// any width, in the order of its tabs (recipients is a campaign's).
var everyView = []struct {
	view   string
	charts int
}{
	{"overview", 6}, {"campaigns", 2}, {"recipients", 1}, {"abtest", 0}, {"service", 2},
	{"funnel", 3}, {"ads", 0}, {"cohorts", 1}, {"sendtime", 1}, {"alerts", 0},
}

// open goes to a view of everyView from the one before it in that order,
// as a person would: a tab, or a campaign's drill-down for recipients.
func (p *page) open(view string) {
	p.t.Helper()
	switch view {
	case "recipients":
		p.click("[data-table=campaigns] a[data-drill]")
	case "service":
		// Past A/B tests, without the drill-down's campaign, whose filter
		// would leave the other views nearly empty.
		p.run(chromedp.Navigate(p.base + "/?view=service&days=90"))
		p.render = 0
	default:
		p.click("a[data-nav=" + view + "]")
	}
	p.wait(view)
}

// viewTitles are the English titles of the views' tabs.
var viewTitles = map[string]string{
	"overview": "Overview", "campaigns": "Campaigns", "abtest": "A/B tests", "service": "Conversations",
	"funnel": "Funnel & attribution", "ads": "Clicks & ads", "cohorts": "Cohorts", "sendtime": "Send time", "alerts": "Alerts",
}

// dictionary reads the dashboard's texts in lang.
func dictionary(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("static", "i18n", lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var words map[string]string
	if err := json.Unmarshal(b, &words); err != nil {
		t.Fatal(err)
	}
	return words
}

// untranslatedJS lists the texts of the page (its header, tabs, filters
// and view) that are an English text of the dictionary (arg) whose
// translation differs: a text the page forgot to translate.
const untranslatedJS = `((english) => {
	const out = new Set();
	for (const root of document.querySelectorAll('header.top, #nav, #filters, #view')) {
		const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
		for (let n = walk.nextNode(); n; n = walk.nextNode()) {
			const text = n.textContent.trim();
			if (text && english.includes(text)) out.add(text);
		}
		for (const e of root.querySelectorAll('[title], [aria-label], [placeholder]')) {
			for (const a of ['title', 'aria-label', 'placeholder']) {
				const text = (e.getAttribute(a) || '').trim();
				if (text && english.includes(text)) out.add(a + '=' + text);
			}
		}
	}
	return [...out];
})`

// checkLanguage drives every view at both widths in the page's language:
// charts drawn, nothing wider than its card, no English text left, and
// screenshots named after the language.
func (p *page) checkLanguage(lang string) {
	p.t.Helper()
	var english []string
	for en, tr := range p.words {
		if tr != en && !strings.Contains(en, "{") {
			english = append(english, en)
		}
	}
	list, _ := json.Marshal(english)
	for _, width := range []int{1440, 390} {
		phone := width < 600
		if phone {
			p.run(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
		} else {
			p.run(chromedp.EmulateViewport(1440, 900))
		}
		for _, v := range everyView {
			p.open(v.view)
			p.checkView(lang+" "+v.view, v.charts, phone)
			var left []string
			p.eval(fmt.Sprintf("%s(%s)", untranslatedJS, list), &left)
			if len(left) > 0 {
				p.t.Errorf("%s in %s shows English: %q", v.view, lang, left)
			}
			if v.view == "overview" || v.view == "campaigns" || v.view == "abtest" || v.view == "service" {
				p.shot(fmt.Sprintf("20-%s-%s-%d", lang, v.view, width))
			}
		}
	}
	p.run(chromedp.EmulateViewport(1440, 900))
}

// checkCSV compares a downloaded report CSV with the API's JSON for the
// same query: a row per campaign and template, a column per KPI.
func checkCSV(t *testing.T, file []byte, p *page, src string) {
	t.Helper()
	records, err := csv.NewReader(bytes.NewReader(file)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	var rep report
	p.getJSON(src, &rep)
	if len(records) != len(rep.Rows)+1 {
		t.Fatalf("the CSV has %d rows for %d groups", len(records)-1, len(rep.Rows))
	}
	header := records[0]
	col := map[string]int{} // by KPI id: the header without its unit, "open_rate (%)"
	for i, h := range header {
		id, _, _ := strings.Cut(h, " (")
		col[id] = i
	}
	compared := 0
	for i, r := range rep.Rows {
		rec := records[i+1]
		if rec[col["campaign"]] != str(r.Group["campaign"]) || rec[col["template"]] != str(r.Group["template"]) {
			t.Errorf("CSV row %d is %v, JSON group %v", i+1, rec[:2], r.Group)
		}
		for _, e := range r.KPIs {
			j, ok := col[e.ID]
			if !ok || e.Currency != "" || e.Label != "" {
				continue
			}
			compared++
			if !same(rec[j], e.Value) {
				t.Errorf("CSV %v %s = %q, JSON %s", rec[:2], e.ID, rec[j], show(e.Value))
			}
		}
	}
	if compared == 0 {
		t.Error("no CSV figure compared")
	}
}
