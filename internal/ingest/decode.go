// Package ingest turns bytes into valid events: request bodies, files, and
// (in later adapters) webhooks.
package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/omnikpi/omnikpi/internal/event"
)

// Rejected is one event that could not be accepted, and where it was.
type Rejected struct {
	Line   int    `json:"line,omitempty"` // 1-based line of a file or NDJSON body, or position in a JSON array
	ID     string `json:"id,omitempty"`   // the event's id, when it could be read
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
	// Raw is the line as read (a file's line or CSV record), for a
	// rejects file; not part of an API answer.
	Raw []byte `json:"-"`
}

func (r Rejected) Error() string {
	var b strings.Builder
	if r.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", r.Line)
	}
	if r.Field != "" {
		b.WriteString(r.Field + ": ")
	}
	b.WriteString(r.Reason)
	return b.String()
}

// BodyError is a request body that cannot be read as events at all.
type BodyError struct {
	Reason string
	Err    error // the reading error behind it, if any (such as *http.MaxBytesError)
}

func (e *BodyError) Error() string { return "unreadable body: " + e.Reason }
func (e *BodyError) Unwrap() error { return e.Err }

func readError(err error) *BodyError { return &BodyError{Reason: err.Error(), Err: err} }

// MaxLineBytes bounds one line of NDJSON or JSON Lines.
const MaxLineBytes = 1 << 20

// rejection builds a Rejected from a decoding error.
func rejection(line int, raw []byte, err error) Rejected {
	var r Rejected
	r.Line = line
	if err != nil {
		r.Reason = err.Error()
	}
	var fe *event.FieldError
	if errors.As(err, &fe) {
		r.Field, r.Reason = fe.Field, fe.Reason
	}
	var probe struct {
		ID any `json:"id"`
	}
	if json.Unmarshal(raw, &probe) == nil {
		if id, ok := probe.ID.(string); ok {
			r.ID = id
		}
	}
	return r
}

// admit sets the event's workspace to the one writing it, or rejects an
// event that names another.
func admit(e *event.Event, workspace string) error {
	if e.Workspace != "" && e.Workspace != workspace {
		return &event.FieldError{Field: "workspace", Reason: fmt.Sprintf("%q is not the workspace %q this key or import writes to", e.Workspace, workspace)}
	}
	e.Workspace = workspace
	return nil
}

// decodeOne parses one event for workspace, or says why not.
func decodeOne(raw []byte, line int, workspace string) (event.Event, *Rejected) {
	if off := invalidUTF8(raw); off >= 0 {
		// encoding/json would store the bytes as U+FFFD, mangled.
		r := notUTF8(line, jsonFieldAt(raw, off), raw, off, 1)
		r.ID = rejection(line, raw, nil).ID
		r.Raw = bytes.Clone(raw)
		return event.Event{}, r
	}
	e, err := event.ParseJSON(raw)
	if err == nil {
		err = admit(&e, workspace)
	}
	if err != nil {
		r := rejection(line, raw, err)
		r.Raw = bytes.Clone(raw)
		return event.Event{}, &r
	}
	return e, nil
}

// bodyReaders are the buffers DecodeBody reads through: a webhook sends
// thousands of small bodies a second, and a fresh 64 KiB buffer for each
// costs more than decoding it.
var bodyReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

// DecodeBody reads a request body that is one JSON array of events or
// newline-delimited JSON. Events without a workspace get workspace; one
// naming another workspace is rejected. A body that is neither form is a
// *BodyError; a bad event in a readable body is a Rejected entry.
func DecodeBody(r io.Reader, workspace string) ([]event.Event, []Rejected, error) {
	br := bodyReaders.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil)
		bodyReaders.Put(br)
	}()
	first, err := firstByte(br)
	if err != nil {
		return nil, nil, err
	}
	if first == '[' {
		return decodeArray(br, workspace)
	}
	if first != '{' {
		return nil, nil, &BodyError{Reason: fmt.Sprintf("expected a JSON array or JSON objects, one per line, but it starts with %q", first)}
	}
	var events []event.Event
	var rejected []Rejected
	lines := newLineReader(br)
	for {
		raw, line, err := lines.next()
		if errors.Is(err, io.EOF) {
			return events, rejected, nil
		}
		if err != nil {
			var tooLong *lineTooLongError
			if errors.As(err, &tooLong) {
				rejected = append(rejected, Rejected{Line: line, Reason: err.Error()})
				continue
			}
			return nil, nil, readError(err)
		}
		if e, rej := decodeOne(raw, line, workspace); rej != nil {
			rejected = append(rejected, *rej)
		} else {
			events = append(events, e)
		}
	}
}

// firstByte returns the first non-space byte without consuming it.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			return 0, &BodyError{Reason: "the body is empty"}
		}
		if err != nil {
			return 0, readError(err)
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b, br.UnreadByte()
	}
}

// decodeArray reads a JSON array item by item, so that one bad event is
// rejected alone. An array that is not valid JSON is a BodyError, since its
// items cannot be told apart.
func decodeArray(br io.Reader, workspace string) ([]event.Event, []Rejected, error) {
	dec := json.NewDecoder(br)
	if _, err := dec.Token(); err != nil {
		return nil, nil, readError(err)
	}
	var events []event.Event
	var rejected []Rejected
	for pos := 1; dec.More(); pos++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, &BodyError{Reason: fmt.Sprintf("item %d: %v", pos, strings.TrimPrefix(err.Error(), "json: ")), Err: err}
		}
		if e, rej := decodeOne(raw, pos, workspace); rej != nil {
			rejected = append(rejected, *rej)
		} else {
			events = append(events, e)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, &BodyError{Reason: "the array is not closed: " + err.Error(), Err: err}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, &BodyError{Reason: "data after the array"}
	}
	return events, rejected, nil
}

// lineReader yields non-blank lines with their 1-based numbers.
type lineReader struct {
	br   *bufio.Reader
	line int
	buf  []byte
}

type lineTooLongError struct{ limit int }

func (e *lineTooLongError) Error() string {
	return fmt.Sprintf("the line is longer than %d bytes", e.limit)
}

func newLineReader(br *bufio.Reader) *lineReader { return &lineReader{br: br} }

func (l *lineReader) next() ([]byte, int, error) {
	for {
		l.buf = l.buf[:0]
		tooLong := false
		for {
			chunk, err := l.br.ReadSlice('\n')
			if len(l.buf)+len(chunk) > MaxLineBytes {
				tooLong = true
			} else {
				l.buf = append(l.buf, chunk...)
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, 0, err
			}
			if errors.Is(err, io.EOF) && len(l.buf) == 0 && !tooLong {
				return nil, 0, io.EOF
			}
			break
		}
		l.line++
		if tooLong {
			return nil, l.line, &lineTooLongError{limit: MaxLineBytes}
		}
		if trimmed := bytes.TrimSpace(l.buf); len(trimmed) > 0 {
			return trimmed, l.line, nil
		}
	}
}
