package kpi

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"math"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/store"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// families maps each named query to the components it returns, each in
// the column of its name (family.columns says how columns are read); the
// test TestQueries_ReturnTheirComponents keeps this in step with the SQL.
var families = []family{
	{"messages", []string{"sent", "delivered", "read_n", "failed", "received", "sent_e", "delivered_e", "clicked_e",
		"sent_r", "read_r", "sent_d", "delivered_d", "delivered_rd", "read_rd", "recipients", "recipients_e"}},
	{"replies", []string{"replied"}},
	{"campaign-conversions", []string{"converted"}},
	{"campaign-revenue", []string{"campaign_revenue"}},
	{"opt-outs", []string{"opted_out"}},
	{"consent", []string{"opt_outs_n", "opt_ins_n"}},
	{"frequency-capped", []string{"capped_e"}},
	{"account-health", []string{"quality_drops_n", "template_setbacks_n", "limit_changes_n"}},
	{"orders", []string{"orders", "orders_undone", "orders_cur", "gross", "net"}},
	{"costs", []string{"cost", "cost_msg_sw"}},
	{"leads", []string{"leads", "leads_qualified"}},
	{"conversations", []string{"conversations", "conv_customers"}},
	{"conversation-revenue", []string{"conv_revenue"}},
	{"conversation-buyers", []string{"conv_buyers"}},
	{"funnel", []string{"impressions", "impressions_paid", "impressions_organic", "reach", "visits", "visits_known", "visitors_known", "visit_ms", "visit_pages",
		"social_visits", "follows", "unfollows", "interactions", "social_clicks", "social_clicks_paid", "checkouts", "carts_abandoned", "referrals", "ugc"}},
	{"orders-last-year", []string{"transactions_ly"}},
	{"surveys", []string{"csat_answers", "csat_satisfied", "csat_score_sum", "nps_answers", "nps_promoters", "nps_passives", "nps_detractors"}},
}

type family struct {
	query      string
	components []string
}

// goFamilies are computed in Go from rows their queries return.
var goFamilies = []struct {
	family
	run func(e *Engine, ctx context.Context, res *resolved, groups map[string]*groupData) error
}{
	{family{"session-facts", serviceComponents}, (*Engine).runService},
	{family{"feedback-tags", []string{"feedback_n", "feedback_tags"}}, (*Engine).runFeedback},
	{family{"inbound-text", []string{"keywords"}}, (*Engine).runKeywords},
	{family{"touch-events", journeyComponents}, (*Engine).runJourneys},
}

// RequestError is a request that names something wrong: an unknown KPI,
// dimension or bucket, or a bad time range. The API answers it with 400.
type RequestError struct {
	Field  string
	Reason string
}

func (e *RequestError) Error() string { return e.Field + ": " + e.Reason }

// Engine computes KPIs on a store.
type Engine struct {
	store   store.Store
	queries map[string]*template.Template
	now     func() time.Time
	// Observe, when set, is told each named query's time from its start
	// until its rows are closed.
	Observe func(query string, took time.Duration)
	// DumpSQL, when set, is written each query with its arguments, to
	// replay one by hand against a store (omnikpi's OMNIKPI_DUMP_SQL).
	DumpSQL io.Writer
}

// New returns an engine reading s. The SQL is parsed here, so a missing or
// broken query fails at start-up rather than on a request.
func New(s store.Store) (*Engine, error) {
	queries, err := loadQueries()
	if err != nil {
		return nil, err
	}
	return &Engine{store: s, queries: queries, now: time.Now}, nil
}

var nameRE = regexp.MustCompile(`(?m)^-- name: ([a-z0-9-]+)\s*$`)

// loadQueries parses every sql/*.sql file. A file holds shared fragments
// ({{define}}) and named queries, each starting at a "-- name: x" line.
func loadQueries() (map[string]*template.Template, error) {
	files, err := fs.Glob(sqlFiles, "sql/*.sql")
	if err != nil {
		return nil, err
	}
	queries := map[string]*template.Template{}
	for _, file := range files {
		b, err := sqlFiles.ReadFile(file)
		if err != nil {
			return nil, err
		}
		text := string(b)
		marks := nameRE.FindAllStringSubmatchIndex(text, -1)
		// Fragments may stand anywhere; collect them once per file.
		defines := regexp.MustCompile(`(?s)\{\{define "[a-z_]+"\}\}.*?\{\{end\}\}`).FindAllString(text, -1)
		shared := strings.Join(defines, "\n")
		for i, m := range marks {
			name := text[m[2]:m[3]]
			end := len(text)
			if i+1 < len(marks) {
				end = marks[i+1][0]
			}
			body := text[m[1]:end]
			body = regexp.MustCompile(`(?s)\{\{define "[a-z_]+"\}\}.*?\{\{end\}\}`).ReplaceAllString(body, "")
			t, err := template.New(name).Parse(shared + body)
			if err != nil {
				return nil, fmt.Errorf("parse query %s in %s: %w", name, file, err)
			}
			queries[name] = t
		}
	}
	for _, f := range families {
		if queries[f.query] == nil {
			return nil, fmt.Errorf("query %q is missing from sql/", f.query)
		}
	}
	return queries, nil
}

// resolved is a request with its times and settings settled.
type resolved struct {
	Request
	Location *time.Location
	from, to time.Time
	ws       store.Workspace
	steps    []string // an ordered funnel's event kinds
	// ordinalCategories are the pricing categories whose messages the rate
	// card prices by their number in the month.
	ordinalCategories []string
}

// fromText and toText are the period's bounds as reports show them: RFC
// 3339 in the report's time zone.
func (res *resolved) fromText() string { return res.from.In(res.Location).Format(time.RFC3339) }
func (res *resolved) toText() string   { return res.to.In(res.Location).Format(time.RFC3339) }

// prepare checks r and settles its times and settings.
func (e *Engine) prepare(ctx context.Context, r Request) (*resolved, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	res, err := e.resolve(ctx, r)
	if err == nil && r.Segment != "" {
		err = e.applySegment(ctx, res)
	}
	return res, err
}

// Compute answers r.
func (e *Engine) Compute(ctx context.Context, r Request) (Report, error) {
	res, err := e.prepare(ctx, r)
	if err != nil {
		return Report{}, err
	}
	ids := r.KPIs
	if len(ids) == 0 {
		for _, d := range catalogue {
			ids = append(ids, d.ID)
		}
	}
	needed := map[string]bool{}
	for _, id := range ids {
		for _, c := range byID[id].calc.components() {
			needed[c] = true
		}
	}
	groups := map[string]*groupData{}
	for _, f := range families {
		if !f.wanted(needed) {
			continue
		}
		if err := e.runFamily(ctx, res, f, groups); err != nil {
			return Report{}, err
		}
	}
	for _, f := range goFamilies {
		if !f.wanted(needed) {
			continue
		}
		if err := f.run(e, ctx, res, groups); err != nil {
			return Report{}, err
		}
	}
	if pricingFamily.wanted(needed) || res.ws.RateCard != nil && (needed["cost"] || needed["cost_msg_sw"]) {
		if err := e.runPricing(ctx, res, groups); err != nil {
			return Report{}, err
		}
	}
	rep := e.shape(res, ids, groups)
	for _, c := range r.Compare {
		if err := e.compareWith(ctx, res, c, &rep); err != nil {
			return Report{}, err
		}
	}
	for i, row := range rep.Rows {
		kept := row.KPIs[:0]
		for _, v := range row.KPIs {
			if r.keepsCurrency(v.Currency) {
				kept = append(kept, v)
			}
		}
		rep.Rows[i].KPIs = kept
	}
	return rep, nil
}

// compareWith computes the report of the previous period or of the same
// period last year and sets each figure's value there and its change. A
// bucket is matched with the bucket as far back as the period is moved.
func (e *Engine) compareWith(ctx context.Context, res *resolved, which string, rep *Report) error {
	sh := lastYearShift(res.Location)
	from, _ := sh.move(res.from, -1)
	to, _ := sh.move(res.to, -1)
	if which == "previous" {
		sh = previousShift(res.from, res.to, res.Location)
		from, _ = sh.move(res.from, -1)
		to = res.from
	}
	r := res.Request
	r.Compare, r.From, r.To = nil, from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano)
	earlier, err := e.Compute(ctx, r)
	if err != nil {
		return err
	}
	key := func(row Row, v Value, move bool) (string, bool) {
		var b strings.Builder
		for _, d := range res.GroupBy {
			b.WriteString(deref(row.Group[d]) + "\x00")
		}
		if bucket := row.Group["bucket"]; bucket != nil {
			t, _ := time.Parse(time.RFC3339, *bucket)
			if move {
				var ok bool
				if t, ok = sh.move(t, 1); !ok {
					return "", false
				}
			}
			b.WriteString(t.UTC().Format(time.RFC3339))
		}
		return b.String() + "\x00" + v.ID + "\x00" + v.Currency + "\x00" + v.Label, true
	}
	past := map[string]*float64{}
	for _, row := range earlier.Rows {
		for _, v := range row.KPIs {
			if k, ok := key(row, v, true); ok {
				past[k] = v.Value
			}
		}
	}
	for i := range rep.Rows {
		for j := range rep.Rows[i].KPIs {
			v := &rep.Rows[i].KPIs[j]
			k, _ := key(rep.Rows[i], *v, false)
			old := past[k]
			change := changeOf(v.Value, old, v.Unit)
			if which == "previous" {
				v.Previous, v.Change = old, change
			} else {
				v.LastYear, v.ChangeLastYear = old, change
			}
			v.ChangeUnit = "percent"
			if inPoints(v.Unit) {
				v.ChangeUnit = "points"
			}
		}
	}
	return nil
}

// shift is how far a comparison moves a period, and each of its buckets:
// by whole months or days of the calendar in loc, or by an exact duration.
type shift struct {
	months, days int
	exact        time.Duration
	loc          *time.Location
}

// previousShift is how far back the period just before [from, to) lies.
// A period from local midnight to local midnight moves by whole days of
// the calendar, so that a day next to a clock change (23 or 25 hours) is
// compared with whole days and its buckets meet theirs; from the first of
// a month to the first of a month it moves by whole months (March against
// February). Any other period moves by its exact duration.
func previousShift(from, to time.Time, loc *time.Location) shift {
	from, to = from.In(loc), to.In(loc)
	if !isMidnight(from) || !isMidnight(to) {
		return shift{exact: to.Sub(from)}
	}
	if from.Day() == 1 && to.Day() == 1 {
		return shift{months: (to.Year()-from.Year())*12 + int(to.Month()-from.Month()), loc: loc}
	}
	civil := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	return shift{days: int(civil(to).Sub(civil(from)).Hours() / 24), loc: loc}
}

// lastYearShift moves by a year of the calendar in loc: the same local
// dates and clock times a year earlier.
func lastYearShift(loc *time.Location) shift { return shift{months: 12, loc: loc} }

func isMidnight(t time.Time) bool {
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

// move moves t by n shifts (n < 0: back). A move by months from a day
// that the other month lacks (31 January to February) has no counterpart:
// ok is false, and the time given is where the calendar runs over to.
func (s shift) move(t time.Time, n int) (time.Time, bool) {
	if s.loc == nil {
		return t.Add(time.Duration(n) * s.exact), true
	}
	local := t.In(s.loc)
	moved := local.AddDate(0, n*s.months, n*s.days)
	return moved, s.months == 0 || moved.Day() == local.Day()
}

// inPoints tells whether a change of a KPI in unit u is a difference, in
// points, rather than a percentage of the earlier value: rates (CSAT
// among them) and scores (NPS, the mean CSAT score). An NPS from −15.2 to
// −10.9 gained 4.3 points; "+28.3 %" of a score that can be negative or
// zero says nothing.
func inPoints(u Unit) bool { return u == Percent || u == Score }

// changeOf is now against then: in points for a rate or a score, in
// percent of then for anything else (none when then is zero).
func changeOf(now, then *float64, u Unit) *float64 {
	if now == nil || then == nil {
		return nil
	}
	if inPoints(u) {
		d := *now - *then
		return &d
	}
	if *then == 0 {
		return nil
	}
	d := (*now - *then) / math.Abs(*then) * 100
	return &d
}

func (f family) wanted(needed map[string]bool) bool {
	for _, c := range f.components {
		if needed[c] {
			return true
		}
	}
	return false
}

func (e *Engine) resolve(ctx context.Context, r Request) (*resolved, error) {
	ws, _, err := store.SettingsOf(ctx, e.store.Workspace, r.Workspace)
	if err != nil {
		return nil, err
	}
	zone := ws.TimeZone
	if r.TimeZone != "" {
		zone = r.TimeZone
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, &RequestError{Field: "tz", Reason: fmt.Sprintf("unknown time zone %q", zone)}
	}
	res := &resolved{Request: r, Location: loc, ws: ws}
	res.Filters = storedCustomers(r.Filters, ws)
	now := e.now().In(loc)
	tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, loc)
	if res.to, err = parseBound(r.To, loc, tomorrow); err != nil {
		return nil, &RequestError{Field: "to", Reason: err.Error()}
	}
	if res.from, err = parseBound(r.From, loc, res.to.AddDate(0, 0, -30)); err != nil {
		return nil, &RequestError{Field: "from", Reason: err.Error()}
	}
	if !res.from.Before(res.to) {
		return nil, &RequestError{Field: "from", Reason: "must be before to"}
	}
	return res, nil
}

// storedCustomers returns filters with each customer that is a phone
// number written as it is stored: hashed, unless the workspace keeps phone
// numbers. The caller's map is left as it is.
func storedCustomers(filters map[string][]string, ws store.Workspace) map[string][]string {
	if ws.KeepPhoneNumbers || len(filters["customer"]) == 0 {
		return filters
	}
	out := make(map[string][]string, len(filters))
	for d, vals := range filters {
		out[d] = vals
	}
	out["customer"] = make([]string, len(filters["customer"]))
	for i, c := range filters["customer"] {
		out["customer"][i] = ingest.CustomerID(c, ws.Name)
	}
	return out
}

// parseBound reads an RFC 3339 time or a date at midnight in loc.
func parseBound(s string, loc *time.Location, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither a date (2006-01-02) nor an RFC 3339 time", s)
}

// groupData collects one group's components across the family queries.
type groupData struct {
	values []*string // in GroupBy order, then the bucket
	bucket time.Time
	comps  *comps
}

// span is the time a query that looks around the period reads (its
// .SpanFromMS and .SpanToMS): from before the period's start, to after its
// end.
type span struct{ from, to time.Time }

// query renders and runs the named query for res.
func (e *Engine) query(ctx context.Context, res *resolved, name string) (store.Rows, error) {
	return e.queryOver(ctx, res, name, span{res.from, res.to})
}

// queryOver renders and runs the named query for res, reading the span sp
// around the period.
func (e *Engine) queryOver(ctx context.Context, res *resolved, name string, sp span) (store.Rows, error) {
	var args []any
	w := res.ws.Windows
	sc := &sqlCtx{
		args: &args, dialect: e.store.Dialect(), req: res,
		Workspace: res.Workspace, FromMS: res.from.UnixMilli(), ToMS: res.to.UnixMilli(),
		SpanFromMS: sp.from.UnixMilli(), SpanToMS: sp.to.UnixMilli(), OrdinalCategories: res.ordinalCategories,
		MonthFromMS:    time.Date(res.from.UTC().Year(), res.from.UTC().Month(), 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
		LastYearFromMS: res.from.In(res.Location).AddDate(-1, 0, 0).UnixMilli(), LastYearToMS: res.to.In(res.Location).AddDate(-1, 0, 0).UnixMilli(),
		Win: windowsMS{Reply: w.Reply.Millis(), Conversion: w.Conversion.Millis(), OptOut: w.OptOut.Millis(), Conversation: w.Conversation.Millis()},
	}
	// The first rendering finds which aliases name raw events; the second
	// is the query.
	sc.eventAliases, sc.factAliases = map[string]bool{}, map[string]string{}
	if err := e.queries[name].Execute(io.Discard, sc); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	args = args[:0]
	var text bytes.Buffer
	if err := e.queries[name].Execute(&text, sc); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	if e.DumpSQL != nil {
		fmt.Fprintf(e.DumpSQL, "-- %s %v\n%s\n", name, args, text.String())
	}
	start := time.Now()
	rows, err := e.store.Query(ctx, text.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", name, err)
	}
	if e.Observe != nil {
		return &observedRows{Rows: rows, done: func() { e.Observe(name, time.Since(start)) }}, nil
	}
	return rows, nil
}

// observedRows reports its query's time once, when closed.
type observedRows struct {
	store.Rows
	done func()
}

func (r *observedRows) Close() error {
	if r.done != nil {
		r.done()
		r.done = nil
	}
	return r.Rows.Close()
}

func (e *Engine) runFamily(ctx context.Context, res *resolved, f family, groups map[string]*groupData) error {
	rows, err := e.query(ctx, res, f.query)
	if err != nil {
		return err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("read %s: %w", f.query, err)
	}
	cols, err := f.columns(names, res)
	if err != nil {
		return err
	}
	for rows.Next() {
		groupCells := make([]*string, len(res.GroupBy))
		var bucket, currency *string
		nums := make([]*float64, len(cols.comps))
		cells := make([]any, len(names))
		for i, c := range cols.group {
			cells[c] = &groupCells[i]
		}
		if cols.bucket >= 0 {
			cells[cols.bucket] = &bucket
		}
		if cols.currency >= 0 {
			cells[cols.currency] = &currency
		}
		for i, c := range cols.comps {
			cells[c.col] = &nums[i]
		}
		if err := rows.Scan(cells...); err != nil {
			return fmt.Errorf("read %s: %w", f.query, err)
		}
		g, err := groupFor(groups, groupCells, bucket, res.Location)
		if err != nil {
			return fmt.Errorf("read %s: %w", f.query, err)
		}
		for i, c := range cols.comps {
			v := 0.0
			if nums[i] != nil {
				v = *nums[i]
			}
			switch {
			case cols.currency < 0:
				g.comps.plain[c.name] += v
			case currency == nil:
				// Amounts without a currency cannot be shown as money.
			case c.across:
				g.comps.plain[c.name] += v
			default:
				m := g.comps.money[*currency]
				if m == nil {
					m = map[string]float64{}
					g.comps.money[*currency] = m
				}
				m[c.name] += v
			}
		}
	}
	return rows.Err()
}

// familyColumns says where a family query's values are, found by the
// columns' names: g_DIMENSION holds a grouping dimension's value and
// g_bucket the bucket; a column currency makes the other columns money in
// that currency, except the n_NAME ones, counts of component NAME added
// across currencies; every other column is the component of its name.
type familyColumns struct {
	group    []int // the column of each of the request's GroupBy
	bucket   int   // -1: none
	currency int   // -1: none
	comps    []componentColumn
}

type componentColumn struct {
	col    int
	name   string
	across bool // a count added across currencies
}

// columns places the columns named names of f's query for res. A query
// must return each of f's components, and nothing else besides the group,
// bucket and currency.
func (f family) columns(names []string, res *resolved) (familyColumns, error) {
	out := familyColumns{group: make([]int, len(res.GroupBy)), bucket: -1, currency: -1}
	at := map[string]int{}
	for i, n := range names {
		at[n] = i
	}
	for i, d := range res.GroupBy {
		c, ok := at["g_"+d]
		if !ok {
			return familyColumns{}, fmt.Errorf("query %s returns no column g_%s for its group", f.query, d)
		}
		out.group[i] = c
	}
	if res.Bucket != "" {
		c, ok := at["g_bucket"]
		if !ok {
			return familyColumns{}, fmt.Errorf("query %s returns no column g_bucket", f.query)
		}
		out.bucket = c
	}
	if c, ok := at["currency"]; ok {
		out.currency = c
	}
	returned := map[string]bool{}
	for i, n := range names {
		if strings.HasPrefix(n, "g_") || i == out.currency {
			continue
		}
		cc := componentColumn{col: i, name: n}
		if out.currency >= 0 && strings.HasPrefix(n, "n_") {
			cc.name, cc.across = strings.TrimPrefix(n, "n_"), true
		}
		if !contains(f.components, cc.name) {
			return familyColumns{}, fmt.Errorf("query %s returns column %s, which is none of its components (families in engine.go)", f.query, n)
		}
		returned[cc.name] = true
		out.comps = append(out.comps, cc)
	}
	for _, c := range f.components {
		if !returned[c] {
			return familyColumns{}, fmt.Errorf("query %s returns no column for its component %s", f.query, c)
		}
	}
	return out, nil
}

func groupFor(groups map[string]*groupData, cells []*string, bucket *string, loc *time.Location) (*groupData, error) {
	var key strings.Builder
	for _, c := range cells {
		if c == nil {
			key.WriteString("\x01")
		} else {
			key.WriteString(*c)
		}
		key.WriteString("\x00")
	}
	var bt time.Time
	if bucket != nil {
		var err error
		bt, err = time.ParseInLocation("2006-01-02 15:04:05", *bucket, loc)
		if err != nil {
			return nil, fmt.Errorf("bucket %q: %w", *bucket, err)
		}
		key.WriteString(*bucket)
	}
	g := groups[key.String()]
	if g == nil {
		g = &groupData{values: cells, bucket: bt, comps: newComps()}
		groups[key.String()] = g
	}
	return g, nil
}

// shape turns the groups into report rows, sorted by group values and
// bucket, with one Value per KPI (per currency for money).
func (e *Engine) shape(res *resolved, ids []string, groups map[string]*groupData) Report {
	rep := Report{
		Workspace: res.Workspace,
		From:      res.fromText(),
		To:        res.toText(),
		TimeZone:  res.Location.String(),
		Rows:      []Row{},
	}
	list := make([]*groupData, 0, len(groups))
	for _, g := range groups {
		list = append(list, g)
	}
	if len(list) == 0 && len(res.GroupBy) == 0 && res.Bucket == "" {
		list = append(list, &groupData{comps: newComps()})
	}
	sort.Slice(list, func(i, j int) bool { return lessGroup(list[i], list[j]) })
	for _, g := range list {
		row := Row{Group: map[string]*string{}}
		for i, d := range res.GroupBy {
			row.Group[d] = g.values[i]
		}
		if res.Bucket != "" {
			b := g.bucket.Format(time.RFC3339)
			row.Group["bucket"] = &b
		}
		for _, id := range ids {
			def := byID[id]
			band := bandOf(res, row, g, id)
			for _, fig := range def.calc.figures(g.comps) {
				v := Value{ID: id, Value: fig.value, Numerator: fig.num, Denominator: fig.den,
					Unit: def.Unit, Currency: fig.currency, Label: fig.label, Reason: fig.reason}
				if band != nil && (band.Currency == "" || band.Currency == fig.currency) {
					v.Band = band
					if fig.value != nil {
						v.Rating = rate(*fig.value, band, def.Direction)
					}
				}
				row.KPIs = append(row.KPIs, v)
			}
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep
}

// bandOf is the band a row's figures of KPI id are rated against, and
// shown with: the catalogue's; for a row about one channel, that
// platform's (channelBands); for a row about one person, the band of
// people's first responses (humanBands). A workspace's band for the id
// used wins.
func bandOf(res *resolved, row Row, g *groupData, id string) *Band {
	if people, ok := humanBands[id]; ok && rowIsPerson(res, row, g) {
		id = people
	}
	def := byID[id]
	band := def.Band
	if byChannel := channelBands[id]; byChannel != nil {
		band = byChannel[rowChannel(res, row)]
	}
	if o, ok := res.ws.Bands[id]; ok {
		band = &Band{Low: o.Low, High: o.High, Best: o.Best, Currency: def.bandCurrency(), Source: "workspace"}
	}
	return band
}

// rowChannel is the one channel a row is about: its group's, or the
// request's only channel filter; "" when it spans channels.
func rowChannel(res *resolved, row Row) string { return rowValue(res, row, "channel") }

// rowIsPerson tells whether a row is about one agent, a person: grouped
// by agent or filtered to one, and none of its first responses was a
// bot's (bots send as actor bot, usually without an agent).
func rowIsPerson(res *resolved, row Row, g *groupData) bool {
	return rowValue(res, row, "agent") != "" && g.comps.plain["frt_bot"] == 0
}

// rowValue is the one value of dimension d a row is about: its group's,
// or the request's only filter on d; "" when it spans several.
func rowValue(res *resolved, row Row, d string) string {
	if v, grouped := row.Group[d]; grouped {
		return deref(v)
	}
	if f := res.Filters[d]; len(f) == 1 {
		return f[0]
	}
	return ""
}

func (d entry) bandCurrency() string {
	if d.Band != nil {
		return d.Band.Currency
	}
	return ""
}

func lessGroup(a, b *groupData) bool {
	for i := range a.values {
		av, bv := a.values[i], b.values[i]
		switch {
		case av == nil && bv == nil:
			continue
		case av == nil:
			return false // the group without a value goes last
		case bv == nil:
			return true
		case *av != *bv:
			return *av < *bv
		}
	}
	return a.bucket.Before(b.bucket)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
