package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Encodings a file for import may declare. UTF-8 is the default; a line
// of a UTF-8 file that is not valid UTF-8 is rejected, naming the field.
var Encodings = []string{"utf-8", "latin1", "windows-1252"}

// encodingTable returns the table a single-byte encoding maps bytes to
// runes with, nil for UTF-8, or an error for an encoding it does not know.
func encodingTable(name string) (*[256]rune, error) {
	switch strings.ToLower(strings.ReplaceAll(name, "_", "-")) {
	case "", "utf-8", "utf8":
		return nil, nil
	case "latin1", "latin-1", "iso-8859-1", "iso8859-1":
		return &latin1, nil
	case "windows-1252", "cp1252":
		return &windows1252, nil
	}
	return nil, fmt.Errorf("unknown encoding %q: use %s", name, strings.Join(Encodings, ", "))
}

var latin1, windows1252 [256]rune

func init() {
	for b := range 256 {
		latin1[b] = rune(b)
		windows1252[b] = rune(b)
	}
	// Windows-1252 differs from Latin-1 in 0x80–0x9F; the five bytes it
	// leaves undefined keep their Latin-1 control characters, as browsers
	// decode them.
	for i, r := range []rune{
		0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
		0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
	} {
		windows1252[0x80+i] = r
	}
}

// decodingReader turns a single-byte encoding into UTF-8.
type decodingReader struct {
	r       io.Reader
	table   *[256]rune
	in      []byte
	pending []byte // encoded but not yet returned
}

func newDecodingReader(r io.Reader, table *[256]rune) *decodingReader {
	return &decodingReader{r: r, table: table, in: make([]byte, 32<<10)}
}

func (d *decodingReader) Read(p []byte) (int, error) {
	if len(d.pending) == 0 {
		n, err := d.r.Read(d.in)
		if n == 0 {
			return 0, err
		}
		for _, b := range d.in[:n] {
			if b < utf8.RuneSelf {
				d.pending = append(d.pending, b)
			} else {
				d.pending = utf8.AppendRune(d.pending, d.table[b])
			}
		}
	}
	n := copy(p, d.pending)
	d.pending = d.pending[n:]
	if len(d.pending) == 0 {
		d.pending = d.in[:0:0]
	}
	return n, nil
}

// invalidUTF8 returns the offset of the first byte of b that is not valid
// UTF-8, or -1.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// notUTF8 rejects a line (or CSV field) with a byte that is not UTF-8 at
// offset off of text, which starts at column col of the line.
func notUTF8(line int, field string, text []byte, off, col int) *Rejected {
	return &Rejected{Line: line, Field: field, Reason: fmt.Sprintf("not valid UTF-8: byte 0x%02X at column %d", text[off], col+off)}
}

// encodingHint ends the reason a line of a file is not UTF-8.
const encodingHint = "; import a Latin-1 or Windows-1252 file with --encoding latin1 or --encoding windows-1252"

// withEncodingHint adds the hint to a rejection for bytes that are not
// UTF-8.
func withEncodingHint(r *Rejected) *Rejected {
	if r != nil && strings.HasPrefix(r.Reason, "not valid UTF-8: ") {
		r.Reason += encodingHint
	}
	return r
}

// jsonFieldAt names the top-level field of the JSON object raw whose key
// or value holds byte offset off, or "" when it cannot tell.
func jsonFieldAt(raw []byte, off int) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for dec.More() {
		start := dec.InputOffset()
		key, err := dec.Token()
		if err != nil {
			return ""
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return ""
		}
		if k, ok := key.(string); ok && int64(off) >= start && int64(off) < dec.InputOffset() {
			return k
		}
	}
	return ""
}

// CheckEncoding says whether name is an encoding OpenFileWith reads.
func CheckEncoding(name string) error {
	_, err := encodingTable(name)
	return err
}
