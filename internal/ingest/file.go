package ingest

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

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
	cols  []string
	read  int
}

// OpenFile opens path for workspace, choosing the format by its name:
// .jsonl, .ndjson or .json for JSON Lines, .csv for CSV, each optionally
// followed by .gz. Gzip is also recognised by its magic bytes.
func OpenFile(path, workspace string) (*FileReader, error) {
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
	fr := &FileReader{file: f, size: info.Size(), counter: &countingReader{r: f}, workspace: workspace}
	buffered := bufio.NewReaderSize(fr.counter, 256<<10)
	var r io.Reader = buffered
	if magic, _ := buffered.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		if fr.gz, err = gzip.NewReader(buffered); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = bufio.NewReaderSize(fr.gz, 256<<10)
	}
	if !isCSV {
		br, ok := r.(*bufio.Reader)
		if !ok {
			br = bufio.NewReader(r)
		}
		fr.lines = newLineReader(br)
		return fr, nil
	}
	fr.csv = csv.NewReader(r)
	fr.csv.ReuseRecord = true
	header, err := fr.csv.Read()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: read the CSV header: %w", path, err)
	}
	fr.cols = make([]string, len(header))
	for i, h := range header {
		fr.cols[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
	}
	for _, required := range []string{"id", "ts", "kind"} {
		if !contains(fr.cols, required) {
			f.Close()
			return nil, fmt.Errorf("%s: the CSV header has no %q column", path, required)
		}
	}
	fr.csv.FieldsPerRecord = len(fr.cols)
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
	var events []event.Event
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
		return e, rej, nil
	}
	record, err := f.csv.Read()
	if err != nil {
		var parseErr *csv.ParseError
		if errors.As(err, &parseErr) {
			f.read++
			return event.Event{}, &Rejected{Line: parseErr.StartLine, Reason: parseErr.Err.Error()}, nil
		}
		return event.Event{}, nil, err
	}
	f.read++
	line, _ := f.csv.FieldPos(0)
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

type countingReader struct {
	r io.Reader
	n atomic.Int64 // read from another goroutine by a progress bar
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
