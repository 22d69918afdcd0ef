// Package browsertest finds the headless Chromium the browser tests drive
// and gives it a profile directory.
package browsertest

import (
	"os"
	"testing"
	"time"
)

// Chromium is $OMNIKPI_CHROMIUM or Debian's /usr/bin/chromium. Without it
// the test skips, except under CI, where the browser tests must run.
func Chromium(t testing.TB) string {
	path := os.Getenv("OMNIKPI_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		msg := "Chromium is not installed at " + path + ": install it with 'apt-get install chromium' (./scripts/test does) or set OMNIKPI_CHROMIUM"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// ProfileDir is a profile directory for Chromium, removed after the test
// as far as it can be: the browser may still be writing to it as it
// exits, which t.TempDir's cleanup would report as a failure.
func ProfileDir(t testing.TB) string {
	dir, err := os.MkdirTemp("", "omnikpi-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 20 && os.RemoveAll(dir) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	return dir
}
