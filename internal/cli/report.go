package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/omnikpi/omnikpi/internal/kpi"
)

func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report", "--workspace W [--from DATE] [--to DATE] [flags]")
	db := fs.String("db", DefaultDB, dbUsage)
	workspace := fs.String("workspace", "", "workspace to report on (required)")
	from := fs.String("from", "", "start, a date (2026-01-01) or RFC 3339 time; default 30 days before --to")
	to := fs.String("to", "", "end, exclusive; default the end of today")
	kpis := fs.String("kpi", "", "comma-separated KPI ids (default: all); see 'omnikpi report --list'")
	groupBy := fs.String("group-by", "", "comma-separated dimensions: "+strings.Join(kpi.Dimensions, ", "))
	bucket := fs.String("bucket", "", "split time into hour, day, week or month")
	tz := fs.String("tz", "", "time zone for dates and buckets (default: the workspace's)")
	format := fs.String("format", "table", "table, json or csv")
	listKPIs := fs.Bool("list", false, "list the KPI catalogue and exit")
	hours := fs.String("hours", "", "count response and resolution times in wall clock time (default) or business hours: wall or business")
	view := fs.String("view", "kpis", viewUsage())
	lookback := fs.String("lookback", "", "with --view attribution, how far before a purchase a touch counts (default 30d)")
	halfLife := fs.String("half-life", "", "with --view attribution, the time-decay half-life (default 7d)")
	compare := fs.String("compare", "", "previous, last_year or both: each figure beside the previous period's and the same dates last year's, with the change")
	segment := fs.String("segment", "", "only the customers of a segment, such as rfm:champions, satisfaction:detractor (see --view segments)")
	viewFlags := addViewFlags(fs)
	filters := map[string]*string{}
	for _, d := range kpi.Dimensions {
		filters[d] = fs.String(d, "", "only this "+d+" (comma-separated for several)")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *listKPIs {
		return printCatalogue(e.stdout)
	}
	if *workspace == "" {
		fmt.Fprintln(e.stderr, "omnikpi report: --workspace is required")
		fs.Usage()
		return errUsage
	}
	if *format != "table" && *format != "json" && *format != "csv" {
		return fmt.Errorf("--format %q: use table, json or csv", *format)
	}
	v, ok := kpi.ViewNamed(*view)
	if !ok {
		return fmt.Errorf("--view %q: use %s", *view, strings.Join(kpi.ViewNames(), ", "))
	}
	q := url.Values{}
	if v.Request {
		q = url.Values{"from": {*from}, "to": {*to}, "kpi": {*kpis}, "group_by": {*groupBy}, "bucket": {*bucket}, "tz": {*tz}, "hours": {*hours},
			"lookback": {*lookback}, "half_life": {*halfLife}, "compare": {*compare}, "segment": {*segment}}
		for d, f := range filters {
			if *f != "" {
				q.Set(d, *f)
			}
		}
	}
	if err := viewFlags.set(fs, v, q); err != nil {
		return err
	}
	for k, vals := range q {
		if len(vals) == 0 || vals[0] == "" {
			delete(q, k)
		}
	}
	req, params, err := v.Parse(*workspace, q)
	if err != nil {
		return err
	}
	c, err := viaServer(ctx, e, *db)
	if err != nil {
		return err
	}
	if c != nil {
		return reportViaAPI(ctx, e.stdout, c.WithWorkspace(*workspace), v, *format, q, params)
	}
	s, _, err := openExistingWorkspace(ctx, *db, *workspace)
	if err != nil {
		return err
	}
	defer s.Close()
	engine, err := e.engine(s)
	if err != nil {
		return err
	}
	out, err := v.Run(ctx, engine, req, params)
	if err != nil {
		return err
	}
	return kpi.Render(e.stdout, *format, out)
}

// viewUsage describes --view: each view of the registry.
func viewUsage() string {
	var parts []string
	for _, v := range kpi.Views() {
		parts = append(parts, v.Name+" ("+v.Summary+")")
	}
	return strings.Join(parts, "; ")
}

// viewFlags are the flags of the views' own parameters, by parameter
// name.
type viewFlags map[string]*string

// addViewFlags adds a flag for each parameter of a view that is not a KPI
// request's (--steps, --limit, --family…), saying which views take it.
func addViewFlags(fs *flag.FlagSet) viewFlags {
	docs := map[string][]string{}
	var names []string
	for _, v := range kpi.Views() {
		for _, p := range v.Params {
			if p.InRequest {
				continue
			}
			if docs[p.Name] == nil {
				names = append(names, p.Name)
			}
			docs[p.Name] = append(docs[p.Name], "with --view "+v.Name+": "+p.Doc)
		}
	}
	out := viewFlags{}
	for _, n := range names {
		if fs.Lookup(strings.ReplaceAll(n, "_", "-")) != nil {
			out[n] = nil // a flag of the command already (--tz): set passes it on to the views that take it
			continue
		}
		out[n] = fs.String(strings.ReplaceAll(n, "_", "-"), "", strings.Join(docs[n], "; "))
	}
	return out
}

// set puts the view flags given into q; one the view does not take is an
// error naming it.
func (vf viewFlags) set(fs *flag.FlagSet, v *kpi.View, q url.Values) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		name := strings.ReplaceAll(f.Name, "-", "_")
		own, ok := vf[name]
		if !ok || err != nil || own == nil && !v.Takes(name) {
			return
		}
		if !v.Takes(name) {
			err = fmt.Errorf("--%s: --view %s does not take it", f.Name, v.Name)
			return
		}
		q.Set(name, f.Value.String())
	})
	return err
}

func printCatalogue(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tUNIT\tBAND\tFORMULA")
	for _, d := range kpi.Catalogue() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.ID, d.Name, d.Unit, kpi.FormatBand(d.Band, d.Unit, d.Direction), d.Formula)
	}
	return tw.Flush()
}
