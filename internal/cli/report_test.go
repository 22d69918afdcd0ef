package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/kpi"
)

func TestReport_RejectsBadRequests(t *testing.T) {
	db := filepath.Join(t.TempDir(), "empty.duckdb")
	if code, _, errOut := run(t, "workspace", "--db", db, "--workspace", "w"); code != 0 {
		t.Fatalf("workspace: %s", errOut)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown kpi", []string{"--kpi", "nope"}, `kpi: unknown KPI "nope"`},
		{"unknown dimension", []string{"--group-by", "colour"}, `group_by: "colour" is not a dimension`},
		{"bad bucket", []string{"--bucket", "year"}, `bucket: "year" must be one of`},
		{"bad date", []string{"--from", "yesterday"}, `from: "yesterday" is neither a date`},
		{"empty range", []string{"--from", "2026-02-01", "--to", "2026-01-01"}, "from: must be before to"},
		{"unknown class", []string{"--class", "agent"}, `class: "agent" must be one of campaign, conversation`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"report", "--db", db, "--workspace", "w"}, tc.args...)
			code := Run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
			if code != 1 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q, want %q", code, stderr.String(), tc.want)
			}
		})
	}
}

// TestWorkspace_Receipts: --receipts sets which statuses channels report,
// channel=default restores a default, and a bad status is refused naming
// the flag.
func TestWorkspace_Receipts(t *testing.T) {
	db := filepath.Join(t.TempDir(), "receipts.duckdb")
	code, out, errOut := run(t, "workspace", "--db", db, "--workspace", "w", "--receipts", "web=read,email=delivered")
	if code != 0 || !strings.Contains(out, `"web": {`) || !strings.Contains(out, `"email": {`) {
		t.Fatalf("workspace --receipts: %d %s %s", code, out, errOut)
	}
	code, out, errOut = run(t, "workspace", "--db", db, "--workspace", "w", "--receipts", "email=default")
	if code != 0 || strings.Contains(out, `"email"`) || !strings.Contains(out, `"web"`) {
		t.Fatalf("workspace --receipts email=default: %d %s %s", code, out, errOut)
	}
	if code, _, errOut = run(t, "workspace", "--db", db, "--workspace", "w", "--receipts", "web=seen"); code != 1 || !strings.Contains(errOut, `--receipts "web=seen": "seen" is not a status`) {
		t.Errorf("a bad status: %d %s", code, errOut)
	}
}

// TestWriteReportTable_RatingWords: a rating reads as better or worse than
// the band, whichever way the KPI prefers: an opt-out rate of 3.7 % against
// 0.3–0.6 % is worse than its band, not below it.
func TestWriteReportTable_RatingWords(t *testing.T) {
	pct := func(x float64) *float64 { return &x }
	def, _ := kpi.DefinitionOf("opt_out_rate")
	ctr, _ := kpi.DefinitionOf("ctr")
	rep := kpi.Report{Workspace: "shop", Rows: []kpi.Row{{KPIs: []kpi.Value{
		{ID: "opt_out_rate", Value: pct(3.7), Unit: kpi.Percent, Rating: kpi.Worse, Band: def.Band},
		{ID: "ctr", Value: pct(27), Unit: kpi.Percent, Rating: kpi.Better, Band: ctr.Band},
	}}}}
	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	for _, want := range []struct{ kpi, rating string }{{"Opt-out rate", "worse than band"}, {"Click-through rate", "better than band"}} {
		found := false
		for _, l := range lines {
			found = found || strings.HasPrefix(l, want.kpi) && strings.Contains(l, want.rating)
		}
		if !found {
			t.Errorf("no line of %s rated %q in\n%s", want.kpi, want.rating, out.String())
		}
	}
	if strings.Contains(out.String(), "below") || strings.Contains(out.String(), "above") {
		t.Errorf("the table speaks of below or above:\n%s", out.String())
	}
}

// TestWriteReportTable_Changes: a change is written in the unit the report
// gives it, with its sign: an NPS from −15.2 to −10.9 gained 4.3 points.
func TestWriteReportTable_Changes(t *testing.T) {
	x := func(v float64) *float64 { return &v }
	rep := kpi.Report{Workspace: "shop", Rows: []kpi.Row{{KPIs: []kpi.Value{
		{ID: "nps", Value: x(-10.9), Unit: kpi.Score, Previous: x(-15.2), Change: x(4.3), ChangeUnit: "points"},
		{ID: "conversations", Value: x(90), Unit: kpi.Count, Previous: x(100), Change: x(-10), ChangeUnit: "percent"},
	}}}}
	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"-15.2", "+4.3 pts", "-10.0 %"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
}
