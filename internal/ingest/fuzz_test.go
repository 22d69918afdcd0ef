package ingest

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzCSVImport reads arbitrary CSV files as the importer does: it must
// never panic, and every event it yields must be valid and in the
// workspace.
func FuzzCSVImport(f *testing.F) {
	for _, seed := range []string{
		"id,ts,kind,order,amount,currency\no1,2026-01-05T10:00:00Z,order_placed,o1,12.50,EUR\n",
		"id,ts,kind,channel,message,props,tags\nm1,1767607200,message_read,whatsapp,w1,\"{\"\"a\"\":1}\",\"[\"\"x\"\"]\"\n",
		"id,ts,kind\n\"unterminated,2026,x\n",
		"ts,id\n,,,\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "f.csv")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		fr, err := OpenFile(path, "w")
		if err != nil {
			return
		}
		defer fr.Close()
		for range 1000 {
			events, _, err := fr.Next(100)
			if err != nil || len(events) == 0 {
				return
			}
			for _, e := range events {
				if e.Workspace != "w" {
					t.Fatalf("event %s in workspace %q", e.ID, e.Workspace)
				}
				if err := e.Validate(); err != nil {
					t.Fatalf("invalid event %s: %v", e.ID, err)
				}
			}
		}
	})
}
