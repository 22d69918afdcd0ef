package journal

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

func order(id string, minor int64) event.Event {
	return event.Event{ID: id, TS: time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), Kind: event.OrderPlaced, Workspace: "w",
		Order: id, Customer: "c-" + id, Amount: &event.Money{Minor: minor, Currency: "EUR"}, Count: 1,
		Props: map[string]any{"code": 131026, "big": int64(1) << 60, "name": "café"}}
}

// readAll reads every record a fresh reader sees.
func readAll(t *testing.T, j *Journal) []Record {
	t.Helper()
	r := j.NewReader()
	defer r.Close()
	var out []Record
	for {
		recs, err := r.Read(1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return out
		}
		out = append(out, recs...)
	}
}

// TestJournal_AppendsSurviveReopen: records appended from many goroutines
// come back after a reopen in the order of their numbers, each once, with
// their events as appended (money exact, large integers in props exact).
func TestJournal_AppendsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir, Options{SegmentBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	seqs := make(chan uint64, 400)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				seq, err := j.Append([]event.Event{order(fmt.Sprintf("g%d-%d", g, i), int64(i))}, nil)
				if err != nil {
					t.Error(err)
					return
				}
				seqs <- seq
			}
		}()
	}
	wg.Wait()
	close(seqs)
	seen := map[uint64]bool{}
	for s := range seqs {
		if seen[s] {
			t.Fatalf("sequence number %d given twice", s)
		}
		seen[s] = true
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if segs, _ := listSegments(dir); len(segs) < 2 {
		t.Fatalf("%d segments: the 4 KiB segment bound was not applied", len(segs))
	}
	j, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	recs := readAll(t, j)
	if len(recs) != 400 {
		t.Fatalf("%d records after reopen, want 400", len(recs))
	}
	ids := map[string]bool{}
	for i, rec := range recs {
		if i > 0 && rec.Seq <= recs[i-1].Seq {
			t.Fatalf("record %d after %d", rec.Seq, recs[i-1].Seq)
		}
		if !seen[rec.Seq] || len(rec.Events) != 1 {
			t.Fatalf("record %d: unknown or with %d events", rec.Seq, len(rec.Events))
		}
		e := rec.Events[0]
		ids[e.ID] = true
		want := order(e.ID, e.Amount.Minor)
		if e.Amount.Currency != "EUR" || !e.TS.Equal(want.TS) || e.Customer != want.Customer || e.Kind != want.Kind {
			t.Errorf("event %s came back as %+v", e.ID, e)
		}
		if fmt.Sprint(e.Props["big"]) != "1152921504606846976" || fmt.Sprint(e.Props["code"]) != "131026" || e.Props["name"] != "café" {
			t.Errorf("props came back as %v", e.Props)
		}
	}
	if len(ids) != 400 {
		t.Errorf("%d distinct events, want 400", len(ids))
	}
	if lag := j.Lag(); lag.Records != 400 || lag.Events != 400 || lag.Oldest.IsZero() {
		t.Errorf("lag after reopen: %+v, want 400 records unapplied", lag)
	}
}

// TestJournal_TornLastRecord: a record cut short or with a flipped byte at
// the end of the last segment (a crash in the middle of a write) is cut off
// on open; the records before it are kept and appends go on after it.
func TestJournal_TornLastRecord(t *testing.T) {
	for _, damage := range []string{"cut", "flip", "garbage"} {
		t.Run(damage, func(t *testing.T) {
			dir := t.TempDir()
			j, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if _, err := j.Append([]event.Event{order(fmt.Sprint("e", i), 1)}, nil); err != nil {
					t.Fatal(err)
				}
			}
			j.Close()
			segs, _ := listSegments(dir)
			last := segs[len(segs)-1].path
			b, err := os.ReadFile(last)
			if err != nil {
				t.Fatal(err)
			}
			switch damage {
			case "cut":
				b = b[:len(b)-7]
			case "flip":
				b[len(b)-3] ^= 0xff
			case "garbage":
				b = append(b, 0x40, 0, 0, 0, 1, 2)
			}
			if err := os.WriteFile(last, b, 0o600); err != nil {
				t.Fatal(err)
			}
			j, err = Open(dir, Options{})
			if err != nil {
				t.Fatalf("open after a torn record: %v", err)
			}
			if _, err := j.Append([]event.Event{order("after", 1)}, nil); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, rec := range readAll(t, j) {
				ids = append(ids, rec.Events[0].ID)
			}
			j.Close()
			want := "[e0 e1 e2 after]"
			if damage != "garbage" {
				want = "[e0 e1 after]"
			}
			if fmt.Sprint(ids) != want {
				t.Errorf("records after the damage: %v, want %s", ids, want)
			}
		})
	}
}

// TestJournal_AppliedSegmentsAreDeleted: once the store holds a segment's
// records, the segment is deleted, and a reopen replays only what is not
// yet applied.
func TestJournal_AppliedSegmentsAreDeleted(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir, Options{SegmentBytes: 2048})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for i := range 60 {
		seq, err := j.Append([]event.Event{order(fmt.Sprint("e", i), 1)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seq)
	}
	before, _ := listSegments(dir)
	if err := j.MarkApplied(seqs[49]); err != nil {
		t.Fatal(err)
	}
	after, _ := listSegments(dir)
	if len(after) >= len(before) {
		t.Errorf("%d segments before marking 50 of 60 records applied, %d after", len(before), len(after))
	}
	j.Close()
	j, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	recs := readAll(t, j)
	if len(recs) != 10 || recs[0].Events[0].ID != "e50" {
		t.Errorf("after reopen %d records to apply, starting at %v; want the last 10 from e50", len(recs), recs)
	}
	if lag := j.Lag(); lag.Events != 10 {
		t.Errorf("lag %+v, want 10 events", lag)
	}
}

// TestJournal_Bound: past the bound of bytes not yet applied Append sheds
// with ErrFull, and takes records again once the store has caught up.
func TestJournal_Bound(t *testing.T) {
	j, err := Open(t.TempDir(), Options{MaxUnapplied: 1500})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var last uint64
	full := false
	for i := range 100 {
		seq, err := j.Append([]event.Event{order(fmt.Sprint("e", i), 1)}, nil)
		if err == ErrFull {
			full = true
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		last = seq
	}
	if !full {
		t.Fatal("100 appends of about 300 bytes within a bound of 1500 bytes")
	}
	if err := j.MarkApplied(last); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append([]event.Event{order("again", 1)}, nil); err != nil {
		t.Errorf("after the store caught up: %v", err)
	}
}

// TestIngester_AppliesToTheStore: events submitted without waiting reach a
// real DuckDB store; waiting submissions get the store's outcomes; an
// ingester stopped before applying leaves its records for the next one,
// which applies each event once.
func TestIngester_AppliesToTheStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := duckdb.Open(ctx, filepath.Join(dir, "store.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutWorkspace(ctx, store.NewWorkspace("w")); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	in, err := OpenIngester(filepath.Join(dir, "journal"), s, log, Options{}, ApplyOptions{MaxBatch: 7})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				out, err := in.Submit(ctx, []event.Event{order(fmt.Sprintf("g%d-%d", g, i), 1)}, false)
				if err != nil || len(out) != 1 || out[0] != store.Queued {
					t.Errorf("submit: %v %v", out, err)
				}
			}
		}()
	}
	wg.Wait()
	out, err := in.Submit(ctx, []event.Event{order("g0-0", 1), order("new", 1)}, true)
	if err != nil || len(out) != 2 || out[0] != store.Duplicate || out[1] != store.Accepted {
		t.Fatalf("waiting submit of a known and a new event: %v %v", out, err)
	}
	if n := countEvents(t, s); n != 101 {
		t.Errorf("%d events stored, want 101", n)
	}
	if err := in.Close(time.Minute); err != nil {
		t.Fatal(err)
	}

	// A journal with records the store does not have yet, as after a
	// crash: the next ingester applies them.
	j, err := Open(filepath.Join(dir, "journal"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := j.Append([]event.Event{order(fmt.Sprint("late", i), 1), order("new", 1)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	in, err = OpenIngester(filepath.Join(dir, "journal"), s, log, Options{}, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); in.Journal().Lag().Events > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not applied: %+v", in.Journal().Lag())
		}
	}
	in.Close(time.Minute)
	if n := countEvents(t, s); n != 111 {
		t.Errorf("%d events stored after the replay, want 111", n)
	}
}

func countEvents(t *testing.T, s store.Store) int {
	t.Helper()
	rows, err := s.Query(context.Background(), "SELECT count(*) FROM events WHERE workspace = 'w'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n int
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// TestJournal_OneProcessAtATime: a journal directory in use cannot be
// opened again until it is closed.
func TestJournal_OneProcessAtATime(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Errorf("a second open of a journal in use: %v", err)
	}
	j.Close()
	j, err = Open(dir, Options{})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	j.Close()
}
