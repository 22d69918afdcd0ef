package cli

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/demo"
)

// TestImport_OrderIndependence is a property test over generated data: for
// several seeds, the same events imported as one file, or shuffled, split
// across files and with extra duplicate lines, give identical reports.
func TestImport_OrderIndependence(t *testing.T) {
	end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, seed := range []int64{1, 2} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := demo.Generate(context.Background(), &buf, demo.Options{Seed: seed, Events: 15_000, End: end, Days: 30}); err != nil {
				t.Fatal(err)
			}
			lines := strings.SplitAfter(strings.TrimRight(buf.String(), "\n")+"\n", "\n")
			lines = lines[:len(lines)-1]
			dir := t.TempDir()

			whole := filepath.Join(dir, "whole.jsonl")
			if err := os.WriteFile(whole, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(uint64(seed), 9))
			mixed := append([]string(nil), lines...)
			for range len(lines) / 20 {
				mixed = append(mixed, lines[rng.IntN(len(lines))])
			}
			rng.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
			var parts []string
			for i, cut := range []int{0, len(mixed) / 3, len(mixed) * 3 / 4, len(mixed)} {
				if i == 0 {
					continue
				}
				prev := []int{0, len(mixed) / 3, len(mixed) * 3 / 4}[i-1]
				p := filepath.Join(dir, fmt.Sprintf("part%d.jsonl", i))
				if err := os.WriteFile(p, []byte(strings.Join(mixed[prev:cut], "")), 0o644); err != nil {
					t.Fatal(err)
				}
				parts = append(parts, p)
			}

			report := func(db string, files ...string) string {
				if code, out, errOut := run(t, append([]string{"import", "--db", db, "--workspace", "w", "--batch", "997"}, files...)...); code != 0 {
					t.Fatalf("import: %s %s", out, errOut)
				}
				var all strings.Builder
				for _, args := range [][]string{
					{},
					{"--group-by", "campaign,variant"},
					{"--group-by", "channel", "--bucket", "week"},
				} {
					base := []string{"--workspace", "w", "--from", "2026-01-20", "--to", "2026-03-01"}
					all.WriteString(mustJSON(t, reportJSON(t, db, append(base, args...)...)))
				}
				return all.String()
			}
			want := report(filepath.Join(dir, "a.duckdb"), whole)
			got := report(filepath.Join(dir, "b.duckdb"), parts...)
			if got != want {
				t.Errorf("reports differ between one ordered file and shuffled parts with duplicates")
			}
			if !strings.Contains(want, `"value":`) || strings.Count(want, `"value":null`) == strings.Count(want, `"value":`) {
				t.Errorf("the reports hold no figures; the property says nothing")
			}
		})
	}
}
