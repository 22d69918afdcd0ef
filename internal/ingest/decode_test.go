package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/event"
)

const good = `{"id":"%s","ts":"2026-01-05T10:00:00Z","kind":"lead_created"}`

func line(id string) string { return strings.Replace(good, "%s", id, 1) }

func TestDecodeBody(t *testing.T) {
	for _, tc := range []struct {
		name      string
		body      string
		ids       []string
		rejected  []Rejected
		bodyError bool
	}{
		{name: "array", body: "[" + line("a") + "," + line("b") + "]", ids: []string{"a", "b"}},
		{name: "ndjson with blank lines", body: "\n" + line("a") + "\n\n" + line("b") + "\n", ids: []string{"a", "b"}},
		{name: "bad line in the middle", body: line("a") + "\n{\"id\":\"x\",\n" + line("b"),
			ids: []string{"a", "b"}, rejected: []Rejected{{Line: 2}}},
		{name: "bad item in an array", body: "[" + line("a") + `,{"id":"x","kind":"lead_created"}]`,
			ids: []string{"a"}, rejected: []Rejected{{Line: 2, ID: "x", Field: "ts"}}},
		{name: "another workspace", body: `{"id":"w","workspace":"other","ts":"2026-01-05T10:00:00Z","kind":"lead_created"}`,
			rejected: []Rejected{{Line: 1, ID: "w", Field: "workspace"}}},
		{name: "empty", body: "  ", bodyError: true},
		{name: "not JSON", body: "id,ts,kind", bodyError: true},
		{name: "broken array", body: "[" + line("a") + ",{", bodyError: true},
		{name: "unclosed array", body: "[" + line("a"), bodyError: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events, rejected, err := DecodeBody(strings.NewReader(tc.body), "w")
			var be *BodyError
			if tc.bodyError {
				if !errors.As(err, &be) {
					t.Fatalf("err = %v, want a *BodyError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range events {
				ids = append(ids, e.ID)
				if e.Workspace != "w" {
					t.Errorf("workspace = %q", e.Workspace)
				}
			}
			if strings.Join(ids, ",") != strings.Join(tc.ids, ",") {
				t.Errorf("ids = %v, want %v", ids, tc.ids)
			}
			if len(rejected) != len(tc.rejected) {
				t.Fatalf("rejected = %+v, want %+v", rejected, tc.rejected)
			}
			for i, want := range tc.rejected {
				got := rejected[i]
				if got.Line != want.Line || got.ID != want.ID || got.Field != want.Field || got.Reason == "" {
					t.Errorf("rejected[%d] = %+v, want %+v with a reason", i, got, want)
				}
			}
		})
	}
}

func TestDecodeBody_LineTooLong(t *testing.T) {
	long := `{"id":"long","ts":"2026-01-05T10:00:00Z","kind":"feedback","text":"` + strings.Repeat("x", MaxLineBytes) + `"}`
	events, rejected, err := DecodeBody(strings.NewReader(line("a")+"\n"+long+"\n"+line("b")), "w")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || len(rejected) != 1 || rejected[0].Line != 2 || !strings.Contains(rejected[0].Reason, "longer than") {
		t.Errorf("events %d, rejected %+v", len(events), rejected)
	}
}

func writeTemp(t *testing.T, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func readAll(t *testing.T, path string) ([]string, []Rejected) {
	t.Helper()
	f, err := OpenFile(path, "w")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ids []string
	var rejected []Rejected
	for {
		events, rej, err := f.Next(2)
		rejected = append(rejected, rej...)
		for _, e := range events {
			ids = append(ids, e.ID)
		}
		if errors.Is(err, io.EOF) {
			return ids, rejected
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

const csvFile = "id,ts,kind,text,tags,props,colour\n" +
	"a,2026-01-05T10:00:00Z,feedback,\"slow, but kind\",\"[\"\"complaint\"\"]\",\"{\"\"stars\"\":2}\",red\n" +
	"b,2026-01-05T10:00:00Z,feedback,\"two\nlines\",,,\n" +
	"c,2026-01-05T10:00:00Z,teleported,,,,\n" +
	"d,1767607200,lead_created,,,,\n"

func TestFileReader(t *testing.T) {
	jsonl := []byte(line("a") + "\n" + "oops\n" + line("b") + "\n")
	for _, tc := range []struct {
		name, file string
		content    []byte
		ids        []string
		lines      []int
	}{
		{"jsonl", "e.jsonl", jsonl, []string{"a", "b"}, []int{2}},
		{"jsonl gzip", "e.jsonl.gz", gz(t, jsonl), []string{"a", "b"}, []int{2}},
		{"csv", "e.csv", []byte(csvFile), []string{"a", "b", "d"}, []int{5}},
		{"csv gzip by magic", "e.csv", gz(t, []byte(csvFile)), []string{"a", "b", "d"}, []int{5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, rejected := readAll(t, writeTemp(t, tc.file, tc.content))
			if strings.Join(ids, ",") != strings.Join(tc.ids, ",") {
				t.Errorf("ids = %v, want %v", ids, tc.ids)
			}
			if len(rejected) != len(tc.lines) {
				t.Fatalf("rejected = %+v", rejected)
			}
			for i, l := range tc.lines {
				if rejected[i].Line != l {
					t.Errorf("rejected line %d, want %d (%+v)", rejected[i].Line, l, rejected[i])
				}
			}
		})
	}
}

func TestFileReader_CSVFields(t *testing.T) {
	f, err := OpenFile(writeTemp(t, "e.csv", []byte(csvFile)), "w")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events, _, _ := f.Next(1)
	e := events[0]
	if e.Text != "slow, but kind" || len(e.Tags) != 1 || e.Tags[0] != "complaint" || e.Prop("stars") != "2" || e.Prop("colour") != "red" {
		t.Errorf("event = %+v", e)
	}
}

func TestOpenFile_Errors(t *testing.T) {
	if _, err := OpenFile(writeTemp(t, "e.txt", []byte("x")), "w"); err == nil || !strings.Contains(err.Error(), "unknown file type") {
		t.Errorf("txt: %v", err)
	}
	if _, err := OpenFile(writeTemp(t, "e.csv", []byte("id,kind\n")), "w"); err == nil || !strings.Contains(err.Error(), `no "ts" column`) {
		t.Errorf("csv without ts: %v", err)
	}
}

func TestHashPhoneCustomers(t *testing.T) {
	events := []event.Event{{Customer: "+62 812-3456-7890"}, {Customer: "6281234567890"}, {Customer: "cus_42"}, {Customer: "123"}}
	HashPhoneCustomers(events, "shop")
	if events[0].Customer != events[1].Customer || !strings.HasPrefix(events[0].Customer, "ph_") {
		t.Errorf("the same number written two ways: %q and %q", events[0].Customer, events[1].Customer)
	}
	if events[2].Customer != "cus_42" || events[3].Customer != "123" {
		t.Errorf("non-phone ids changed: %q %q", events[2].Customer, events[3].Customer)
	}
	other := []event.Event{{Customer: "6281234567890"}}
	HashPhoneCustomers(other, "another-shop")
	if other[0].Customer == events[0].Customer {
		t.Error("two workspaces share a hash")
	}
}

func FuzzDecodeBody(f *testing.F) {
	f.Add([]byte("[" + line("a") + "]"))
	f.Add([]byte(line("a") + "\n{\n"))
	f.Add([]byte(`[{"id":1},"x",null]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		events, rejected, err := DecodeBody(bytes.NewReader(body), "w")
		if err != nil && (len(events) > 0 || len(rejected) > 0) {
			t.Errorf("a body error came with results")
		}
		for _, e := range events {
			if e.Workspace != "w" || e.ID == "" {
				t.Errorf("accepted an event without workspace or id: %+v", e)
			}
		}
	})
}
