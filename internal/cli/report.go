package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
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
	view := fs.String("view", "kpis", "kpis; unclosed (the conversations left open); keywords (the most used terms of inbound text); funnel (the four stages per channel, or with --steps an ordered funnel); attribution (revenue credited by each model); abtest (the variants of the --campaign or --template against the control); sendtime (reads and replies by hour of the week); cohorts (retention and revenue by first week or month); segments (KPIs per segment of a --family)")
	steps := fs.String("steps", "", "with --view funnel, comma-separated event kinds in order, such as message_read,button_clicked,order_placed")
	within := fs.String("within", "", "with --steps, the longest time between two steps (default 7d)")
	order := fs.String("order", "", "with --steps, strict (no other step between two) or loose (default)")
	compare := fs.String("compare", "", "previous, last_year or both: each figure beside the previous period's and the same dates last year's, with the change")
	segment := fs.String("segment", "", "only the customers of a segment, such as rfm:champions, satisfaction:detractor (see --view segments)")
	family := fs.String("family", "", "with --view segments, rfm (default), rpc, response or satisfaction")
	period := fs.String("period", "", "with --view cohorts, week or month (default month)")
	control := fs.String("control", "", "with --view abtest, the control variant (default A)")
	by := fs.String("by", "", "with --view attribution, comma-separated touch dimensions: channel (default), campaign, source")
	lookback := fs.String("lookback", "", "with --view attribution, how far before a purchase a touch counts (default 30d)")
	halfLife := fs.String("half-life", "", "with --view attribution, the time-decay half-life (default 7d)")
	limit := fs.Int("limit", 50, "with --view keywords, how many terms")
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
	q := url.Values{"from": {*from}, "to": {*to}, "kpi": {*kpis}, "group_by": {*groupBy}, "bucket": {*bucket}, "tz": {*tz}, "hours": {*hours},
		"lookback": {*lookback}, "half_life": {*halfLife}, "compare": {*compare}, "segment": {*segment}}
	for d, v := range filters {
		if *v != "" {
			q.Set(d, *v)
		}
	}
	req, err := kpi.FromValues(*workspace, q)
	if err != nil {
		return err
	}
	c, err := viaServer(ctx, e, *db)
	if err != nil {
		return err
	}
	if c != nil {
		viewParams := map[string]url.Values{
			"keywords":    {"limit": {strconv.Itoa(*limit)}},
			"funnel":      {"steps": {*steps}, "within": {*within}, "order": {*order}},
			"attribution": {"by": {*by}},
			"abtest":      {"control": {*control}},
			"cohorts":     {"period": {*period}},
			"segments":    {"family": {*family}},
		}
		for k, v := range viewParams[*view] {
			q[k] = v
		}
		return reportViaAPI(ctx, e.stdout, c.WithWorkspace(*workspace), *view, *format, q, req)
	}
	s, _, err := openExistingWorkspace(ctx, *db, *workspace)
	if err != nil {
		return err
	}
	defer s.Close()
	engine, err := kpi.New(s)
	if err != nil {
		return err
	}
	switch *view {
	case "kpis":
	case "unclosed":
		rep, err := engine.Unclosed(ctx, req)
		if err != nil {
			return err
		}
		return writeUnclosed(e.stdout, *format, rep)
	case "keywords":
		rep, err := engine.Keywords(ctx, req, *limit)
		if err != nil {
			return err
		}
		return writeKeywords(e.stdout, *format, rep)
	case "funnel":
		if *steps == "" {
			rep, err := engine.Stages(ctx, req)
			if err != nil {
				return err
			}
			return writeStages(e.stdout, *format, rep)
		}
		d, strict, err := kpi.FunnelOptions(*within, *order)
		if err != nil {
			return err
		}
		rep, err := engine.OrderedFunnel(ctx, req, kpi.List([]string{*steps}), d, strict)
		if err != nil {
			return err
		}
		return writeFunnel(e.stdout, *format, rep)
	case "attribution":
		rep, err := engine.Attribution(ctx, req, kpi.List([]string{*by}))
		if err != nil {
			return err
		}
		return writeAttribution(e.stdout, *format, rep)
	case "abtest":
		rep, err := engine.ABTest(ctx, req, *control)
		if err != nil {
			return err
		}
		return writeABTest(e.stdout, *format, rep)
	case "sendtime":
		rep, err := engine.BestSendTime(ctx, req)
		if err != nil {
			return err
		}
		return writeSendTime(e.stdout, *format, rep)
	case "cohorts":
		rep, err := engine.Cohorts(ctx, req, *period)
		if err != nil {
			return err
		}
		return writeCohorts(e.stdout, *format, rep)
	case "segments":
		rep, err := engine.Segments(ctx, req, *family)
		if err != nil {
			return err
		}
		return writeSegments(e.stdout, *format, rep)
	default:
		return fmt.Errorf("--view %q: use kpis, unclosed, keywords, funnel, attribution, abtest, sendtime, cohorts or segments", *view)
	}
	rep, err := engine.Compute(ctx, req)
	if err != nil {
		return err
	}
	return writeKPIs(e.stdout, *format, rep, req)
}

// writeKPIs prints the KPI view as JSON, CSV or a table.
func writeKPIs(w io.Writer, format string, rep kpi.Report, req kpi.Request) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "csv":
		return writeReportCSV(w, rep, req.GroupBy, req.Bucket != "")
	}
	return writeReportTable(w, rep)
}

func printCatalogue(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tUNIT\tBAND\tFORMULA")
	for _, d := range kpi.Catalogue() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.ID, d.Name, d.Unit, kpi.FormatBand(d.Band, d.Unit, d.Direction), d.Formula)
	}
	return tw.Flush()
}

// writeReportTable prints one block per group: each KPI with its value,
// band and rating.
func writeReportTable(w io.Writer, rep kpi.Report) error {
	fmt.Fprintf(w, "Workspace %s, %s to %s (%s)\n", rep.Workspace, rep.From, rep.To, rep.TimeZone)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, row := range rep.Rows {
		if label := groupLabel(row.Group); label != "" {
			fmt.Fprintf(tw, "\n%s\n", label)
		}
		compared := len(row.KPIs) > 0 && row.KPIs[0].ChangeUnit != ""
		if compared {
			fmt.Fprintln(tw, "KPI\tVALUE\tBAND\tRATING\tPREVIOUS\tCHANGE\tLAST YEAR\tCHANGE")
		} else {
			fmt.Fprintln(tw, "KPI\tVALUE\tBAND\tRATING")
		}
		for _, v := range row.KPIs {
			def, _ := kpi.DefinitionOf(v.ID)
			name := def.Name
			if v.Currency != "" {
				name += " (" + v.Currency + ")"
			}
			if v.Label != "" {
				name += ": " + v.Label
			}
			rating := kpi.FormatRating(v.Rating)
			if v.Value == nil && v.Reason == kpi.ReasonNotReported {
				rating = v.Reason
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s", name, kpi.FormatValue(v), kpi.FormatBand(v.Band, v.Unit, def.Direction), rating)
			if compared {
				then := func(x *float64) string {
					return kpi.FormatValue(kpi.Value{Value: x, Unit: v.Unit, Currency: v.Currency})
				}
				fmt.Fprintf(tw, "\t%s\t%s\t%s\t%s", then(v.Previous), formatChange(v.Change, v.ChangeUnit), then(v.LastYear), formatChange(v.ChangeLastYear, v.ChangeUnit))
			}
			fmt.Fprintln(tw)
		}
	}
	return tw.Flush()
}

func groupLabel(g map[string]*string) string {
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := "(none)"
		if g[k] != nil {
			v = *g[k]
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ", ")
}

// writeReportCSV writes one line per group, KPI, currency and label.
func writeReportCSV(w io.Writer, rep kpi.Report, groupBy []string, bucketed bool) error {
	cw := csv.NewWriter(w)
	header := append([]string(nil), groupBy...)
	if bucketed {
		header = append(header, "bucket")
	}
	header = append(header, "kpi", "currency", "label", "value", "numerator", "denominator", "unit", "rating", "band_low", "band_high", "band_best", "reason")
	if err := cw.Write(header); err != nil {
		return err
	}
	num := func(x *float64) string {
		if x == nil {
			return ""
		}
		return strconv.FormatFloat(*x, 'f', -1, 64)
	}
	for _, row := range rep.Rows {
		var groupCells []string
		for _, k := range header[:len(header)-12] {
			v := ""
			if row.Group[k] != nil {
				v = *row.Group[k]
			}
			groupCells = append(groupCells, v)
		}
		for _, v := range row.KPIs {
			var lo, hi, best *float64
			if v.Band != nil {
				lo, hi, best = v.Band.Low, v.Band.High, v.Band.Best
			}
			n, d := v.Numerator, v.Denominator
			rec := append(append([]string(nil), groupCells...), v.ID, v.Currency, v.Label, num(v.Value), num(&n), num(&d),
				string(v.Unit), string(v.Rating), num(lo), num(hi), num(best), v.Reason)
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeUnclosed prints the unclosed conversations, one per line.
func writeUnclosed(w io.Writer, format string, rep kpi.UnclosedReport) error {
	header := []string{"conversation", "customer", "channel", "agent", "started", "last_message_at", "last_message_by", "reason"}
	rows := make([][]string, 0, len(rep.Conversations))
	for _, u := range rep.Conversations {
		rows = append(rows, []string{u.Conversation, orNone(u.Customer), orNone(u.Channel), orNone(u.Agent), u.Started, u.LastMessageAt, u.LastMessageBy, u.Reason})
	}
	title := fmt.Sprintf("Unclosed conversations of workspace %s, %s to %s (%s): %d", rep.Workspace, rep.From, rep.To, rep.TimeZone, len(rows))
	return writeList(w, format, rep, title, header, rows)
}

// writeKeywords prints the most used terms.
func writeKeywords(w io.Writer, format string, rep kpi.KeywordReport) error {
	rows := make([][]string, 0, len(rep.Keywords))
	for _, k := range rep.Keywords {
		rows = append(rows, []string{k.Term, strconv.Itoa(k.Messages)})
	}
	title := fmt.Sprintf("Top keywords of workspace %s, %s to %s (%s)", rep.Workspace, rep.From, rep.To, rep.TimeZone)
	return writeList(w, format, rep, title, []string{"term", "messages"}, rows)
}

// writeList writes a list view as JSON (v), CSV or a table.
func writeList(w io.Writer, format string, v any, title string, header []string, rows [][]string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(header)
		cw.WriteAll(rows)
		return cw.Error()
	}
	fmt.Fprintln(w, title)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(header, "\t")))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func orNone(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func pct(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64) + " %"
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// writeStages prints the four stages per channel and in total.
func writeStages(w io.Writer, format string, rep kpi.StagesReport) error {
	header := []string{"channel", "awareness", "engagement", "conversion", "advocacy", "engagement_rate", "conversion_rate", "advocacy_rate"}
	var rows [][]string
	for _, s := range rep.Stages {
		ch := "(no channel)"
		switch {
		case s.Total:
			ch = "(total)"
		case s.Channel != nil:
			ch = *s.Channel
		}
		rows = append(rows, []string{ch, num(s.Awareness), num(s.Engagement), num(s.Conversion), num(s.Advocacy), pct(s.EngagementRate), pct(s.ConversionRate), pct(s.AdvocacyRate)})
	}
	title := fmt.Sprintf("Funnel of workspace %s, %s to %s (%s)", rep.Workspace, rep.From, rep.To, rep.TimeZone)
	return writeList(w, format, rep, title, header, rows)
}

// writeFunnel prints an ordered funnel, a step per line.
func writeFunnel(w io.Writer, format string, rep kpi.FunnelReport) error {
	var rows [][]string
	for _, s := range rep.Steps {
		rows = append(rows, []string{s.Kind, strconv.Itoa(s.Customers), pct(s.FromPrev), pct(s.FromFirst)})
	}
	median := "—"
	if rep.MedianSeconds != nil {
		median = strconv.FormatFloat(*rep.MedianSeconds, 'f', 0, 64) + " s"
	}
	order := "loose"
	if rep.Strict {
		order = "strict"
	}
	title := fmt.Sprintf("Funnel of workspace %s, %s to %s (%s), %s order, at most %s between steps; median time to convert %s",
		rep.Workspace, rep.From, rep.To, rep.TimeZone, order, rep.Within, median)
	return writeList(w, format, rep, title, []string{"step", "customers", "from_previous", "from_first"}, rows)
}

// writeAttribution prints each touch dimension's credit, the models side
// by side.
func writeAttribution(w io.Writer, format string, rep kpi.AttributionReport) error {
	header := append(append([]string{}, rep.By...), "currency")
	for _, m := range rep.Models {
		header = append(header, m+"_revenue", m+"_conversions")
	}
	var rows [][]string
	for _, r := range rep.Rows {
		var cells []string
		for _, d := range rep.By {
			v := map[string]*string{"channel": r.Channel, "campaign": r.Campaign, "source": r.Source}[d]
			cells = append(cells, orNone(v))
		}
		cells = append(cells, r.Currency)
		for _, m := range rep.Models {
			c := r.Credits[m]
			cells = append(cells, strconv.FormatFloat(c.Revenue, 'f', 2, 64), strconv.FormatFloat(c.Conversions, 'f', 2, 64))
		}
		rows = append(rows, cells)
	}
	title := fmt.Sprintf("Attribution of workspace %s, %s to %s (%s): %d orders, lookback %s, half-life %s",
		rep.Workspace, rep.From, rep.To, rep.TimeZone, rep.Orders, rep.Lookback, rep.HalfLife)
	return writeList(w, format, rep, title, header, rows)
}

// writeABTest prints each comparison with its verdict.
func writeABTest(w io.Writer, format string, rep kpi.ABReport) error {
	f := func(v *float64, digits int) string {
		if v == nil {
			return "—"
		}
		return strconv.FormatFloat(*v, 'f', digits, 64)
	}
	var rows [][]string
	for _, c := range rep.Comparisons {
		rows = append(rows, []string{c.Metric, c.Variant, f(c.Rate, 2), c.Control, f(c.Base, 2), f(c.Difference, 2),
			fmt.Sprintf("[%.2f, %.2f]", c.Interval[0], c.Interval[1]), f(c.P, 4), f(c.ChanceToBeat, 1), c.Verdict})
	}
	title := fmt.Sprintf("A/B test of workspace %s, %s to %s; control %s; %s", rep.Workspace, rep.From, rep.To, rep.Control, rep.Correction)
	return writeList(w, format, rep, title, []string{"metric", "variant", "rate", "control", "control_rate", "difference", "interval_95", "p_value", "chance_to_beat", "verdict"}, rows)
}

// formatChange writes a change as "+2.5 pts" or "-12.0 %", in the unit
// the report gives it: points for rates and scores, else percent.
func formatChange(c *float64, unit string) string {
	if c == nil {
		return ""
	}
	suffix := " %"
	if unit == "points" {
		suffix = " pts"
	}
	sign := ""
	if *c > 0 {
		sign = "+"
	}
	return sign + strconv.FormatFloat(*c, 'f', 1, 64) + suffix
}

// writeSendTime prints each channel's hours with reads or replies, and its
// best hours.
func writeSendTime(w io.Writer, format string, rep kpi.SendTimeReport) error {
	var rows [][]string
	for _, ch := range rep.Channels {
		best := map[string]bool{}
		for _, b := range ch.Best {
			best[b.Day+strconv.Itoa(b.Hour)] = true
		}
		for _, h := range ch.Hours {
			if h.Reads+h.Replies == 0 {
				continue
			}
			mark := ""
			if best[h.Day+strconv.Itoa(h.Hour)] {
				mark = "best"
			}
			rows = append(rows, []string{orNone(ch.Channel), h.Day, fmt.Sprintf("%02d:00", h.Hour), strconv.FormatInt(h.Reads, 10), strconv.FormatInt(h.Replies, 10), mark})
		}
	}
	title := fmt.Sprintf("Reads and replies by hour of the week, workspace %s, %s to %s (%s)", rep.Workspace, rep.From, rep.To, rep.TimeZone)
	return writeList(w, format, rep, title, []string{"channel", "day", "hour", "reads", "replies", "best"}, rows)
}

// writeCohorts prints one line per cohort and later period.
func writeCohorts(w io.Writer, format string, rep kpi.CohortReport) error {
	var rows [][]string
	for _, c := range rep.Cohorts {
		for _, p := range c.Cells {
			var revenue []string
			for cur, v := range p.Revenue {
				revenue = append(revenue, strconv.FormatFloat(v, 'f', 2, 64)+" "+cur)
			}
			sort.Strings(revenue)
			rows = append(rows, []string{c.Start, strconv.Itoa(c.Customers), strconv.Itoa(p.Period),
				strconv.FormatFloat(p.Retained, 'f', 1, 64) + " %", strconv.FormatFloat(p.Bought, 'f', 1, 64) + " %", strings.Join(revenue, ", ")})
		}
	}
	title := fmt.Sprintf("Cohorts by %s of first event, workspace %s, %s to %s (%s)", rep.Period, rep.Workspace, rep.From, rep.To, rep.TimeZone)
	return writeList(w, format, rep, title, []string{"cohort", "customers", "period", "retained", "bought", "revenue_per_customer"}, rows)
}

// writeSegments prints each segment's size and KPIs, a line per figure.
func writeSegments(w io.Writer, format string, rep kpi.SegmentReport) error {
	var rows [][]string
	for _, seg := range rep.Segments {
		for _, v := range seg.KPIs {
			def, _ := kpi.DefinitionOf(v.ID)
			name := def.Name
			if v.Currency != "" {
				name += " (" + v.Currency + ")"
			}
			rows = append(rows, []string{seg.Segment, strconv.Itoa(seg.Customers), name, kpi.FormatValue(v)})
		}
	}
	title := fmt.Sprintf("Segments by %s, workspace %s, %s to %s", rep.Family, rep.Workspace, rep.From, rep.To)
	return writeList(w, format, rep, title, []string{"segment", "customers", "kpi", "value"}, rows)
}
