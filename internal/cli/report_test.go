package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
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
