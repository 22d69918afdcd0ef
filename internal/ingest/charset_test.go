package ingest

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/event"
)

// readWith reads a whole file with opts.
func readWith(t *testing.T, path string, opts FileOptions) ([]event.Event, []Rejected) {
	t.Helper()
	f, err := OpenFileWith(path, "w", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []event.Event
	var rejected []Rejected
	for {
		ev, rej, err := f.Next(2)
		events, rejected = append(events, ev...), append(rejected, rej...)
		if errors.Is(err, io.EOF) {
			return events, rejected
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A Latin-1 "café crème": é is 0xE9, è 0xE8.
const latin1Text = "caf\xe9 cr\xe8me"

// TestFileReader_NotUTF8 rejects a line that is not UTF-8, naming the
// line, the field and the byte, instead of storing it mangled; the other
// lines are read.
func TestFileReader_NotUTF8(t *testing.T) {
	csvText := "id,ts,kind,text\n" +
		"a,2026-01-05T10:00:00Z,feedback,fine\n" +
		"b,2026-01-05T10:00:00Z,feedback," + latin1Text + "\n"
	jsonl := line("a") + "\n" +
		`{"id":"b","ts":"2026-01-05T10:00:00Z","kind":"feedback","text":"` + latin1Text + `"}` + "\n"
	for _, tc := range []struct {
		file, content, raw string
		line, column       int
	}{
		{"e.csv", csvText, "b,2026-01-05T10:00:00Z,feedback," + latin1Text, 3, 36},
		{"e.jsonl", jsonl, `{"id":"b","ts":"2026-01-05T10:00:00Z","kind":"feedback","text":"` + latin1Text + `"}`, 2, 68},
	} {
		t.Run(tc.file, func(t *testing.T) {
			events, rejected := readWith(t, writeTemp(t, tc.file, []byte(tc.content)), FileOptions{})
			if len(events) != 1 || events[0].ID != "a" {
				t.Errorf("events = %+v", events)
			}
			if len(rejected) != 1 {
				t.Fatalf("rejected = %+v", rejected)
			}
			r := rejected[0]
			if r.Line != tc.line || r.Field != "text" || r.ID != "b" || !strings.Contains(r.Reason, fmt.Sprintf("not valid UTF-8: byte 0xE9 at column %d;", tc.column)) ||
				!strings.Contains(r.Reason, "--encoding latin1") || string(r.Raw) != tc.raw {
				t.Errorf("rejected = %+v (raw %q)", r, r.Raw)
			}
		})
	}
}

// TestFileReader_Encoding decodes a file declared Latin-1 or Windows-1252.
func TestFileReader_Encoding(t *testing.T) {
	for _, tc := range []struct{ encoding, in, want string }{
		{"latin1", latin1Text, "café crème"},
		{"windows-1252", latin1Text + " \x80 \x93ok\x94", "café crème € “ok”"},
		{"latin1", "\x80", "\u0080"},
		{"utf-8", "café", "café"},
	} {
		for _, file := range []string{"e.csv", "e.jsonl.gz"} {
			var content []byte
			if file == "e.csv" {
				content = []byte("id,ts,kind,text\nb,2026-01-05T10:00:00Z,feedback," + tc.in + "\n")
			} else {
				content = gz(t, []byte(`{"id":"b","ts":"2026-01-05T10:00:00Z","kind":"feedback","text":"`+tc.in+`"}`+"\n"))
			}
			events, rejected := readWith(t, writeTemp(t, file, content), FileOptions{Encoding: tc.encoding})
			if len(rejected) != 0 || len(events) != 1 || events[0].Text != tc.want {
				t.Errorf("%s %s: events %+v, rejected %+v; want text %q", tc.encoding, file, events, rejected, tc.want)
			}
		}
	}
	header := writeTemp(t, "e.csv", []byte("id,ts,kind,cat\xe9gorie\n"))
	if _, err := OpenFile(header, "w"); err == nil || !strings.Contains(err.Error(), "line 1, the CSV header's column 4: not valid UTF-8: byte 0xE9 at column 15;") {
		t.Errorf("a Latin-1 header: %v", err)
	}
	if f, err := OpenFileWith(header, "w", FileOptions{Encoding: "latin1"}); err != nil {
		t.Errorf("a Latin-1 header read as Latin-1: %v", err)
	} else {
		f.Close()
	}
	if _, err := OpenFileWith(writeTemp(t, "e.csv", []byte("id,ts,kind\n")), "w", FileOptions{Encoding: "ebcdic"}); err == nil ||
		!strings.Contains(err.Error(), `unknown encoding "ebcdic"`) {
		t.Errorf("ebcdic: %v", err)
	}
}

// TestFileReader_RawRecords keeps each rejected CSV record as it was
// written, quotes and line breaks included.
func TestFileReader_RawRecords(t *testing.T) {
	content := "id,ts,kind,text\r\n" +
		"a,2026-01-05T10:00:00Z,feedback,\"two\r\nlines\"\r\n" +
		"b,2026-01-05T10:00:00Z,teleported,\"x, \"\"y\"\"\"\r\n" +
		"c,2026-01-05T10:00:00Z,feedback,ok\r\n" +
		"d,yesterday,feedback,\"multi\nline\"\n"
	_, rejected := readWith(t, writeTemp(t, "e.csv", []byte(content)), FileOptions{})
	want := []string{"b,2026-01-05T10:00:00Z,teleported,\"x, \"\"y\"\"\"", "d,yesterday,feedback,\"multi\nline\""}
	if len(rejected) != len(want) {
		t.Fatalf("rejected = %+v", rejected)
	}
	for i, w := range want {
		if string(rejected[i].Raw) != w {
			t.Errorf("rejected %d: raw %q, want %q", i, rejected[i].Raw, w)
		}
	}
}
