package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// storedText reads the text of event id from db.
func storedText(t *testing.T, db, id string) (string, bool) {
	t.Helper()
	ctx := context.Background()
	s, err := openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.Query(ctx, "SELECT text FROM events WHERE workspace = 'shop' AND id = ?", id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		return "", false
	}
	var text string
	if err := rows.Scan(&text); err != nil {
		t.Fatal(err)
	}
	return text, true
}

// TestImport_StrictAcrossFiles: with --strict, one bad file keeps every
// file of the command out of the store, good ones included.
func TestImport_StrictAcrossFiles(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		good := writeFile(t, "good.jsonl", `{"id":"g","ts":"2026-01-05T10:00:00Z","kind":"order_placed","order":"og","amount":"5","currency":"EUR"}`+"\n")
		bad := writeFile(t, "bad.jsonl", badFile)
		for _, files := range [][]string{{good, bad}, {bad, good}} {
			code, out, errOut := run(t, append([]string{"import", "--db", db, "--workspace", "shop", "--strict"}, files...)...)
			if code != 1 || !strings.Contains(out, bad+": nothing imported (--strict): 2 lines rejected") || strings.Contains(out, good) ||
				!strings.Contains(errOut, "nothing imported (--strict): lines were rejected in "+bad) {
				t.Errorf("strict import of %v: exit %d, %q, %q", files, code, out, errOut)
			}
			if _, ok := storedText(t, db, "g"); ok {
				t.Fatalf("strict import of %v stored the good file", files)
			}
		}
		// Good files alone are imported.
		if code, out, errOut := run(t, "import", "--db", db, "--workspace", "shop", "--strict", good); code != 0 || !strings.Contains(out, "1 accepted") {
			t.Errorf("strict import of a good file: exit %d, %q, %q", code, out, errOut)
		}
	})
}

type rejectsLine struct {
	File, ID, Field, Reason, Raw string
	Line                         int
	RawBase64                    string `json:"raw_base64"`
}

func readRejects(t *testing.T, path string) []rejectsLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []rejectsLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l rejectsLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("rejects line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

// TestImport_Rejects writes every rejected line, past the five of the
// summary, with its file, line, id, field, reason and text.
func TestImport_Rejects(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		var b strings.Builder
		b.WriteString(`{"id":"ok","ts":"2026-01-05T10:00:00Z","kind":"lead_created"}` + "\n")
		var bad []string
		for _, id := range []string{"r1", "r2", "r3", "r4", "r5", "r6", "r7"} {
			l := `{"id":"` + id + `","ts":"2026-01-05T10:00:00Z","kind":"order_placed","order":"o","amount":"1.005","currency":"EUR"}`
			bad = append(bad, l)
			b.WriteString(l + "\n")
		}
		jsonl := writeFile(t, "events.jsonl", b.String())
		csvPath := writeFile(t, "events.csv", "id,ts,kind,text\nc1,2026-01-05T10:00:00Z,feedback,caf\xe9\nc2,2026-01-05T10:00:00Z,teleported,\"x,\ny\"\n")
		rejects := writeFile(t, "rejects.jsonl", "old content\n")
		code, out, _ := run(t, "import", "--db", db, "--workspace", "shop", "--rejects", rejects, jsonl, csvPath)
		if code != 1 || !strings.Contains(out, "9 rejected lines written to "+rejects) {
			t.Errorf("exit %d, %q", code, out)
		}
		got := readRejects(t, rejects)
		if len(got) != 9 {
			t.Fatalf("%d lines in the rejects file, want 9: %+v", len(got), got)
		}
		for i, id := range []string{"r1", "r2", "r3", "r4", "r5", "r6", "r7"} {
			if g := got[i]; g.File != jsonl || g.Line != i+2 || g.ID != id || g.Field != "amount" || g.Reason == "" || g.Raw != bad[i] || g.RawBase64 != "" {
				t.Errorf("rejects line %d: %+v", i, g)
			}
		}
		if g := got[7]; g.File != csvPath || g.Line != 2 || g.ID != "c1" || g.Field != "text" || !strings.Contains(g.Reason, "not valid UTF-8") ||
			g.RawBase64 != base64.StdEncoding.EncodeToString([]byte("c1,2026-01-05T10:00:00Z,feedback,caf\xe9")) {
			t.Errorf("rejects line 7: %+v", g)
		}
		if g := got[8]; g.File != csvPath || g.Line != 3 || g.ID != "c2" || g.Field != "kind" || g.Raw != "c2,2026-01-05T10:00:00Z,teleported,\"x,\ny\"" {
			t.Errorf("rejects line 8: %+v", g)
		}
		// With --strict the rejects come from the check, and nothing is stored.
		code, out, _ = run(t, "import", "--db", db, "--workspace", "shop", "--strict", "--rejects", rejects, csvPath)
		if code != 1 || !strings.Contains(out, "2 rejected lines written to "+rejects) || len(readRejects(t, rejects)) != 2 {
			t.Errorf("strict: exit %d, %q", code, out)
		}
	})
}

// TestImport_Encoding: a Latin-1 file is rejected line by line unless its
// encoding is declared, and then stored as the text it is.
func TestImport_Encoding(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		csvPath := writeFile(t, "latin1.csv", "id,ts,kind,text\nl1,2026-01-05T10:00:00Z,feedback,caf\xe9 cr\xe8me\n")
		jsonl := writeFile(t, "latin1.jsonl", `{"id":"l2","ts":"2026-01-05T10:00:00Z","kind":"feedback","text":"caf`+"\xe9 cr\xe8me"+`"}`+"\n")
		code, out, _ := run(t, "import", "--db", db, "--workspace", "shop", csvPath, jsonl)
		if code != 1 || !strings.Contains(out, "line 2: text: not valid UTF-8: byte 0xE9 at column 37;") ||
			!strings.Contains(out, "line 1: text: not valid UTF-8: byte 0xE9") {
			t.Errorf("UTF-8 import of Latin-1: exit %d, %q", code, out)
		}
		for _, id := range []string{"l1", "l2"} {
			if text, ok := storedText(t, db, id); ok {
				t.Errorf("%s stored as %q", id, text)
			}
		}
		code, out, errOut := run(t, "import", "--db", db, "--workspace", "shop", "--encoding", "latin1", csvPath, jsonl)
		if code != 0 {
			t.Fatalf("latin1 import: exit %d, %q, %q", code, out, errOut)
		}
		for _, id := range []string{"l1", "l2"} {
			if text, _ := storedText(t, db, id); text != "café crème" {
				t.Errorf("%s stored as %q, want café crème", id, text)
			}
		}
		if code, _, errOut := run(t, "import", "--db", db, "--workspace", "shop", "--encoding", "koi8", csvPath); code == 0 || !strings.Contains(errOut, `unknown encoding "koi8"`) {
			t.Errorf("koi8: exit %d, %q", code, errOut)
		}
	})
}

// TestImport_RejectsKeptOnError: the rejected lines written before an
// import stops on an error stay in the rejects file.
func TestImport_RejectsKeptOnError(t *testing.T) {
	db := filepath.Join(t.TempDir(), "omnikpi.duckdb")
	bad := writeFile(t, "bad.jsonl", badFile)
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	code, _, errOut := run(t, "import", "--db", db, "--workspace", "shop", "--rejects", rejects, bad, filepath.Join(t.TempDir(), "missing.jsonl"))
	if code == 0 || !strings.Contains(errOut, "missing.jsonl") {
		t.Fatalf("exit %d, %q", code, errOut)
	}
	if got := readRejects(t, rejects); len(got) != 2 || got[0].File != bad || got[0].Line != 2 {
		t.Errorf("rejects file: %+v", got)
	}
}
