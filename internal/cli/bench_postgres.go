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
// holds, times each family against the same KPIs asked of the engine over
// s, and checks PostgreSQL's figures against the engine's.
func benchPostgres(ctx context.Context, s store.Store, engine *kpi.Engine, req kpi.Request, ws store.Workspace, runs int,
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
	from, err := time.Parse(time.RFC3339, req.From)
	if err != nil {
		return err
	}
	to, err := time.Parse(time.RFC3339, req.To)
	if err != nil {
		return err
	}
	w := pgWindow{workspace: req.Workspace, from: from.UnixMilli(), to: to.UnixMilli(), optOut: ws.Windows.OptOut.Millis()}
	var f pgFigures
	for _, fam := range pgFamilies {
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
	}
	same, err := compareWithEngine(ctx, engine, req, &f)
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
// windows of the workspace's settings.
type pgWindow struct {
	workspace string
	from, to  int64
	optOut    int64 // the opt-out window, ms
}

// pgFigures are the PostgreSQL answers the benchmark compares with the
// engine's.
type pgFigures struct {
	sent, delivered, read, clicked int64 // distinct messages of the period
	sentR, readR                   int64 // on channels that report reads: open rate's denominator and numerator
	campaigns                      int   // rows of the per-campaign funnel
	recipients, optedOut           int64
	orders, gross, net             map[string]int64 // per currency, minor units
	conversations                  int64
	frtMean, frtMedian             float64 // seconds
}

// pgFamily is one KPI family answered by PostgreSQL (run) and the same
// KPIs asked of the engine (engine), for a ratio of like with like.
type pgFamily struct {
	name   string
	run    func(ctx context.Context, conn *pgx.Conn, w pgWindow, f *pgFigures) error
	engine func(ctx context.Context, e *kpi.Engine, r kpi.Request) error
	note   func(f *pgFigures) string
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
	}},
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
	}},
	{"conversation", pgFirstResponse, kpis("first_response_time", "first_response_time_median"), func(f *pgFigures) string {
		return fmt.Sprintf("by conversation id: %s answered, first response %.0f s mean, %.0f s median",
			count(f.conversations), f.frtMean, f.frtMedian)
	}},
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

// pgFirstResponse is the first response time of the conversations that
// start in the period: from the first customer message to the first agent
// or bot message after it, by conversation id, in wall-clock time. The
// engine splits conversations into sessions (reopenings, silence) and is
// not compared on this family.
func pgFirstResponse(ctx context.Context, conn *pgx.Conn, w pgWindow, f *pgFigures) error {
	q := `WITH c AS (
    SELECT conversation, min(ts) AS first_ms, min(ts) FILTER (WHERE kind = 'message_received') AS first_in
    FROM events
    WHERE workspace = $1 AND conversation IS NOT NULL AND ts >= $2::bigint - $4::bigint AND ts < $3
    GROUP BY conversation
), r AS (
    SELECT c.conversation, (min(e.ts) - c.first_in) / 1000.0 AS frt
    FROM c JOIN events e ON e.workspace = $1 AND e.conversation = c.conversation
    WHERE c.first_ms >= $2 AND e.kind = 'message_sent' AND e.actor IN ('agent', 'bot') AND e.ts >= c.first_in
    GROUP BY c.conversation, c.first_in
)
SELECT count(*), coalesce(avg(frt), 0), coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY frt), 0) FROM r`
	var mean, median float64
	if err := conn.QueryRow(ctx, q, w.workspace, w.from, w.to, w.optOut).Scan(&f.conversations, &mean, &median); err != nil {
		return fmt.Errorf("first response: %w", err)
	}
	f.frtMean, f.frtMedian = mean, median
	return nil
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

// compareWithEngine checks that PostgreSQL's figures are the engine's for
// the same request, and returns what was compared.
func compareWithEngine(ctx context.Context, e *kpi.Engine, req kpi.Request, f *pgFigures) (string, error) {
	req.KPIs = []string{"messages_sent", "messages_delivered", "messages_read", "ctr", "open_rate", "opt_out_rate", "aov", "net_revenue"}
	rep, err := e.Compute(ctx, req)
	if err != nil {
		return "", err
	}
	if len(rep.Rows) != 1 {
		return "", fmt.Errorf("engine: %d rows, want 1", len(rep.Rows))
	}
	got := map[string]float64{}
	for _, v := range rep.Rows[0].KPIs {
		key := v.ID
		if v.Currency != "" {
			key += " " + v.Currency
		}
		switch v.ID {
		case "ctr":
			got[key] = v.Numerator
		case "open_rate", "opt_out_rate":
			got[key+" numerator"], got[key+" denominator"] = v.Numerator, v.Denominator
		case "aov":
			got["gross "+v.Currency], got["orders "+v.Currency] = v.Numerator, v.Denominator
		case "net_revenue":
			got[key] = v.Numerator
		default:
			got[key] = v.Numerator
		}
	}
	want := map[string]float64{
		"messages_sent": float64(f.sent), "messages_delivered": float64(f.delivered), "messages_read": float64(f.read),
		"ctr": float64(f.clicked), "open_rate numerator": float64(f.readR), "open_rate denominator": float64(f.sentR),
		"opt_out_rate numerator": float64(f.optedOut), "opt_out_rate denominator": float64(f.recipients),
	}
	for cur, n := range f.orders {
		scale := math.Pow10(event.MinorDigits(cur))
		want["orders "+cur] = float64(n)
		want["gross "+cur] = float64(f.gross[cur]) / scale
		want["net_revenue "+cur] = float64(f.net[cur]) / scale
	}
	var diffs []string
	for _, k := range sortedKeys(want) {
		if g, ok := got[k]; !ok || math.Abs(g-want[k]) > 1e-6*math.Max(1, math.Abs(g)) {
			diffs = append(diffs, fmt.Sprintf("%s: postgresql %v, omnikpi %v", k, want[k], got[k]))
		}
	}
	if len(diffs) > 0 {
		return "", errors.New("postgresql and omnikpi disagree: " + strings.Join(diffs, "; "))
	}
	return fmt.Sprintf("%d figures equal to omnikpi's: sent, delivered, read and clicked messages, open and opt-out rates' terms, orders, gross and net revenue per currency", len(want)), nil
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
