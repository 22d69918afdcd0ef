package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
)

// The PostgreSQL leg of the benchmark answers the headline KPIs the way a
// tool built on a row store would: plain SQL over one table of raw events,
// with indexes on the columns the queries look up. It loads the very rows
// the DuckDB import kept, so both answer over the same data, and its SQL
// follows the fact rules of internal/store (the earliest time per status,
// dimensions from the message's own send first, the earliest order_placed)
// so the figures agree; the benchmark checks that they do.

// pgBinDir is where Debian's postgresql-15 package keeps initdb and pg_ctl.
const pgBinDir = "/usr/lib/postgresql/15/bin"

// postgresInstalled reports whether PostgreSQL 15 can be started.
func postgresInstalled() bool {
	_, err := os.Stat(filepath.Join(pgBinDir, "initdb"))
	return err == nil
}

// pgSettings are the server settings of the run: the memory a database on
// this machine would be given (the defaults are sized for a small shared
// host), and enough WAL that a large COPY does not checkpoint repeatedly.
var pgSettings = []string{
	"shared_buffers=2GB", "work_mem=256MB", "maintenance_work_mem=1GB",
	"effective_cache_size=8GB", "max_wal_size=8GB", "random_page_cost=1.1",
}

// pgServer is a throw-away PostgreSQL server on loopback.
type pgServer struct {
	dir        string // data directory, socket directory and log; removed by stop
	asPostgres bool   // run the server as the postgres user: initdb refuses root
	conn       *pgx.Conn
}

// startPostgres creates a cluster in a temporary directory and starts it
// on a free loopback port.
func startPostgres(ctx context.Context) (*pgServer, error) {
	dir, err := os.MkdirTemp("", "omnikpi-bench-pg")
	if err != nil {
		return nil, err
	}
	p := &pgServer{dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("postgresql runs as the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		p.asPostgres = true
	}
	data := filepath.Join(dir, "data")
	if err := p.run(ctx, "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", port, dir)
	for _, s := range pgSettings {
		opts += " -c " + s
	}
	if err := p.run(ctx, "pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%w\n%s", err, bytes.TrimSpace(log))
	}
	p.conn, err = pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port))
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("connect to postgresql: %w", err)
	}
	return p, nil
}

// benchPostgres starts PostgreSQL, loads the events the DuckDB store s
// holds, times each of the families the benchmark times (every one but
// the whole catalogue) against the same KPIs asked of the engine over s,
// and checks PostgreSQL's figures against the engine's.
func benchPostgres(ctx context.Context, s store.Store, engine *kpi.Engine, req kpi.Request, ws store.Workspace, families []benchFamily, runs int,
	add func(cells ...string)) (err error) {
	p, err := startPostgres(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if serr := p.stop(); err == nil && serr != nil {
			err = fmt.Errorf("stop: %w", serr)
		}
	}()
	l, err := p.load(ctx, s, req.Workspace)
	if err != nil {
		return err
	}
	add("postgresql", "COPY load", rate(int(l.rows), l.copied), "",
		fmt.Sprintf("%s rows read from the DuckDB import; then indexes, CLUSTER by time and VACUUM ANALYZE in %.1f s; table %.0f MiB, indexes %.0f MiB; omnikpi's peak memory so far %s",
			count(l.rows), l.indexed.Seconds(), l.tableMB, l.indexMB, peakMemory()))
	w, err := newPGWindow(req, ws)
	if err != nil {
		return err
	}
	var f pgFigures
	var checked []pgFamily
	for _, fam := range pgFamilies {
		i := slices.IndexFunc(families, func(b benchFamily) bool { return b.name == fam.name })
		if i < 0 {
			continue // not timed in this run (the A/B test of a short history)
		}
		if fam.engine == nil {
			fam.engine = families[i].run
		}
		cold, warm, err := timePG(ctx, p.conn, w, fam, &f, runs)
		if err != nil {
			return fmt.Errorf("%s: %w", fam.name, err)
		}
		add("postgresql", "KPIs: "+fam.name+", 30 days", "", fmt.Sprintf("%s cold, %s warm", ms(cold), ms(warm)), fam.note(&f))
		_, duck, err := timeRuns(ctx, engine, req, fam.engine, runs)
		if err != nil {
			return fmt.Errorf("duckdb %s: %w", fam.name, err)
		}
		add("postgresql", fam.name+": "+speedup(warm, duck), "", "", fmt.Sprintf("warm, the same KPIs in the same run: PostgreSQL %s ÷ DuckDB %s", ms(warm), ms(duck)))
		checked = append(checked, fam)
	}
	same, err := compareWithEngine(ctx, engine, req, checked, &f)
	if err != nil {
		return err
	}
	add("postgresql", "same figures as omnikpi", "", "", same)
	return nil
}

// speedup says which of PostgreSQL (pg) and omnikpi's DuckDB store (duck)
// was faster, and how many times.
func speedup(pg, duck time.Duration) string {
	if pg >= duck {
		return "omnikpi DuckDB is " + times(float64(pg)/float64(duck)) + " faster"
	}
	return "PostgreSQL is " + times(float64(duck)/float64(pg)) + " faster"
}

// times formats a ratio with two significant digits or more, like 1.3× or 42×.
func times(r float64) string {
	if r < 10 {
		return strconv.FormatFloat(r, 'f', 1, 64) + "×"
	}
	return strconv.FormatFloat(r, 'f', 0, 64) + "×"
}

// run runs one of PostgreSQL's programs, as the postgres user when needed.
func (p *pgServer) run(ctx context.Context, program string, args ...string) error {
	path := filepath.Join(pgBinDir, program)
	if p.asPostgres {
		args = append([]string{"-u", "postgres", "--", path}, args...)
		path = "runuser"
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = p.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", program, err, bytes.TrimSpace(out))
	}
	return nil
}

// stop stops the server and removes its directory.
func (p *pgServer) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if p.conn != nil {
		p.conn.Close(ctx)
	}
	err := p.run(ctx, "pg_ctl", "-D", filepath.Join(p.dir, "data"), "-m", "fast", "-w", "stop")
	if rerr := os.RemoveAll(p.dir); err == nil {
		err = rerr
	}
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// pgEventColumns are the columns of the events table, as in the DuckDB
// store; tags is an array and props JSON.
var pgEventColumns = []string{"workspace", "id", "ts", "kind", "channel", "customer", "conversation", "message",
	"campaign", "template", "variant", "actor", "agent", "team", "order_id", "amount", "currency", "score", "count",
	"duration_ms", "text", "tags", "source", "medium", "utm_campaign", "utm_content", "utm_term", "product",
	"platform", "props", "received"}

const pgSchema = `CREATE TABLE events (
    workspace text NOT NULL, id text NOT NULL, ts bigint NOT NULL, kind text NOT NULL,
    channel text, customer text, conversation text, message text, campaign text, template text,
    variant text, actor text, agent text, team text, order_id text, amount bigint, currency text,
    score double precision, count bigint NOT NULL, duration_ms bigint, text text, tags text[],
    source text, medium text, utm_campaign text, utm_content text, utm_term text, product text,
    platform text, props jsonb, received bigint NOT NULL
)`

// pgIndexes are what a row store answering these questions would keep: the
// key, time ranges per workspace, and the entities the queries look up.
var pgIndexes = []string{
	"ALTER TABLE events ADD PRIMARY KEY (workspace, id)",
	"CREATE INDEX events_ts ON events (workspace, ts)",
	"CREATE INDEX events_message ON events (workspace, message)",
	"CREATE INDEX events_order ON events (workspace, order_id)",
	"CREATE INDEX events_conversation ON events (workspace, conversation)",
	"CREATE INDEX events_customer ON events (workspace, customer, ts)",
}

// pgLoad is what loading took.
type pgLoad struct {
	rows             int64
	copied, indexed  time.Duration // COPY; indexes, CLUSTER and VACUUM ANALYZE after it
	tableMB, indexMB float64
}

// load copies the workspace's events from s into a new events table with
// COPY, then builds the indexes and analyzes the table.
func (p *pgServer) load(ctx context.Context, s store.Store, workspace string) (pgLoad, error) {
	var l pgLoad
	if _, err := p.conn.Exec(ctx, pgSchema); err != nil {
		return l, fmt.Errorf("create events: %w", err)
	}
	rows, err := s.Query(ctx, "SELECT "+strings.Join(pgEventColumns, ", ")+" FROM events WHERE workspace = ?", workspace)
	if err != nil {
		return l, err
	}
	defer rows.Close()
	src := newStoreRowSource(rows, len(pgEventColumns))
	start := time.Now()
	if l.rows, err = p.conn.CopyFrom(ctx, pgx.Identifier{"events"}, pgEventColumns, src); err != nil {
		return l, fmt.Errorf("copy events: %w", err)
	}
	l.copied = time.Since(start)
	start = time.Now()
	// CLUSTER rewrites the table in time order, the order a live system
	// receives events in, so a time range is read from neighbouring pages
	// as it would be there.
	for _, q := range append(pgIndexes, "CLUSTER events USING events_ts", "VACUUM ANALYZE events") {
		if _, err := p.conn.Exec(ctx, q); err != nil {
			return l, fmt.Errorf("%s: %w", q, err)
		}
	}
	l.indexed = time.Since(start)
	var table, total int64
	if err := p.conn.QueryRow(ctx, "SELECT pg_table_size('events'), pg_total_relation_size('events')").Scan(&table, &total); err != nil {
		return l, err
	}
	l.tableMB, l.indexMB = float64(table)/(1<<20), float64(total-table)/(1<<20)
	return l, nil
}

// storeRowSource streams a store's rows into COPY.
type storeRowSource struct {
	rows store.Rows
	vals []any
	ptrs []any
	err  error
}

func newStoreRowSource(rows store.Rows, n int) *storeRowSource {
	src := &storeRowSource{rows: rows, vals: make([]any, n), ptrs: make([]any, n)}
	for i := range src.vals {
		src.ptrs[i] = &src.vals[i]
	}
	return src
}

func (s *storeRowSource) Next() bool {
	if !s.rows.Next() {
		return false
	}
	if s.err = s.rows.Scan(s.ptrs...); s.err != nil {
		return false
	}
	for i, v := range s.vals {
		if list, ok := v.([]any); ok { // tags
			strs := make([]string, len(list))
			for j, x := range list {
				strs[j] = fmt.Sprint(x)
			}
			s.vals[i] = strs
		}
	}
	return true
}

func (s *storeRowSource) Values() ([]any, error) { return s.vals, nil }

func (s *storeRowSource) Err() error {
	if s.err != nil {
		return s.err
	}
	return s.rows.Err()
}

// pgWindow is the period the KPIs are asked for, in Unix ms, with the
// windows of the workspace's settings and the engine's defaults.
type pgWindow struct {
	workspace    string
	from, to     int64
	optOut       int64  // the opt-out window
	conversion   int64  // the conversion window
	gap          int64  // the silence that splits a customer's messages without a conversation id
	lookback     int64  // attribution's lookback (the engine's default)
	halfLife     int64  // time decay's half-life (the engine's default)
	lyFrom, lyTo int64  // the same local dates a year earlier
	zone         string // the workspace's time zone
	abFrom       int64  // the A/B test's period starts here and ends at to
	abCampaign   string
}

// newPGWindow settles the times of req, as the engine does.
func newPGWindow(req kpi.Request, ws store.Workspace) (pgWindow, error) {
	loc, err := time.LoadLocation(ws.TimeZone)
	if err != nil {
		return pgWindow{}, err
	}
	from, err := time.Parse(time.RFC3339, req.From)
	if err != nil {
		return pgWindow{}, err
	}
	to, err := time.Parse(time.RFC3339, req.To)
	if err != nil {
		return pgWindow{}, err
	}
	ab := abRequest(req)
	abFrom, err := time.Parse(time.RFC3339, ab.From)
	if err != nil {
		return pgWindow{}, err
	}
	const day = 24 * time.Hour
	return pgWindow{workspace: req.Workspace, from: from.UnixMilli(), to: to.UnixMilli(),
		optOut: ws.Windows.OptOut.Millis(), conversion: ws.Windows.Conversion.Millis(),
		gap:      ws.Windows.SessionGap().Milliseconds(),
		lookback: (30 * day).Milliseconds(), halfLife: (7 * day).Milliseconds(),
		lyFrom: from.In(loc).AddDate(-1, 0, 0).UnixMilli(), lyTo: to.In(loc).AddDate(-1, 0, 0).UnixMilli(),
		zone: ws.TimeZone, abFrom: abFrom.UnixMilli(), abCampaign: ab.Filters["campaign"][0]}, nil
}

// pgFigures are the PostgreSQL answers the benchmark compares with the
// engine's.
type pgFigures struct {
	// message
	sent, delivered, read, clicked int64 // distinct messages of the period
	sentR, readR                   int64 // on channels that report reads: open rate's denominator and numerator
	campaigns                      int   // rows of the per-campaign funnel
	recipients, optedOut           int64
	// revenue
	orders, gross, net map[string]int64 // per currency, minor units
	// conversation
	sessions                    int64
	frtN, resolvedN             int64
	frtSum, frtMedian, resolSum float64 // seconds
	csatAnswers, csatSatisfied  int64
	npsAnswers, npsPromoters    int64
	npsDetractors               int64
	// funnel
	impressions, visits, interactions, purchasing int64
	checkouts, abandoned, transactions, ly        int64
	// attribution: per model, channel ("" for none) and currency
	attributed int64
	credits    map[string]pgCredit
	// cohort: per cohort start (RFC 3339)
	cohorts map[string]*pgCohort
	// a/b: per variant
	arms map[string]*pgArm
}

// pgCredit is what a model gives one channel in one currency.
type pgCredit struct {
	revenue     int64 // minor units
	conversions float64
}

// pgCohort is one cohort's size and what it did in each week after its
// first (0 the first).
type pgCohort struct {
	customers int64
	active    map[int]int64
	buyers    map[int]int64
	revenue   map[int]map[string]int64 // per currency, minor units, in the week
}

// pgArm is one variant's counts of the A/B test.
type pgArm struct {
	sent, sentE, sentR, readR, clickedE, converted int64
}

// pgFamily is one KPI family answered by PostgreSQL (run), the same KPIs
// asked of the engine (engine; the benchmark's family of the name when
// nil), and the check of PostgreSQL's figures against the engine's.
type pgFamily struct {
	name   string
	run    func(ctx context.Context, conn *pgx.Conn, w pgWindow, f *pgFigures) error
	engine func(ctx context.Context, e *kpi.Engine, r kpi.Request) error
	note   func(f *pgFigures) string
	check  func(ctx context.Context, e *kpi.Engine, r kpi.Request, f *pgFigures, a *agreement) error
}

var pgFamilies = []pgFamily{
	{"message", func(ctx context.Context, conn *pgx.Conn, w pgWindow, f *pgFigures) error {
		if err := pgFunnel(ctx, conn, w, f); err != nil {
			return err
		}
		return pgOptOuts(ctx, conn, w, f)
	}, func(ctx context.Context, e *kpi.Engine, r kpi.Request) error {
		funnel := r
		funnel.KPIs, funnel.GroupBy = []string{"messages_sent", "messages_delivered", "messages_read", "open_rate", "ctr"}, []string{"campaign"}
		if _, err := e.Compute(ctx, funnel); err != nil {
			return err
		}
		return kpis("opt_out_rate")(ctx, e, r)
	}, func(f *pgFigures) string {
		return fmt.Sprintf("per campaign (%d): %s sent, %s delivered, %s read, %s clicked, open rate %s, CTR %s; opt-out rate %s (%s of %s recipients)",
			f.campaigns, count(f.sent), count(f.delivered), count(f.read), count(f.clicked),
			percent(f.readR, f.sentR), percent(f.clicked, f.sent), percent(f.optedOut, f.recipients), count(f.optedOut), count(f.recipients))
	}, checkMessages},
	{"revenue", pgRevenue, kpis("gross_revenue", "net_revenue", "aov"), func(f *pgFigures) string {
		var parts []string
		for _, cur := range sortedKeys(f.orders) {
			aov := "-"
			if n := f.orders[cur]; n > 0 {
				aov = event.FormatMinor(int64(math.Round(float64(f.gross[cur])/float64(n))), cur)
			}
			parts = append(parts, fmt.Sprintf("%s: %s orders, gross %s, net %s, AOV %s",
				cur, count(f.orders[cur]), event.FormatMinor(f.gross[cur], cur), event.FormatMinor(f.net[cur], cur), aov))
		}
		return strings.Join(parts, "; ")
	}, checkRevenue},
	{"conversation", pgConversations, nil, func(f *pgFigures) string {
		return fmt.Sprintf("%s sessions; first response %s mean, %s median (%s answered); resolution %s mean (%s resolved); CSAT %s of %s; NPS %s of %s answers",
			count(f.sessions), seconds(f.frtSum, f.frtN), strconv.FormatFloat(f.frtMedian, 'f', 0, 64)+" s", count(f.frtN),
			seconds(f.resolSum, f.resolvedN), count(f.resolvedN), percent(f.csatSatisfied, f.csatAnswers), count(f.csatAnswers),
			nps(f.npsPromoters-f.npsDetractors, f.npsAnswers), count(f.npsAnswers))
	}, checkConversations},
	{"funnel", pgFunnelFamily, nil, func(f *pgFigures) string {
		return fmt.Sprintf("%s impressions, %s visits, social engagement %s, e-commerce conversion %s (%s visits with an order), cart abandonment %s (%s of %s), %s orders against %s a year earlier",
			count(f.impressions), count(f.visits), percent(f.interactions, f.impressions), percent(f.purchasing, f.visits), count(f.purchasing),
			percent(f.abandoned, f.checkouts), count(f.abandoned), count(f.checkouts), count(f.transactions), count(f.ly))
	}, checkFunnel},
	{"attribution", pgAttribution, nil, func(f *pgFigures) string {
		var parts []string
		for _, k := range sortedKeys(f.credits) {
			if model, rest, _ := strings.Cut(k, "\x1f"); model == "linear" {
				channel, cur, _ := strings.Cut(rest, "\x1f")
				if channel == "" {
					channel = "no touch"
				}
				parts = append(parts, fmt.Sprintf("%s %s %s", channel, event.FormatMinor(f.credits[k].revenue, cur), cur))
			}
		}
		return fmt.Sprintf("%s orders under 5 models by channel; linear: %s", count(f.attributed), strings.Join(parts, ", "))
	}, checkAttribution},
	{"cohort", pgCohorts, nil, func(f *pgFigures) string {
		var customers, active int64
		for _, c := range f.cohorts {
			customers += c.customers
			for _, n := range c.active {
				active += n
			}
		}
		return fmt.Sprintf("%d weekly cohorts of %s new customers, %s active customer-weeks", len(f.cohorts), count(customers), count(active))
	}, checkCohorts},
	{"a/b", pgABTest, nil, func(f *pgFigures) string {
		var parts []string
		for _, v := range sortedKeys(f.arms) {
			a := f.arms[v]
			parts = append(parts, fmt.Sprintf("%s: %s sent, open rate %s, CTR %s, conversion %s", v, count(a.sent),
				percent(a.readR, a.sentR), percent(a.clickedE, a.sentE), percent(a.converted, a.sentE)))
		}
		return "counts of the test's variants since the season's start: " + strings.Join(parts, "; ")
	}, checkABTest},
}

// pgMessageFacts is the SELECT of one row per message of ids, by the rules
// of store.MessageFacts: each time column is the earliest event of its
// kinds; each dimension comes from the message's own send or receipt
// first, then the earliest event, then the smallest value.
func pgMessageFacts(dims ...string) string {
	mf := store.MessageFacts
	cols := []string{"e.message"}
	for _, c := range mf.Columns {
		cols = append(cols, fmt.Sprintf("min(e.ts) FILTER (WHERE e.kind IN (%s)) AS %s", mf.KindList(c), c.Name))
	}
	for _, d := range dims {
		col := "e." + d
		if slices.Contains(mf.PropDims, d) {
			col = "(e.props->>'" + d + "')"
		}
		cols = append(cols, fmt.Sprintf("(array_agg(%[1]s ORDER BY e.kind NOT IN (%[2]s), e.ts, %[1]s) FILTER (WHERE %[1]s IS NOT NULL))[1] AS %[3]s",
			col, store.SQLList(mf.Primary), d))
	}
	return fmt.Sprintf(`SELECT %s
    FROM events e JOIN ids ON ids.message = e.message
    WHERE e.workspace = $1 AND e.kind IN (%s)
    GROUP BY e.message`, strings.Join(cols, ",\n        "), store.SQLList(mf.Kinds))
}

// pgMessageIDs selects the messages with an event between $2 and hi: a
// message whose send time is in that span has an event in it.
func pgMessageIDs(hi string) string {
	return fmt.Sprintf(`SELECT DISTINCT message FROM events
    WHERE workspace = $1 AND ts >= $2 AND ts < %s AND message IS NOT NULL AND kind IN (%s)`, hi, store.SQLList(store.MessageFacts.Kinds))
}

// pgOrderFacts is the SELECT of one row per order first placed between lo
// and hi, by the rules of store.OrderFacts: the time, amount and currency
// of its earliest order_placed (ties to the smallest event id), and the
// customer from its order_placed first, then the earliest event, then the
// smallest value.
func pgOrderFacts(lo, hi string) string {
	return fmt.Sprintf(`SELECT * FROM (
    SELECT e.order_id, min(e.ts) FILTER (WHERE e.kind = 'order_placed') AS placed_ms,
        (array_agg(e.amount ORDER BY e.ts, e.id) FILTER (WHERE e.kind = 'order_placed'))[1] AS amount,
        (array_agg(e.currency ORDER BY e.ts, e.id) FILTER (WHERE e.kind = 'order_placed'))[1] AS currency,
        (array_agg(e.customer ORDER BY e.kind <> 'order_placed', e.ts, e.customer) FILTER (WHERE e.customer IS NOT NULL))[1] AS customer
    FROM events e JOIN (
        SELECT DISTINCT order_id FROM events
        WHERE workspace = $1 AND kind = 'order_placed' AND order_id IS NOT NULL AND ts >= %[1]s AND ts < %[2]s
    ) ids ON ids.order_id = e.order_id
    WHERE e.workspace = $1 AND e.kind IN ('order_placed', 'order_refunded', 'order_returned')
    GROUP BY e.order_id
) ofs WHERE placed_ms >= %[1]s AND placed_ms < %[2]s`, lo, hi)
}

// pgNoReadReceipts are the channels that send no read receipts by
// default, which the open rate leaves out, as the catalogue does.
var pgNoReadReceipts = store.SQLList(store.NewWorkspace("").ChannelsWithout(true))

// pgCampaignClass is true for the messages the engagement rates count
// (KPIS.md §1): outbound, and neither an agent's or bot's reply nor billed
// as service.
const pgCampaignClass = `outbound_ms IS NOT NULL AND coalesce(actor, '') NOT IN ('agent', 'bot') AND coalesce(billable_category, '') <> 'service'`

// pgFunnel counts the period's distinct sent, delivered, read and clicked
// messages per campaign; a message belongs to the period of its send.
func pgFunnel(ctx context.Context, conn *pgx.Conn, w pgWindow, f *pgFigures) error {
	q := `WITH ids AS (` + pgMessageIDs("$3") + `),
m AS (` + pgMessageFacts("channel", "campaign", "actor", "billable_category") + `)
SELECT campaign,
    count(*) FILTER (WHERE outbound_ms IS NOT NULL),
    count(*) FILTER (WHERE outbound_ms IS NOT NULL AND delivered_ms IS NOT NULL),
    count(*) FILTER (WHERE outbound_ms IS NOT NULL AND read_ms IS NOT NULL),
    count(*) FILTER (WHERE clicked_ms IS NOT NULL AND ` + pgCampaignClass + `),
    count(*) FILTER (WHERE ` + pgCampaignClass + ` AND coalesce(channel, '') NOT IN (` + pgNoReadReceipts + `)),
    count(*) FILTER (WHERE ` + pgCampaignClass + ` AND read_ms IS NOT NULL AND coalesce(channel, '') NOT IN (` + pgNoReadReceipts + `))
FROM m
WHERE coalesce(sent_ms, first_ms) >= $2 AND coalesce(sent_ms, first_ms) < $3
GROUP BY campaign ORDER BY campaign`
	rows, err := conn.Query(ctx, q, w.workspace, w.from, w.to)
	if err != nil {
		return fmt.Errorf("funnel: %w", err)
	}
	defer rows.Close()
	f.sent, f.delivered, f.read, f.clicked, f.sentR, f.readR, f.campaigns = 0, 0, 0, 0, 0, 0, 0
	for rows.Next() {
		var campaign *string
		var sent, delivered, read, clicked, sentR, readR int64
		if err := rows.Scan(&campaign, &sent, &delivered, &read, &clicked, &sentR, &readR); err != nil {
			return err
		}
		f.sent += sent
		f.delivered += delivered
		f.read += read
		f.clicked += clicked
		f.sentR += sentR
		f.readR += readR
		f.campaigns++
	}
	return rows.Err()
}

// pgOptOuts counts the period's recipients of campaign messages and those
// who opted out: an opt-out counts against the customer's latest campaign
// message within the opt-out window before it, on the opt-out's channel
// when it names one.
func pgOptOuts(ctx context.Context, conn *pgx.Conn, w pgWindow, f *pgFigures) error {
	q := `WITH ids AS (` + pgMessageIDs("$3::bigint + $4::bigint") + `),
m AS (` + pgMessageFacts("channel", "customer", "actor", "billable_category") + `),
o AS (
    SELECT message, customer, channel, coalesce(sent_ms, first_ms) AS st FROM m
    WHERE ` + pgCampaignClass + ` AND customer IS NOT NULL
      AND coalesce(sent_ms, first_ms) >= $2 AND coalesce(sent_ms, first_ms) < $3::bigint + $4::bigint
),
x AS (
    SELECT id, customer, channel, ts FROM events
    WHERE workspace = $1 AND kind = 'opted_out' AND customer IS NOT NULL AND ts >= $2 AND ts < $3::bigint + $4::bigint
),
won AS (
    SELECT DISTINCT ON (x.id) o.message
    FROM x JOIN o ON o.customer = x.customer AND (x.channel IS NULL OR o.channel = x.channel)
        AND o.st <= x.ts AND o.st > x.ts - $4::bigint
    ORDER BY x.id, o.st DESC, o.message DESC
)
SELECT (SELECT count(DISTINCT customer) FROM o WHERE st < $3),
    (SELECT count(DISTINCT o.customer) FROM o JOIN won ON won.message = o.message WHERE o.st < $3)`
	if err := conn.QueryRow(ctx, q, w.workspace, w.from, w.to, w.optOut).Scan(&f.recipients, &f.optedOut); err != nil {
		return fmt.Errorf("opt-outs: %w", err)
	}
	return nil
}

// pgRevenue sums the orders first placed in the period per currency: the
// amount of the earliest order_placed (ties to the smallest event id), and
// net of every refund and return of those orders (a return without amount
// undoes the whole order).
func pgRevenue(ctx context.Context, conn *pgx.Conn, w pgWindow, f *pgFigures) error {
	q := `WITH placed AS (
    SELECT DISTINCT ON (order_id) order_id, amount, currency FROM events
    WHERE workspace = $1 AND kind = 'order_placed' AND order_id IS NOT NULL AND ts >= $2 AND ts < $3
    ORDER BY order_id, ts, id
), o AS (
    SELECT * FROM placed p WHERE NOT EXISTS (
        SELECT 1 FROM events b
        WHERE b.workspace = $1 AND b.order_id = p.order_id AND b.kind = 'order_placed' AND b.ts < $2)
), undone AS (
    SELECT u.order_id,
        coalesce(sum(u.amount) FILTER (WHERE u.kind = 'order_refunded'), 0)
            + coalesce(sum(u.amount) FILTER (WHERE u.kind = 'order_returned'), 0) AS amount,
        bool_or(u.kind = 'order_returned' AND u.amount IS NULL) AS whole
    FROM events u JOIN o ON o.order_id = u.order_id
    WHERE u.workspace = $1 AND u.kind IN ('order_refunded', 'order_returned')
    GROUP BY u.order_id
)
SELECT coalesce(o.currency, ''), count(*), coalesce(sum(o.amount), 0),
    coalesce(sum(o.amount - least(o.amount, CASE WHEN u.whole THEN o.amount ELSE coalesce(u.amount, 0) END)), 0)
FROM o LEFT JOIN undone u ON u.order_id = o.order_id
GROUP BY o.currency`
	rows, err := conn.Query(ctx, q, w.workspace, w.from, w.to)
	if err != nil {
		return fmt.Errorf("revenue: %w", err)
	}
	defer rows.Close()
	f.orders, f.gross, f.net = map[string]int64{}, map[string]int64{}, map[string]int64{}
	for rows.Next() {
		var cur string
		var n, gross, net int64
		if err := rows.Scan(&cur, &n, &gross, &net); err != nil {
			return err
		}
		f.orders[cur], f.gross[cur], f.net[cur] = n, gross, net
	}
	return rows.Err()
}

// pgSessionKinds are the events conversations are made of, and
// pgSessionStarts those that start a new session after a resolution.
const (
	pgSessionKinds  = `'message_received', 'message_sent', 'conversation_opened', 'conversation_assigned', 'conversation_resolved', 'conversation_reopened', 'goal_reached'`
	pgSessionStarts = `'conversation_opened', 'conversation_reopened', 'message_received'`
)

// pgConversations splits conversations into sessions and measures those
// that start in the period, by the rules of the catalogue (KPIS.md §3),
// each key (a conversation id, or a customer on a channel for messages
// that name none) over its whole history, so a session is the same
// whatever period asks for it: a customer's messages and the agents' and
// bots' messages, each message once (its first event of a kind, with what
// its copies name); a customer's messages without a conversation split by
// silence; a new session at a reopening, an opening or a customer message
// after a resolution; the first response from the session's first
// customer message to the first reply after it, the resolution from the
// session's start to its first resolution, in wall-clock seconds. Events
// at the same millisecond go in the order opening, reopening, customer
// message, assignment, reply, goal, resolution, then by id. The keys are
// those of the period's events and of their messages' copies. Then the
// period's CSAT and NPS answers.
func pgConversations(ctx context.Context, conn *pgx.Conn, w pgWindow, f *pgFigures) error {
	counts := func(alias string) string {
		return fmt.Sprintf(`%[1]s.workspace = $1 AND %[1]s.kind IN (%[2]s)
      AND (%[1]s.conversation IS NOT NULL OR %[1]s.kind IN ('message_received', 'message_sent'))
      AND (%[1]s.kind <> 'message_sent' OR %[1]s.actor IN ('agent', 'bot'))`, alias, pgSessionKinds)
	}
	q := `WITH inperiod AS (
    SELECT p.conversation, p.customer, p.channel, p.message, p.kind FROM events p
    WHERE ` + counts("p") + ` AND p.ts >= $2 AND p.ts < $3
), named AS (
    SELECT p.conversation, p.customer, p.channel FROM inperiod p
    UNION
    SELECT c.conversation, c.customer, c.channel FROM events c JOIN inperiod p ON p.message = c.message AND p.kind = c.kind
    WHERE ` + counts("c") + ` AND p.message IS NOT NULL
), ofkeys AS (
    SELECT e.id, e.ts, e.kind, e.conversation, e.channel, e.customer, e.message FROM events e
    WHERE ` + counts("e") + ` AND e.conversation IN (SELECT conversation FROM named WHERE conversation IS NOT NULL)
    UNION
    SELECT e.id, e.ts, e.kind, e.conversation, e.channel, e.customer, e.message FROM events e
    WHERE ` + counts("e") + ` AND e.conversation IS NULL
      AND (e.customer, coalesce(e.channel, '')) IN (
        SELECT customer, coalesce(channel, '') FROM named WHERE conversation IS NULL AND customer IS NOT NULL)
), raw AS (
    SELECT * FROM ofkeys
    UNION
    SELECT e.id, e.ts, e.kind, e.conversation, e.channel, e.customer, e.message FROM events e
    WHERE ` + counts("e") + ` AND e.message IN (SELECT message FROM ofkeys WHERE message IS NOT NULL)
), ev AS (
    SELECT id, ts, kind, conversation, channel, customer FROM raw
    WHERE message IS NULL OR kind NOT IN ('message_received', 'message_sent')
    UNION ALL
    SELECT (array_agg(id ORDER BY ts, id))[1], min(ts), kind,
        (array_agg(conversation ORDER BY ts, id) FILTER (WHERE conversation IS NOT NULL))[1],
        (array_agg(channel ORDER BY ts, id) FILTER (WHERE channel IS NOT NULL))[1],
        (array_agg(customer ORDER BY ts, id) FILTER (WHERE customer IS NOT NULL))[1]
    FROM raw WHERE message IS NOT NULL AND kind IN ('message_received', 'message_sent')
    GROUP BY message, kind
), k AS (
    SELECT *, CASE kind WHEN 'conversation_opened' THEN 0 WHEN 'conversation_reopened' THEN 1 WHEN 'message_received' THEN 2
        WHEN 'conversation_assigned' THEN 3 WHEN 'message_sent' THEN 4 WHEN 'goal_reached' THEN 5 ELSE 6 END AS kord
    FROM ev WHERE conversation IS NOT NULL OR customer IS NOT NULL
), silence AS (
    SELECT *, CASE WHEN ts - lag(ts) OVER person <= $4::bigint THEN 0 ELSE 1 END AS starts
    FROM k WHERE conversation IS NULL
    WINDOW person AS (PARTITION BY customer, coalesce(channel, '') ORDER BY ts, kord, id)
), keyed AS (
    SELECT 'c' || conversation AS key, ts, kind, kord, id FROM k WHERE conversation IS NOT NULL
    UNION ALL
    SELECT 's' || customer || chr(31) || coalesce(channel, '') || chr(31)
            || sum(starts) OVER (PARTITION BY customer, coalesce(channel, '') ORDER BY ts, kord, id ROWS UNBOUNDED PRECEDING),
        ts, kind, kord, id
    FROM silence
), numbered AS (
    SELECT *, row_number() OVER (PARTITION BY key ORDER BY ts, kord, id) AS rn FROM keyed
), marked AS (
    SELECT *,
        max(rn) FILTER (WHERE kind = 'conversation_resolved') OVER before AS last_resolved,
        max(rn) FILTER (WHERE kind IN (` + pgSessionStarts + `)) OVER before AS last_start
    FROM numbered
    WINDOW before AS (PARTITION BY key ORDER BY rn ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
), split AS (
    SELECT *, sum(CASE WHEN rn = 1 OR (kind IN (` + pgSessionStarts + `) AND last_resolved > coalesce(last_start, 0)) THEN 1 ELSE 0 END)
        OVER (PARTITION BY key ORDER BY rn ROWS UNBOUNDED PRECEDING) AS session
    FROM marked
), firsts AS (
    SELECT *, min(rn) FILTER (WHERE kind = 'message_received') OVER (PARTITION BY key, session) AS first_in_rn FROM split
), s AS (
    SELECT left(key, 1) = 'c' AS named, min(ts) AS start,
        min(ts) FILTER (WHERE kind = 'message_received') AS first_in,
        min(ts) FILTER (WHERE kind = 'message_sent' AND rn > first_in_rn) AS first_reply,
        min(ts) FILTER (WHERE kind = 'conversation_resolved') AS resolved
    FROM firsts GROUP BY key, session
), p AS (
    SELECT (first_reply - first_in) / 1000.0::float8 AS frt, (resolved - start) / 1000.0::float8 AS resolution
    FROM s WHERE start >= $2 AND start < $3 AND (named OR first_in IS NOT NULL)
)
SELECT count(*), count(frt), coalesce(sum(frt), 0), coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY frt), 0),
    count(resolution), coalesce(sum(resolution), 0)
FROM p`
	if err := conn.QueryRow(ctx, q, w.workspace, w.from, w.to, w.gap).Scan(&f.sessions, &f.frtN, &f.frtSum, &f.frtMedian,
		&f.resolvedN, &f.resolSum); err != nil {
		return fmt.Errorf("sessions: %w", err)
	}
	q = `SELECT count(*) FILTER (WHERE props->>'survey' = 'csat'),
    count(*) FILTER (WHERE props->>'survey' = 'csat' AND score >= 4),
    count(*) FILTER (WHERE props->>'survey' = 'nps'),
    count(*) FILTER (WHERE props->>'survey' = 'nps' AND score >= 9),
    count(*) FILTER (WHERE props->>'survey' = 'nps' AND score < 7)
FROM events WHERE workspace = $1 AND kind = 'survey_answered' AND ts >= $2 AND ts < $3`
	if err := conn.QueryRow(ctx, q, w.workspace, w.from, w.to).Scan(&f.csatAnswers, &f.csatSatisfied, &f.npsAnswers, &f.npsPromoters,
		&f.npsDetractors); err != nil {
		return fmt.Errorf("surveys: %w", err)
	}
	return nil
}

// pgFunnelFamily counts the funnel of the period: impressions, visits,
// social interactions, checkouts and abandoned carts from the raw events;
// the visits of a known customer who placed an order between the visit's
// start and its end (an order at the same millisecond after it by id);
// the orders first placed in the period and in the same local dates a
// year earlier.
func pgFunnelFamily(ctx context.Context, conn *pgx.Conn, w pgWindow, f *pgFigures) error {
	q := `WITH c AS (
    SELECT coalesce(sum(count) FILTER (WHERE kind = 'impression'), 0)::bigint AS impressions,
        count(*) FILTER (WHERE kind = 'site_session') AS visits,
        coalesce(sum(count) FILTER (WHERE kind = 'social_interaction'), 0)::bigint AS interactions,
        count(*) FILTER (WHERE kind = 'checkout_started') AS checkouts,
        count(*) FILTER (WHERE kind = 'cart_abandoned') AS abandoned
    FROM events
    WHERE workspace = $1 AND ts >= $2 AND ts < $3
      AND kind IN ('impression', 'site_session', 'social_interaction', 'checkout_started', 'cart_abandoned')
), buying AS (
    SELECT count(*) AS purchasing FROM events s
    WHERE s.workspace = $1 AND s.kind = 'site_session' AND s.customer IS NOT NULL AND s.ts >= $2 AND s.ts < $3
      AND EXISTS (
        SELECT 1 FROM events o
        WHERE o.workspace = $1 AND o.customer = s.customer AND o.kind = 'order_placed'
          AND o.ts >= s.ts AND o.ts <= s.ts + coalesce(s.duration_ms, 0) AND o.ts < $3::bigint + $4::bigint
          AND (o.ts > s.ts OR o.id > s.id))
), firsts AS (
    SELECT order_id, min(ts) AS placed FROM events
    WHERE workspace = $1 AND kind = 'order_placed' AND order_id IS NOT NULL
      AND ((ts >= $2 AND ts < $3) OR (ts >= $5 AND ts < $6))
    GROUP BY order_id
), placed AS (
    SELECT placed FROM firsts p WHERE NOT EXISTS (
        SELECT 1 FROM events b WHERE b.workspace = $1 AND b.order_id = p.order_id AND b.kind = 'order_placed' AND b.ts < p.placed)
)
SELECT c.*, buying.purchasing,
    (SELECT count(*) FROM placed WHERE placed >= $2 AND placed < $3),
    (SELECT count(*) FROM placed WHERE placed >= $5 AND placed < $6)
FROM c, buying`
	if err := conn.QueryRow(ctx, q, w.workspace, w.from, w.to, w.conversion, w.lyFrom, w.lyTo).Scan(&f.impressions, &f.visits, &f.interactions,
		&f.checkouts, &f.abandoned, &f.purchasing, &f.transactions, &f.ly); err != nil {
		return fmt.Errorf("funnel: %w", err)
	}
	return nil
}

// pgModels are the attribution models, as the engine names them.
const pgModels = `(VALUES ('first_touch'), ('last_touch'), ('linear'), ('time_decay'), ('position_based')) md(model)`

// pgAttribution credits each order first placed in the period with an
// amount to the customer's touches in the lookback window up to it, under
// every model, by channel: leads, visits with a source or campaign, orders
// with the source of their visit, and each message once (KPIS.md §7), for
// the customer of the message: an inbound message at its receipt, a
// campaign message read at the read and clicked at the click. Touches go
// in time order, then by id (a message's receipt as i:message, its read
// as r:message, its click as c:message). Each share is rounded down in
// minor units and the units left go to the largest remainders, ties to
// the earlier touch, so the shares add up to the order; an order without
// a touch (an order without a customer has none) goes to a row without
// channel.
func pgAttribution(ctx context.Context, conn *pgx.Conn, w pgWindow, f *pgFigures) error {
	q := `WITH o AS (
    SELECT order_id, placed_ms, amount, currency, customer FROM (` + pgOrderFacts("$2", "$3") + `) ofs
    WHERE amount IS NOT NULL
), ids AS (
    SELECT DISTINCT message FROM events
    WHERE workspace = $1 AND message IS NOT NULL AND kind IN ('message_received', 'message_read', 'link_clicked', 'button_clicked')
      AND ts >= $2::bigint - $4::bigint AND ts < $3
), m AS (` + pgMessageFacts("channel", "customer", "campaign") + `
), t AS (
    SELECT customer, ts, id, channel FROM events
    WHERE workspace = $1 AND customer IS NOT NULL AND ts >= $2::bigint - $4::bigint AND ts < $3
      AND (kind = 'lead_created'
        OR (kind = 'site_session' AND (source IS NOT NULL OR coalesce(campaign, utm_campaign) IS NOT NULL))
        OR (kind = 'order_placed' AND source IS NOT NULL))
    UNION ALL
    SELECT customer, received_ms, 'i:' || message, channel FROM m
    WHERE customer IS NOT NULL AND received_ms IS NOT NULL
    UNION ALL
    SELECT customer, read_ms, 'r:' || message, channel FROM m
    WHERE customer IS NOT NULL AND campaign IS NOT NULL AND read_ms IS NOT NULL
    UNION ALL
    SELECT customer, clicked_ms, 'c:' || message, channel FROM m
    WHERE customer IS NOT NULL AND campaign IS NOT NULL AND clicked_ms IS NOT NULL
), ot AS (
    SELECT o.order_id, o.placed_ms, o.amount, o.currency, t.channel, t.ts,
        row_number() OVER (PARTITION BY o.order_id ORDER BY t.ts, t.id) AS i,
        count(*) OVER (PARTITION BY o.order_id) AS n
    FROM o JOIN t ON t.customer = o.customer AND t.ts >= o.placed_ms - $4::bigint AND t.ts <= o.placed_ms
), wt AS (
    SELECT ot.*, md.model, CASE md.model
            WHEN 'first_touch' THEN CASE WHEN i = 1 THEN 1 ELSE 0 END::float8
            WHEN 'last_touch' THEN CASE WHEN i = n THEN 1 ELSE 0 END::float8
            WHEN 'linear' THEN 1::float8
            WHEN 'time_decay' THEN power(2::float8, -(placed_ms - ts)::float8 / $5::float8)
            ELSE CASE WHEN n = 1 THEN 1::float8 WHEN n = 2 THEN 0.5::float8 WHEN i = 1 OR i = n THEN 0.4::float8
                ELSE 0.2::float8 / (n - 2)::float8 END
        END AS w
    FROM ot CROSS JOIN ` + pgModels + `
), shares AS (
    SELECT *, floor(amount::float8 * w / total) AS whole, amount::float8 * w / total AS exact FROM (
        SELECT *, sum(w) OVER (PARTITION BY order_id, model ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS total FROM wt
    ) x
), ranked AS (
    SELECT *, amount - sum(whole) OVER (PARTITION BY order_id, model) AS leftover,
        row_number() OVER (PARTITION BY order_id, model ORDER BY exact - whole DESC, i) AS r
    FROM shares
)
SELECT model, coalesce(channel, ''), currency, sum(whole::bigint + CASE WHEN r <= leftover THEN 1 ELSE 0 END)::bigint, sum(w / total)
FROM ranked WHERE w > 0 GROUP BY model, channel, currency
UNION ALL
SELECT md.model, '', o.currency, sum(o.amount)::bigint, count(*)::float8
FROM o CROSS JOIN ` + pgModels + `
WHERE NOT EXISTS (SELECT 1 FROM ot WHERE ot.order_id = o.order_id)
GROUP BY md.model, o.currency
UNION ALL
SELECT '', '', '', count(*), 0 FROM o`
	rows, err := conn.Query(ctx, q, w.workspace, w.from, w.to, w.lookback, w.halfLife)
	if err != nil {
		return fmt.Errorf("attribution: %w", err)
	}
	defer rows.Close()
	f.credits = map[string]pgCredit{}
	for rows.Next() {
		var model, channel, cur string
		var c pgCredit
		if err := rows.Scan(&model, &channel, &cur, &c.revenue, &c.conversions); err != nil {
			return err
		}
		if model == "" {
			f.attributed = c.revenue
			continue
		}
		k := creditKey(model, channel, cur)
		old := f.credits[k]
		f.credits[k] = pgCredit{revenue: old.revenue + c.revenue, conversions: old.conversions + c.conversions}
	}
	return rows.Err()
}

func creditKey(model, channel, currency string) string {
	return model + "\x1f" + channel + "\x1f" + currency
}

// pgCohorts groups the customers whose first event ever falls in the
// period by its local week (from Monday), and counts per later week of
// the period the cohort's customers with any event, those with an
// order_placed, and the revenue of the orders they first placed in it.
func pgCohorts(ctx context.Context, conn *pgx.Conn, w pgWindow, f *pgFigures) error {
	q := `WITH firsts AS (
    SELECT customer, min(ts) AS first_ms FROM events
    WHERE workspace = $1 AND customer IS NOT NULL AND ts >= $2 AND ts < $3
    GROUP BY customer
), c AS (
    SELECT customer, date_trunc('week', (timestamptz 'epoch' + first_ms * interval '1 millisecond') AT TIME ZONE $4) AS start
    FROM firsts fs WHERE NOT EXISTS (SELECT 1 FROM events b WHERE b.workspace = $1 AND b.customer = fs.customer AND b.ts < $2)
), act AS (
    SELECT e.customer, date_trunc('week', (timestamptz 'epoch' + e.ts * interval '1 millisecond') AT TIME ZONE $4) AS week,
        bool_or(e.kind = 'order_placed') AS bought
    FROM events e JOIN c ON c.customer = e.customer
    WHERE e.workspace = $1 AND e.ts >= $2 AND e.ts < $3
    GROUP BY e.customer, week
), o AS (
    SELECT customer, date_trunc('week', (timestamptz 'epoch' + placed_ms * interval '1 millisecond') AT TIME ZONE $4) AS week, currency, amount
    FROM (` + pgOrderFacts("$2", "$3") + `) ofs
    WHERE customer IS NOT NULL AND amount IS NOT NULL
)
SELECT 's', start, 0, '', count(*), 0 FROM c GROUP BY start
UNION ALL
SELECT 'a', c.start, (act.week::date - c.start::date) / 7, '', count(*), count(*) FILTER (WHERE act.bought)
FROM act JOIN c ON c.customer = act.customer GROUP BY c.start, act.week
UNION ALL
SELECT 'r', c.start, (o.week::date - c.start::date) / 7, coalesce(o.currency, ''), sum(o.amount)::bigint, 0
FROM o JOIN c ON c.customer = o.customer GROUP BY c.start, o.week, o.currency`
	rows, err := conn.Query(ctx, q, w.workspace, w.from, w.to, w.zone)
	if err != nil {
		return fmt.Errorf("cohorts: %w", err)
	}
	defer rows.Close()
	loc, err := time.LoadLocation(w.zone)
	if err != nil {
		return err
	}
	f.cohorts = map[string]*pgCohort{}
	for rows.Next() {
		var what, cur string
		var start time.Time
		var k int
		var n, m int64
		if err := rows.Scan(&what, &start, &k, &cur, &n, &m); err != nil {
			return err
		}
		key := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc).Format(time.RFC3339)
		c := f.cohorts[key]
		if c == nil {
			c = &pgCohort{active: map[int]int64{}, buyers: map[int]int64{}, revenue: map[int]map[string]int64{}}
			f.cohorts[key] = c
		}
		switch what {
		case "s":
			c.customers = n
		case "a":
			c.active[k], c.buyers[k] = n, m
		case "r":
			if c.revenue[k] == nil {
				c.revenue[k] = map[string]int64{}
			}
			c.revenue[k][cur] += n
		}
	}
	return rows.Err()
}

// pgABTest counts the A/B test's variants: the campaign's messages sent
// since the season's start, the open rate's and CTR's terms, and those
// that won a conversion: an order first placed, or a goal reached, goes to
// the customer's latest campaign message within the conversion window
// before it (ties to the greatest message id).
func pgABTest(ctx context.Context, conn *pgx.Conn, w pgWindow, f *pgFigures) error {
	q := `WITH ids AS (` + pgMessageIDs("$3::bigint + $4::bigint") + `),
m AS (
    SELECT *, coalesce(sent_ms, first_ms) AS st FROM (` + pgMessageFacts("channel", "customer", "campaign", "variant", "actor", "billable_category") + `) mf
), cm AS (
    SELECT message, customer, st FROM m
    WHERE ` + pgCampaignClass + ` AND customer IS NOT NULL AND campaign IS NOT NULL AND st >= $2 AND st < $3::bigint + $4::bigint
), cv AS (
    SELECT 'o:' || order_id AS cid, customer, placed_ms AS ts FROM (` + pgOrderFacts("$2::bigint - $4::bigint", "$3::bigint + $4::bigint") + `) ofs
    WHERE customer IS NOT NULL
    UNION ALL
    SELECT 'g:' || id, customer, ts FROM events
    WHERE workspace = $1 AND kind = 'goal_reached' AND customer IS NOT NULL AND ts >= $2::bigint - $4::bigint AND ts < $3::bigint + $4::bigint
), won AS (
    SELECT DISTINCT ON (cv.cid) cm.message
    FROM cv JOIN cm ON cm.customer = cv.customer AND cm.st <= cv.ts AND cm.st > cv.ts - $4::bigint
    ORDER BY cv.cid, cm.st DESC, cm.message DESC
)
SELECT variant,
    count(*) FILTER (WHERE outbound_ms IS NOT NULL),
    count(*) FILTER (WHERE ` + pgCampaignClass + `),
    count(*) FILTER (WHERE ` + pgCampaignClass + ` AND coalesce(channel, '') NOT IN (` + pgNoReadReceipts + `)),
    count(*) FILTER (WHERE ` + pgCampaignClass + ` AND read_ms IS NOT NULL AND coalesce(channel, '') NOT IN (` + pgNoReadReceipts + `)),
    count(*) FILTER (WHERE ` + pgCampaignClass + ` AND clicked_ms IS NOT NULL),
    count(*) FILTER (WHERE ` + pgCampaignClass + ` AND customer IS NOT NULL AND message IN (SELECT message FROM won))
FROM m
WHERE st >= $2 AND st < $3 AND campaign = $5 AND variant IS NOT NULL
GROUP BY variant`
	rows, err := conn.Query(ctx, q, w.workspace, w.abFrom, w.to, w.conversion, w.abCampaign)
	if err != nil {
		return fmt.Errorf("a/b: %w", err)
	}
	defer rows.Close()
	f.arms = map[string]*pgArm{}
	for rows.Next() {
		var variant string
		a := &pgArm{}
		if err := rows.Scan(&variant, &a.sent, &a.sentE, &a.sentR, &a.readR, &a.clickedE, &a.converted); err != nil {
			return err
		}
		f.arms[variant] = a
	}
	return rows.Err()
}

// timePG times one cold run and the median of warm runs of a family.
func timePG(ctx context.Context, conn *pgx.Conn, w pgWindow, fam pgFamily, f *pgFigures, runs int) (time.Duration, time.Duration, error) {
	var times []time.Duration
	for i := 0; i <= runs; i++ {
		start := time.Now()
		if err := fam.run(ctx, conn, w, f); err != nil {
			return 0, 0, err
		}
		times = append(times, time.Since(start))
	}
	cold, warm := times[0], times[1:]
	sort.Slice(warm, func(a, b int) bool { return warm[a] < warm[b] })
	return cold, warm[len(warm)/2], nil
}

// agreement collects the comparisons of PostgreSQL's figures with the
// engine's.
type agreement struct {
	n     int
	diffs []string
}

// same compares one figure: counts and money exactly, sums of seconds
// and shares of conversions to a billionth.
func (a *agreement) same(what string, postgresql, omnikpi float64) {
	a.n++
	if math.Abs(postgresql-omnikpi) > 1e-9*math.Max(1, math.Abs(omnikpi)) {
		a.diffs = append(a.diffs, fmt.Sprintf("%s: postgresql %v, omnikpi %v", what, postgresql, omnikpi))
	}
}

// values are a report's figures of its one row, by id and currency.
// computeValues asks the engine for kpis under req and returns the
// figures by KPI id.
func computeValues(ctx context.Context, e *kpi.Engine, req kpi.Request, kpis ...string) (map[string]kpi.Value, error) {
	req.KPIs = kpis
	rep, err := e.Compute(ctx, req)
	if err != nil {
		return nil, err
	}
	return values(rep)
}

func values(rep kpi.Report) (map[string]kpi.Value, error) {
	if len(rep.Rows) != 1 {
		return nil, fmt.Errorf("engine: %d rows, want 1", len(rep.Rows))
	}
	out := map[string]kpi.Value{}
	for _, v := range rep.Rows[0].KPIs {
		key := v.ID
		if v.Currency != "" {
			key += " " + v.Currency
		}
		out[key] = v
	}
	return out, nil
}

// compareWithEngine checks that PostgreSQL's figures of each family are
// the engine's for the same request, and says what was compared.
func compareWithEngine(ctx context.Context, e *kpi.Engine, req kpi.Request, families []pgFamily, f *pgFigures) (string, error) {
	var all agreement
	var per []string
	for _, fam := range families {
		var a agreement
		if err := fam.check(ctx, e, req, f, &a); err != nil {
			return "", fmt.Errorf("%s: %w", fam.name, err)
		}
		for _, d := range a.diffs {
			all.diffs = append(all.diffs, fam.name+" "+d)
		}
		all.n += a.n
		per = append(per, fmt.Sprintf("%s %d", fam.name, a.n))
	}
	if len(all.diffs) > 0 {
		return "", errors.New("postgresql and omnikpi disagree: " + strings.Join(all.diffs, "; "))
	}
	return fmt.Sprintf("%d figures equal to omnikpi's (%s)", all.n, strings.Join(per, ", ")), nil
}

// checkMessages compares the message family: sent, delivered, read and
// clicked messages, the open and opt-out rates' terms.
func checkMessages(ctx context.Context, e *kpi.Engine, req kpi.Request, f *pgFigures, a *agreement) error {
	v, err := computeValues(ctx, e, req, "messages_sent", "messages_delivered", "messages_read", "ctr", "open_rate", "opt_out_rate")
	if err != nil {
		return err
	}
	a.same("sent", float64(f.sent), v["messages_sent"].Numerator)
	a.same("delivered", float64(f.delivered), v["messages_delivered"].Numerator)
	a.same("read", float64(f.read), v["messages_read"].Numerator)
	a.same("clicked", float64(f.clicked), v["ctr"].Numerator)
	a.same("open rate's numerator", float64(f.readR), v["open_rate"].Numerator)
	a.same("open rate's denominator", float64(f.sentR), v["open_rate"].Denominator)
	a.same("opted out", float64(f.optedOut), v["opt_out_rate"].Numerator)
	a.same("recipients", float64(f.recipients), v["opt_out_rate"].Denominator)
	return nil
}

// checkRevenue compares orders, gross and net revenue per currency.
func checkRevenue(ctx context.Context, e *kpi.Engine, req kpi.Request, f *pgFigures, a *agreement) error {
	v, err := computeValues(ctx, e, req, "aov", "net_revenue")
	if err != nil {
		return err
	}
	if len(f.orders) == 0 {
		return errors.New("postgresql found no order in the period")
	}
	for _, cur := range sortedKeys(f.orders) {
		scale := math.Pow10(event.MinorDigits(cur))
		a.same(cur+" orders", float64(f.orders[cur]), v["aov "+cur].Denominator)
		a.same(cur+" gross", float64(f.gross[cur])/scale, v["aov "+cur].Numerator)
		a.same(cur+" net", float64(f.net[cur])/scale, v["net_revenue "+cur].Numerator)
	}
	return nil
}

// checkConversations compares sessions, first response and resolution
// times (sums, counts and the median), CSAT and NPS terms.
func checkConversations(ctx context.Context, e *kpi.Engine, req kpi.Request, f *pgFigures, a *agreement) error {
	v, err := computeValues(ctx, e, req, "conversations", "first_response_time", "first_response_time_median", "resolution_time", "csat", "nps")
	if err != nil {
		return err
	}
	if f.sessions == 0 || f.frtN == 0 {
		return errors.New("postgresql found no answered conversation in the period")
	}
	a.same("sessions", float64(f.sessions), v["conversations"].Numerator)
	a.same("first responses", float64(f.frtN), v["first_response_time"].Denominator)
	a.same("first response seconds", f.frtSum, v["first_response_time"].Numerator)
	a.same("first response median", f.frtMedian, v["first_response_time_median"].Numerator)
	a.same("resolved", float64(f.resolvedN), v["resolution_time"].Denominator)
	a.same("resolution seconds", f.resolSum, v["resolution_time"].Numerator)
	a.same("CSAT answers", float64(f.csatAnswers), v["csat"].Denominator)
	a.same("CSAT satisfied", float64(f.csatSatisfied), v["csat"].Numerator)
	a.same("NPS answers", float64(f.npsAnswers), v["nps"].Denominator)
	a.same("NPS promoters less detractors", float64(f.npsPromoters-f.npsDetractors), v["nps"].Numerator)
	return nil
}

// checkFunnel compares the funnel family's terms.
func checkFunnel(ctx context.Context, e *kpi.Engine, req kpi.Request, f *pgFigures, a *agreement) error {
	v, err := computeValues(ctx, e, req, "impressions", "visits", "social_engagement_rate", "ecommerce_conversion_rate", "cart_abandonment_rate", "transactions_yoy")
	if err != nil {
		return err
	}
	a.same("impressions", float64(f.impressions), v["impressions"].Numerator)
	a.same("visits", float64(f.visits), v["visits"].Numerator)
	a.same("social interactions", float64(f.interactions), v["social_engagement_rate"].Numerator)
	a.same("impressions (engagement)", float64(f.impressions), v["social_engagement_rate"].Denominator)
	a.same("visits with an order", float64(f.purchasing), v["ecommerce_conversion_rate"].Numerator)
	a.same("visits (conversion)", float64(f.visits), v["ecommerce_conversion_rate"].Denominator)
	a.same("carts abandoned", float64(f.abandoned), v["cart_abandonment_rate"].Numerator)
	a.same("checkouts", float64(f.checkouts), v["cart_abandonment_rate"].Denominator)
	a.same("orders less last year's", float64(f.transactions-f.ly), v["transactions_yoy"].Numerator)
	a.same("orders last year", float64(f.ly), v["transactions_yoy"].Denominator)
	return nil
}

// checkAttribution compares the orders attributed and each model's
// revenue and conversions per channel and currency.
func checkAttribution(ctx context.Context, e *kpi.Engine, req kpi.Request, f *pgFigures, a *agreement) error {
	rep, err := e.Attribution(ctx, req, []string{"channel"})
	if err != nil {
		return err
	}
	if f.attributed == 0 {
		return errors.New("postgresql found no order to attribute in the period")
	}
	a.same("orders", float64(f.attributed), float64(rep.Orders))
	got := map[string]kpi.Credit{}
	for _, r := range rep.Rows {
		channel := ""
		if r.Channel != nil {
			channel = *r.Channel
		}
		for m, c := range r.Credits {
			got[creditKey(m, channel, r.Currency)] = c
		}
	}
	keys := sortedKeys(f.credits)
	for k := range got {
		if _, ok := f.credits[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		model, rest, _ := strings.Cut(k, "\x1f")
		channel, cur, _ := strings.Cut(rest, "\x1f")
		what := model + " " + channel + " " + cur
		a.same(what+" revenue", float64(f.credits[k].revenue)/math.Pow10(event.MinorDigits(cur)), got[k].Revenue)
		a.same(what+" conversions", f.credits[k].conversions, got[k].Conversions)
	}
	return nil
}

// checkCohorts compares each weekly cohort's size, its active customers
// and buyers in each week, and its cumulative revenue per customer.
func checkCohorts(ctx context.Context, e *kpi.Engine, req kpi.Request, f *pgFigures, a *agreement) error {
	rep, err := e.Cohorts(ctx, req, "week")
	if err != nil {
		return err
	}
	a.same("cohorts", float64(len(f.cohorts)), float64(len(rep.Cohorts)))
	for _, co := range rep.Cohorts {
		c := f.cohorts[co.Start]
		if c == nil {
			c = &pgCohort{}
		}
		a.same(co.Start+" customers", float64(c.customers), float64(co.Customers))
		total := map[string]int64{}
		for _, cell := range co.Cells {
			what := fmt.Sprintf("%s week %d", co.Start, cell.Period)
			a.same(what+" active", float64(c.active[cell.Period]), float64(cell.Active))
			a.same(what+" buyers", float64(c.buyers[cell.Period]), float64(cell.Buyers))
			for cur, v := range c.revenue[cell.Period] {
				total[cur] += v
			}
			for _, cur := range sortedKeys(total) {
				want := float64(total[cur]) / math.Pow10(event.MinorDigits(cur)) / float64(c.customers)
				a.same(what+" "+cur+" revenue per customer", want, cell.Revenue[cur])
			}
		}
	}
	return nil
}

// checkABTest compares each variant's counts with the engine's for the
// request the A/B test makes.
func checkABTest(ctx context.Context, e *kpi.Engine, req kpi.Request, f *pgFigures, a *agreement) error {
	r := abRequest(req)
	r.GroupBy = []string{"variant"}
	r.KPIs = []string{"messages_sent", "open_rate", "ctr", "campaign_conversion_rate"}
	rep, err := e.Compute(ctx, r)
	if err != nil {
		return err
	}
	if len(f.arms) < 2 {
		return fmt.Errorf("postgresql found %d variants of %s", len(f.arms), r.Filters["campaign"][0])
	}
	arms := 0
	for _, row := range rep.Rows {
		variant := row.Group["variant"]
		if variant == nil {
			continue
		}
		arms++
		p := f.arms[*variant]
		if p == nil {
			p = &pgArm{}
		}
		v := map[string]kpi.Value{}
		for _, x := range row.KPIs {
			v[x.ID] = x
		}
		a.same(*variant+" sent", float64(p.sent), v["messages_sent"].Numerator)
		a.same(*variant+" read", float64(p.readR), v["open_rate"].Numerator)
		a.same(*variant+" sent (open rate)", float64(p.sentR), v["open_rate"].Denominator)
		a.same(*variant+" clicked", float64(p.clickedE), v["ctr"].Numerator)
		a.same(*variant+" sent (CTR)", float64(p.sentE), v["ctr"].Denominator)
		a.same(*variant+" converted", float64(p.converted), v["campaign_conversion_rate"].Numerator)
	}
	a.same("variants", float64(len(f.arms)), float64(arms))
	return nil
}

// seconds is a mean in seconds, or - without samples.
func seconds(sum float64, n int64) string {
	if n == 0 {
		return "-"
	}
	return strconv.FormatFloat(sum/float64(n), 'f', 0, 64) + " s"
}

// nps is a net promoter score of answers.
func nps(net, answers int64) string {
	if answers == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(net)/float64(answers)*100, 'f', 1, 64)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// count formats n with thousands separators.
func count(n int64) string {
	if n < 0 {
		return "-" + group3(strconv.FormatInt(-n, 10))
	}
	return group3(strconv.FormatInt(n, 10))
}

func percent(num, den int64) string {
	if den == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(num)/float64(den)*100, 'f', 2, 64) + " %"
}
