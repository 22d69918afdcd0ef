// Package cli holds omnikpi's subcommands, one file each.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/audit"
	"github.com/omnikpi/omnikpi/internal/config"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// env is what every subcommand gets: its streams, the environment and a
// logger.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string // as os.Environ gives it, read by config alone
	log            *slog.Logger
	dumpSQL        bool // engines print their queries on stderr (config.Config.DumpSQL)
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"demo", "generate a realistic data set, import it, print the KPIs and serve them", runDemo},
		{"serve", "serve HTTP ingestion and the REST API", runServe},
		{"import", "import .jsonl or .csv event files (gzip too)", runImport},
		{"import-meta", "import Meta's pricing and template analytics answers, to reconcile with omnikpi's figures", runImportMeta},
		{"report", "print KPIs as a table, JSON or CSV", runReport},
		{"keys", "create, list, rotate and revoke API keys of a workspace", runKeys},
		{"audit", "print a workspace's audit trail: who changed what, and when", runAudit},
		{"quarantine", "list or ingest the webhook parts of numbers no workspace maps", runQuarantine},
		{"users", "add, list and remove the dashboard users of a workspace", runUsers},
		{"links", "make and list click-to-chat links (wa.me, m.me, ig.me) that count as touches", runLinks},
		{"workspace", "show or change a workspace's settings (time zone, phone hashing)", runWorkspace},
		{"forget", "erase a customer, by id or phone number, or a whole workspace", runForget},
		{"retention", "show, set or apply a workspace's retention policy", runRetention},
		{"bench", "generate events, then measure import, HTTP ingestion and KPI latency, and print a table", runBench},
	}
}

// systemUser names who runs the command, for the audit trail of changes
// made on the store itself.
func systemUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "uid " + strconv.Itoa(os.Getuid())
}

// errUsage marks an error already explained by a usage message.
var errUsage = errors.New("usage")

// Run runs the subcommand named by args[0] and returns the exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, environ: os.Environ()}
	settings, err := config.Environment(e.environ)
	if err != nil {
		fmt.Fprintf(stderr, "omnikpi: %v\n", err)
		return 2
	}
	e.log, e.dumpSQL = newLogger(stderr, settings.Log), settings.DumpSQL
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(audit.As(ctx, "cli "+systemUser()), e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(stderr, "omnikpi %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "omnikpi: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "omnikpi: KPIs for conversational and social commerce, from your own events.")
	fmt.Fprintln(w, "\nUsage: omnikpi COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'omnikpi COMMAND -h' for a command's flags.")
}

// newLogger logs text to w at level, info or debug.
func newLogger(w io.Writer, level string) *slog.Logger {
	l := slog.LevelInfo
	if level == "debug" {
		l = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// engine returns a KPI engine reading s, printing its queries when the
// configuration says so.
func (e *env) engine(s store.Store) (*kpi.Engine, error) {
	engine, err := kpi.New(s)
	if err == nil && e.dumpSQL {
		engine.DumpSQL = e.stderr
	}
	return engine, err
}

// DefaultDB is the database used when --db is not given.
const DefaultDB = config.DefaultDB

// newFlags makes a flag set that reports errors instead of exiting.
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: omnikpi %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and turns flag errors into errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// durationValue is a duration flag read by store.ParseDuration ("7d",
// "24h", "90m") and shown as store.FormatDuration writes it. With a bare
// unit, a plain number counts in it ("5" seconds).
type durationValue struct {
	d    *time.Duration
	bare time.Duration
}

func (v durationValue) String() string {
	if v.d == nil {
		return "0s" // the zero value, which flag compares defaults with
	}
	return store.FormatDuration(*v.d)
}

func (v durationValue) Set(s string) error {
	if v.bare != 0 {
		if n, err := strconv.ParseFloat(s, 64); err == nil && n >= 0 && n*float64(v.bare) < math.MaxInt64 {
			*v.d = time.Duration(n * float64(v.bare))
			return nil
		}
	}
	d, err := store.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration such as 7d, 24h or 90m")
	}
	*v.d = d
	return nil
}

// durationFlag defines a duration flag that takes days as well: 7d, 24h,
// 90m.
func durationFlag(fs *flag.FlagSet, name string, def time.Duration, usage string) *time.Duration {
	d := def
	fs.Var(durationValue{d: &d}, name, usage)
	return &d
}

// dbUsage describes --db for every command.
const dbUsage = "DuckDB file, or a ClickHouse server as clickhouse://host:9000/database"

// openStore opens the store named by --db: a clickhouse:// URL is a
// ClickHouse database, anything else a DuckDB file.
func openStore(ctx context.Context, db string) (store.Store, error) {
	if clickhouse.IsURL(db) {
		return clickhouse.Open(ctx, db)
	}
	if strings.Contains(db, "://") {
		return nil, fmt.Errorf("--db %s: want a DuckDB file path or clickhouse://host:9000/database", db)
	}
	return duckdb.Open(ctx, db)
}

// openExisting opens the store named by --db for a command that does not
// create one (report, keys list, users list…): a DuckDB file or ClickHouse
// database that does not exist is an error naming it, not a new empty one.
func openExisting(ctx context.Context, db string) (store.Store, error) {
	if clickhouse.IsURL(db) {
		ok, err := clickhouse.DatabaseExists(ctx, db)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("there is no database %s: name it with --db, or make it with omnikpi import, workspace or demo", clickhouse.Redacted(db))
		}
	} else if !strings.Contains(db, "://") {
		if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("there is no DuckDB file %s: name the file with --db, or make it with omnikpi import, workspace or demo", db)
		}
	}
	return openStore(ctx, db)
}

// openExistingWorkspace opens the store at db for a command that does not
// create workspaces and reads the workspace's settings: a workspace that
// does not exist is an error naming it and the ones there are. The caller
// closes the store.
func openExistingWorkspace(ctx context.Context, db, name string) (store.Store, store.Workspace, error) {
	s, err := openExisting(ctx, db)
	if err != nil {
		return nil, store.Workspace{}, err
	}
	ws, err := s.Workspace(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		err = unknownWorkspace(ctx, s, db, name)
	}
	if err != nil {
		s.Close()
		return nil, store.Workspace{}, err
	}
	return s, ws, nil
}

// unknownWorkspace says that db has no workspace name, and which it has.
func unknownWorkspace(ctx context.Context, s store.Store, db, name string) error {
	names, err := s.WorkspaceNames(ctx)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("there is no workspace %q in %s", name, db)
	switch {
	case len(names) == 0:
		msg += " (it has none yet)"
	case len(names) <= 10:
		msg += " (it has " + strings.Join(names, ", ") + ")"
	default:
		msg += fmt.Sprintf(" (it has %d, such as %s)", len(names), strings.Join(names[:10], ", "))
	}
	return errors.New(msg)
}

// openWorkspace opens the store at db and reads the workspace's settings,
// creating the workspace when it is new. The caller closes the store.
func openWorkspace(ctx context.Context, db, name string) (store.Store, store.Workspace, error) {
	s, err := openStore(ctx, db)
	if err != nil {
		return nil, store.Workspace{}, err
	}
	ws, err := workspaceOrNew(ctx, s, name)
	if err != nil {
		s.Close()
		return nil, store.Workspace{}, err
	}
	return s, ws, nil
}

// workspaceOrNew returns the workspace's settings, creating it with the
// defaults when it does not exist yet.
func workspaceOrNew(ctx context.Context, s store.Store, name string) (store.Workspace, error) {
	if name == "" {
		return store.Workspace{}, fmt.Errorf("--workspace is required")
	}
	return api.EnsureWorkspace(ctx, s, name)
}
