package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/omnikpi/omnikpi/internal/demo"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// TestImport_DiskFull imports into a DuckDB file on a small file system
// that fills up: the import fails, saying the disk is full and naming the
// file; once space is freed, the file opens, every event imported before is
// there, and importing again completes the data with each event once.
func TestImport_DiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a file system")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs to fill needs root; run the tests as root to include the full-disk test")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); the full-disk test needs a machine where root may mount", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})

	// One generated data set, split in two files: the first fits, the
	// second does not once the disk is nearly full.
	src := t.TempDir()
	var data bytes.Buffer
	if _, err := demo.Generate(context.Background(), &data, demo.Options{Seed: 3, Events: 60_000}); err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(data.Bytes(), []byte("\n"))
	first, second := filepath.Join(src, "first.jsonl"), filepath.Join(src, "second.jsonl")
	if err := os.WriteFile(first, bytes.Join(lines[:10_000], nil), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(second, bytes.Join(lines[10_000:], nil), 0o600); err != nil {
		t.Fatal(err)
	}

	db := filepath.Join(mnt, "omnikpi.duckdb")
	imported := func(out string) (accepted, duplicates int) {
		t.Helper()
		m := regexp.MustCompile(`(\d+) accepted, (\d+) duplicates, 0 rejected`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no import summary in %q", out)
		}
		accepted, _ = strconv.Atoi(m[1])
		duplicates, _ = strconv.Atoi(m[2])
		return accepted, duplicates
	}
	code, out, errOut := runProcess(t, "import", "--db", db, "--workspace", "shop", first)
	if code != 0 {
		t.Fatalf("first import: exit %d: %s", code, errOut)
	}
	firstEvents, _ := imported(out)

	// Leave about 2 MiB free: less than the second file needs.
	filler := filepath.Join(mnt, "filler")
	var fs syscall.Statfs_t
	if err := syscall.Statfs(mnt, &fs); err != nil {
		t.Fatal(err)
	}
	free := int64(fs.Bavail) * int64(fs.Bsize)
	if err := os.WriteFile(filler, make([]byte, free-2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runProcess(t, "import", "--db", db, "--workspace", "shop", "--batch", "5000", second)
	if code == 0 {
		t.Fatal("the import into a full file system succeeded")
	}
	if !strings.Contains(errOut, "disk full (no space left on device) writing "+db) {
		t.Errorf("the error does not say the disk is full and name the file: %s", errOut)
	}
	m := regexp.MustCompile(`the (\d+) events of it stored before are kept`).FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("the error does not say what was kept: %s", errOut)
	}
	storedBefore, _ := strconv.Atoi(m[1])

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// Every event of the first file is there, once.
	code, out, errOut = runProcess(t, "import", "--db", db, "--workspace", "shop", first)
	if code != 0 {
		t.Fatalf("after freeing space, importing the first file again: exit %d: %s", code, errOut)
	}
	if accepted, duplicates := imported(out); accepted != 0 || duplicates < firstEvents {
		t.Errorf("first file again: %d accepted, %d duplicates; want 0 accepted and its %d events as duplicates", accepted, duplicates, firstEvents)
	}
	// The second import completes; what the failed one stored is not
	// stored twice.
	code, out, errOut = runProcess(t, "import", "--db", db, "--workspace", "shop", second)
	if code != 0 {
		t.Fatalf("after freeing space, the second import: exit %d: %s", code, errOut)
	}
	secondNew, _ := imported(out)
	code, out, errOut = runProcess(t, "import", "--db", db, "--workspace", "shop", second)
	if code != 0 {
		t.Fatalf("the second file again: exit %d: %s", code, errOut)
	}
	if accepted, _ := imported(out); accepted != 0 {
		t.Errorf("the second file again: %d accepted, want 0", accepted)
	}

	// The file opens cleanly and holds each event once: as many as one
	// import of both files into a file on a roomy disk.
	want := countEvents(t, filepath.Join(t.TempDir(), "reference.duckdb"), first, second)
	s, err := duckdb.Open(context.Background(), db)
	if err != nil {
		t.Fatalf("open after the full disk: %v", err)
	}
	var n, distinct int
	err = s.DB().QueryRow("SELECT count(*), count(DISTINCT id) FROM events WHERE workspace = 'shop'").Scan(&n, &distinct)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n != want || distinct != want {
		t.Errorf("%d events (%d distinct ids), want %d", n, distinct, want)
	}
	if firstEvents+storedBefore+secondNew != want {
		t.Errorf("the imports accepted %d, then %d before the disk was full, then %d: want %d in all", firstEvents, storedBefore, secondNew, want)
	}
	code, _, errOut = runProcess(t, "report", "--db", db, "--workspace", "shop", "--from", "2000-01-01")
	if code != 0 {
		t.Errorf("report after the full disk: exit %d: %s", code, errOut)
	}
}

// countEvents imports files into a new DuckDB file at path and returns how
// many events it holds.
func countEvents(t *testing.T, path string, files ...string) int {
	t.Helper()
	code, _, errOut := runProcess(t, append([]string{"import", "--db", path, "--workspace", "shop"}, files...)...)
	if code != 0 {
		t.Fatalf("reference import: exit %d: %s", code, errOut)
	}
	s, err := duckdb.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.DB().QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// runProcess runs omnikpi in a process of its own, as a user would, and
// returns its exit code, stdout and stderr.
func runProcess(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runAsOmnikpi+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}
