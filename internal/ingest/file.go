package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/omnikpi/omnikpi/internal/event"
)

// FileReader streams the events of one .jsonl or .csv file, gzipped or
// not, in batches.
type FileReader struct {
	file      *os.File
	size      int64
	counter   *countingReader
	gz        *gzip.Reader
	workspace string

	lines *lineReader // JSON Lines
	csv   *csv.Reader // CSV
	rec   *recorder   // the CSV text read, for rejected records
	cols  []string
	read  int
	utf8  bool // check that text is UTF-8 (nothing to check once decoded)
}

// FileOptions say how to read a file.
type FileOptions struct {
	// Encoding is the file's character set: utf-8 (the default), latin1
	// or windows-1252, decoded to UTF-8.
	Encoding string
}

// OpenFile opens path for workspace, choosing the format by its name:
// .jsonl, .ndjson or .json for JSON Lines, .csv for CSV, each optionally
// followed by .gz. Gzip is also recognised by its magic bytes.
func OpenFile(path, workspace string) (*FileReader, error) {
	return OpenFileWith(path, workspace, FileOptions{})
}

// OpenFileWith opens path as OpenFile does, reading it as opts say.
func OpenFileWith(path, workspace string, opts FileOptions) (*FileReader, error) {
	table, err := encodingTable(opts.Encoding)
	if err != nil {
		return nil, err
	}
	name := strings.ToLower(filepath.Base(path))
	name = strings.TrimSuffix(name, ".gz")
	var isCSV bool
	switch filepath.Ext(name) {
	case ".jsonl", ".ndjson", ".json":
	case ".csv":
		isCSV = true
	default:
		return nil, fmt.Errorf("%s: unknown file type: use .jsonl, .ndjson or .csv, optionally .gz", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	fr := &FileReader{file: f, size: info.Size(), counter: &countingReader{r: f}, workspace: workspace, utf8: table == nil}
	buffered := bufio.NewReaderSize(fr.counter, 256<<10)
	var r io.Reader = buffered
	if magic, _ := buffered.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		if fr.gz, err = gzip.NewReader(buffered); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = bufio.NewReaderSize(fr.gz, 256<<10)
	}
	if table != nil {
		r = bufio.NewReaderSize(newDecodingReader(r, table), 256<<10)
	}
	if !isCSV {
		br, ok := r.(*bufio.Reader)
		if !ok {
			br = bufio.NewReader(r)
		}
		fr.lines = newLineReader(br)
		return fr, nil
	}
	fr.rec = &recorder{r: r}
	fr.csv = csv.NewReader(fr.rec)
	fr.csv.ReuseRecord = true
	header, err := fr.csv.Read()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: read the CSV header: %w", path, err)
	}
	fr.cols = make([]string, len(header))
	for i, h := range header {
		if off := invalidUTF8([]byte(h)); off >= 0 && fr.utf8 {
			f.Close()
			line, col := fr.csv.FieldPos(i)
			r := withEncodingHint(notUTF8(line, "", []byte(h), off, col))
			return nil, fmt.Errorf("%s: line %d, the CSV header's column %d: %s", path, line, i+1, r.Reason)
		}
		fr.cols[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
	}
	for _, required := range []string{"id", "ts", "kind"} {
		if !contains(fr.cols, required) {
			f.Close()
			return nil, fmt.Errorf("%s: the CSV header has no %q column", path, required)
		}
	}
	fr.csv.FieldsPerRecord = len(fr.cols)
	fr.rec.take(fr.csv.InputOffset())
	return fr, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Next returns up to n valid events and the lines rejected on the way, or
// io.EOF once the file is done.
func (f *FileReader) Next(n int) ([]event.Event, []Rejected, error) {
	// Sized up front: an event is a large struct, and growing the slice
	// copied each batch several times over.
	events := make([]event.Event, 0, min(n, 1<<17))
	var rejected []Rejected
	for len(events) < n {
		e, rej, err := f.one()
		if errors.Is(err, io.EOF) {
			if len(events) == 0 && len(rejected) == 0 {
				return nil, nil, io.EOF
			}
			return events, rejected, nil
		}
		if err != nil {
			return events, rejected, err
		}
		if rej != nil {
			rejected = append(rejected, *rej)
			continue
		}
		events = append(events, e)
	}
	return events, rejected, nil
}

func (f *FileReader) one() (event.Event, *Rejected, error) {
	if f.lines != nil {
		raw, line, err := f.lines.next()
		if err != nil {
			var tooLong *lineTooLongError
			if errors.As(err, &tooLong) {
				f.read++
				return event.Event{}, &Rejected{Line: line, Reason: err.Error()}, nil
			}
			return event.Event{}, nil, err
		}
		f.read++
		e, rej := decodeOne(raw, line, f.workspace)
		return e, withEncodingHint(rej), nil
	}
	record, err := f.csv.Read()
	raw := f.rec.take(f.csv.InputOffset())
	if err != nil {
		var parseErr *csv.ParseError
		if errors.As(err, &parseErr) {
			f.read++
			return event.Event{}, &Rejected{Line: parseErr.StartLine, Reason: parseErr.Err.Error(), Raw: bytes.Clone(raw)}, nil
		}
		return event.Event{}, nil, err
	}
	f.read++
	line, _ := f.csv.FieldPos(0)
	if f.utf8 {
		for i, v := range record {
			if off := invalidUTF8([]byte(v)); off >= 0 {
				_, col := f.csv.FieldPos(i)
				r := withEncodingHint(notUTF8(line, f.cols[i], []byte(v), off, col))
				if id := record[0]; f.cols[0] == "id" && utf8.ValidString(id) {
					r.ID = id
				}
				r.Raw = bytes.Clone(raw)
				return event.Event{}, r, nil
			}
		}
	}
	m := make(map[string]any, len(record))
	for i, v := range record {
		if v != "" {
			m[f.cols[i]] = v
		}
	}
	e, err := event.FromMap(m)
	if err == nil {
		err = admit(&e, f.workspace)
	}
	if err != nil {
		r := rejection(line, nil, err)
		if id, ok := m["id"].(string); ok {
			r.ID = id
		}
		r.Raw = bytes.Clone(raw)
		return event.Event{}, &r, nil
	}
	return e, nil, nil
}

// Lines is the number of lines (CSV records) read so far.
func (f *FileReader) Lines() int { return f.read }

// BytesRead is how much of the file on disk has been consumed.
func (f *FileReader) BytesRead() int64 { return f.counter.n.Load() }

// Size is the file's size on disk.
func (f *FileReader) Size() int64 { return f.size }

// Close closes the file.
func (f *FileReader) Close() error {
	if f.gz != nil {
		f.gz.Close()
	}
	return f.file.Close()
}

// recorder keeps the bytes a CSV reader has read from r beyond the end of
// its last record, so that a rejected record can be written as it was.
type recorder struct {
	r     io.Reader
	buf   []byte
	start int   // buf[:start] is taken
	base  int64 // input offset of buf[0]
}

func (c *recorder) Read(p []byte) (int, error) {
	if c.start > 0 {
		c.buf = c.buf[:copy(c.buf, c.buf[c.start:])]
		c.base += int64(c.start)
		c.start = 0
	}
	n, err := c.r.Read(p)
	c.buf = append(c.buf, p[:n]...)
	return n, err
}

// take returns the text from the end of the last record to offset end,
// without its line break. It is valid until the next Read.
func (c *recorder) take(end int64) []byte {
	k := min(max(int(end-c.base), c.start), len(c.buf))
	raw := bytes.TrimRight(c.buf[c.start:k], "\r\n")
	c.start = k
	return raw
}

type countingReader struct {
	r io.Reader
	n atomic.Int64 // read from another goroutine by a progress bar
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
