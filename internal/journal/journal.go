// Package journal is the write-ahead journal in front of the store: an
// accepted ingestion request is appended to a segment file and synced before
// it is acknowledged, many requests sharing one sync (group commit), and an
// applier moves the entries into the store in large batches, recording how
// far it got. On start, entries not yet applied are applied again; the store
// counts an event it already holds as a duplicate, so a replay changes no
// figure.
//
// On disk a journal is a directory of segments named by the sequence number
// of their first record, and a file "applied" with the sequence number of
// the last record the store holds. A record is
//
//	length uint32 | crc32c uint32 | seq uint64 | appended unix ns int64 | events uint32 | JSON array of events
//
// little-endian, the length and checksum covering everything after them. A
// torn last record (a crash in the middle of a write) is cut off on open; it
// was never acknowledged.
package journal

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
)

// ErrFull is returned by Append while the bytes not yet applied are past
// the journal's bound: the caller sheds load (503 with Retry-After).
var ErrFull = errors.New("journal full: the store is behind")

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("journal closed")

const (
	headerSize   = 8         // length, crc
	metaSize     = 8 + 8 + 4 // seq, appended, events
	maxRecord    = 256 << 20 // larger is a corrupt length
	segmentExt   = ".wal"    // segment file suffix
	appliedFile  = "applied" // sequence number of the last applied record
	defaultSeg   = 64 << 20  // segment size before a new one is started
	defaultBound = 1 << 30   // bytes not yet applied before Append sheds
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Options tune a journal; zero values take the defaults.
type Options struct {
	SegmentBytes int64 // start a new segment past this size, default 64 MiB
	// MaxUnapplied bounds the journal's bytes not yet in the store; past it
	// Append returns ErrFull. Default 1 GiB.
	MaxUnapplied int64
	// NoSync skips fsync, for tests of logic only; never in serve.
	NoSync bool
	// Log receives errors the writer cannot return to a caller.
	Log *slog.Logger
}

// Journal is an open journal directory. Append is safe for concurrent use.
type Journal struct {
	dir  string
	opts Options
	lock *os.File // held while open

	appends chan *appendReq
	done    chan struct{}
	closeMu sync.RWMutex // held for reading by Append, for writing by Close
	closed  bool

	// writer state, owned by the writer goroutine
	seg      *os.File
	segFirst uint64
	segSize  int64
	nextSeq  uint64

	mu        sync.Mutex
	durable   uint64 // last synced record
	applied   uint64 // last record the store holds
	segments  []segment
	pending   []pendingRecord // durable records not yet applied, in order
	unapplied int64           // bytes of pending records
	events    int64           // events of pending records
	notify    chan struct{}   // closed and renewed when records become durable
}

type segment struct {
	first uint64 // seq of its first record
	path  string
}

// pendingRecord is what the lag needs of a record not yet applied; kept
// small, as a full journal of single events holds millions.
type pendingRecord struct {
	seq      uint64
	appended int64 // unix ns
	bytes    uint32
	events   uint32
}

type appendReq struct {
	payload []byte // JSON array of events
	events  int
	onSeq   func(seq uint64) // called with the record's number before it can be applied
	reply   chan appendResult
}

type appendResult struct {
	seq uint64
	err error
}

// Record is one appended request, as read back.
type Record struct {
	Seq      uint64
	Appended time.Time
	Events   []event.Event
}

// Open opens or creates the journal in dir, cuts off a torn last record,
// deletes segments the store already holds, and starts the writer.
func Open(dir string, opts Options) (*Journal, error) {
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = defaultSeg
	}
	if opts.MaxUnapplied <= 0 {
		opts.MaxUnapplied = defaultBound
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	j := &Journal{dir: dir, opts: opts, lock: lock, appends: make(chan *appendReq, 4096), done: make(chan struct{}),
		notify: make(chan struct{})}
	opened := false
	defer func() {
		if !opened {
			lock.Close()
		}
	}()
	applied, err := readApplied(dir)
	if err != nil {
		return nil, err
	}
	j.applied = applied
	segs, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	last := applied
	for _, s := range segs {
		end, err := j.scan(s)
		if err != nil {
			return nil, err
		}
		if end > last {
			last = end
		}
	}
	j.segments = segs
	j.nextSeq = last + 1
	j.durable = last
	j.dropApplied()
	if err := j.startSegment(); err != nil {
		return nil, err
	}
	opened = true
	go j.write()
	return j, nil
}

// lockDir takes the journal directory for this process: two processes
// appending to one journal would interleave their records.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal %s is in use by another process (each omnikpi serve needs its own --journal): %w", dir, err)
	}
	return f, nil
}

// scan reads a segment's records to learn what is not yet applied. A record
// cut short or failing its checksum ends the segment and is truncated away:
// it was being written when the process stopped, or its write failed, and
// was not acknowledged either way (after a failed write the writer moves on
// to a new segment).
func (j *Journal) scan(s segment) (uint64, error) {
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var off int64
	var lastSeq uint64
	for {
		rec, size, err := readRecord(r, false)
		if err == io.EOF {
			break
		}
		if err != nil {
			if err := f.Truncate(off); err != nil {
				return 0, fmt.Errorf("journal %s: cut off torn record: %w", s.path, err)
			}
			if err := f.Sync(); err != nil {
				return 0, fmt.Errorf("journal %s: %w", s.path, err)
			}
			break
		}
		off += size
		lastSeq = rec.Seq
		if rec.Seq > j.applied {
			j.addPending(pendingRecord{seq: rec.Seq, bytes: uint32(size), events: uint32(rec.count), appended: rec.Appended.UnixNano()})
		}
	}
	return lastSeq, nil
}

// startSegment opens a new segment for the records from nextSeq on.
func (j *Journal) startSegment() error {
	if j.seg != nil {
		j.seg.Close()
		j.seg = nil
	}
	path := filepath.Join(j.dir, fmt.Sprintf("%020d%s", j.nextSeq, segmentExt))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if err := syncDir(j.dir); err != nil {
		f.Close()
		return err
	}
	j.seg, j.segFirst, j.segSize = f, j.nextSeq, 0
	j.mu.Lock()
	if n := len(j.segments); n == 0 || j.segments[n-1].path != path {
		j.segments = append(j.segments, segment{first: j.nextSeq, path: path})
	}
	j.mu.Unlock()
	return nil
}

// Append writes events as one record and returns its sequence number once
// the record is synced to disk. It returns ErrFull when the store is too
// far behind; then nothing is written. onSeq, when not nil, is called with
// the record's number after it is written and before a reader can see it.
func (j *Journal) Append(events []event.Event, onSeq func(seq uint64)) (uint64, error) {
	payload, err := json.Marshal(events)
	if err != nil {
		return 0, fmt.Errorf("journal: encode events: %w", err)
	}
	j.closeMu.RLock()
	defer j.closeMu.RUnlock()
	if j.closed {
		return 0, ErrClosed
	}
	j.mu.Lock()
	full := j.unapplied+int64(len(payload)) > j.opts.MaxUnapplied && j.unapplied > 0
	j.mu.Unlock()
	if full {
		return 0, ErrFull
	}
	req := &appendReq{payload: payload, events: len(events), onSeq: onSeq, reply: make(chan appendResult, 1)}
	j.appends <- req
	res := <-req.reply
	return res.seq, res.err
}

// write is the writer goroutine: it takes every append waiting, writes them
// in one go and syncs once.
func (j *Journal) write() {
	defer close(j.done)
	var buf []byte
	for first := range j.appends {
		batch := []*appendReq{first}
	more:
		for len(batch) < 4096 {
			select {
			case req, ok := <-j.appends:
				if !ok {
					break more
				}
				batch = append(batch, req)
			default:
				break more
			}
		}
		buf = buf[:0]
		now := time.Now()
		seq := j.nextSeq
		sizes := make([]int64, len(batch))
		for i, req := range batch {
			start := len(buf)
			buf = appendRecord(buf, seq+uint64(i), now, req.events, req.payload)
			sizes[i] = int64(len(buf) - start)
		}
		err := j.writeSynced(buf)
		// The batch's numbers are used up either way: after a failed write
		// they are skipped, so no number ever names two records.
		j.nextSeq = seq + uint64(len(batch))
		if err != nil {
			for _, req := range batch {
				req.reply <- appendResult{err: err}
			}
			if serr := j.startSegment(); serr != nil {
				j.log(serr)
			}
			continue
		}
		for i, req := range batch {
			if req.onSeq != nil {
				req.onSeq(seq + uint64(i))
			}
		}
		j.mu.Lock()
		for i, req := range batch {
			j.addPending(pendingRecord{seq: seq + uint64(i), bytes: uint32(sizes[i]), events: uint32(req.events), appended: now.UnixNano()})
		}
		j.durable = j.nextSeq - 1
		close(j.notify)
		j.notify = make(chan struct{})
		j.mu.Unlock()
		for i, req := range batch {
			req.reply <- appendResult{seq: seq + uint64(i)}
		}
		if j.segSize >= j.opts.SegmentBytes {
			if err := j.startSegment(); err != nil {
				j.log(err)
			}
		}
	}
}

// writeSynced appends buf to the current segment and syncs it. A failed
// write is cut off again where it can be; the caller then starts a new
// segment, so no acknowledged record ever follows a failed one in a file.
func (j *Journal) writeSynced(buf []byte) error {
	if j.seg == nil {
		// A new segment failed to open after an error: try again.
		if err := j.startSegment(); err != nil {
			return err
		}
	}
	_, err := j.seg.Write(buf)
	if err == nil && !j.opts.NoSync {
		err = j.seg.Sync()
	}
	if err != nil {
		j.seg.Truncate(j.segSize) // best effort: a torn tail is cut off on open too
		return fmt.Errorf("journal: %w", err)
	}
	j.segSize += int64(len(buf))
	return nil
}

// log reports an error the writer cannot hand to a caller; the next append
// meets it again.
func (j *Journal) log(err error) {
	if j.opts.Log != nil {
		j.opts.Log.Error("journal", "err", err)
	}
}

// addPending records a durable record not yet applied; mu is held or the
// journal is not yet shared.
func (j *Journal) addPending(p pendingRecord) {
	j.pending = append(j.pending, p)
	j.unapplied += int64(p.bytes)
	j.events += int64(p.events)
}

func appendRecord(buf []byte, seq uint64, at time.Time, events int, payload []byte) []byte {
	length := metaSize + len(payload)
	start := len(buf)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(length))
	buf = binary.LittleEndian.AppendUint32(buf, 0) // crc, below
	buf = binary.LittleEndian.AppendUint64(buf, seq)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(at.UnixNano()))
	buf = binary.LittleEndian.AppendUint32(buf, uint32(events))
	buf = append(buf, payload...)
	crc := crc32.Checksum(buf[start+headerSize:], castagnoli)
	binary.LittleEndian.PutUint32(buf[start+4:], crc)
	return buf
}

// rawRecord is a record as read, its events decoded only when asked.
type rawRecord struct {
	Record
	count int
}

var errTorn = errors.New("torn or corrupt record")

// readRecord reads one record; io.EOF at a clean end, errTorn for a record
// cut short or failing its checksum. It returns the record's size on disk.
func readRecord(r *bufio.Reader, decode bool) (rawRecord, int64, error) {
	var head [headerSize]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		if err == io.EOF {
			return rawRecord{}, 0, io.EOF
		}
		return rawRecord{}, 0, errTorn
	}
	length := binary.LittleEndian.Uint32(head[:4])
	if length < metaSize || length > maxRecord {
		return rawRecord{}, 0, errTorn
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return rawRecord{}, 0, errTorn
	}
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(head[4:]) {
		return rawRecord{}, 0, errTorn
	}
	rec := rawRecord{Record: Record{
		Seq:      binary.LittleEndian.Uint64(body[0:8]),
		Appended: time.Unix(0, int64(binary.LittleEndian.Uint64(body[8:16]))),
	}, count: int(binary.LittleEndian.Uint32(body[16:20]))}
	if decode {
		dec := json.NewDecoder(strings.NewReader(string(body[metaSize:])))
		dec.UseNumber()
		if err := dec.Decode(&rec.Events); err != nil {
			return rawRecord{}, 0, fmt.Errorf("journal record %d: %w", rec.Seq, err)
		}
	}
	return rec, int64(headerSize + length), nil
}

// Reader reads durable records in order, from the first not yet applied.
// Only the applier uses it.
type Reader struct {
	j    *Journal
	next uint64 // seq of the next record to return
	f    *os.File
	r    *bufio.Reader
	seg  uint64 // first seq of the open segment
}

// NewReader reads from the first record not yet applied.
func (j *Journal) NewReader() *Reader {
	j.mu.Lock()
	defer j.mu.Unlock()
	return &Reader{j: j, next: j.applied + 1}
}

// Read returns the durable records from the reader's position on, up to
// about maxEvents events (at least one record when there is one).
func (r *Reader) Read(maxEvents int) ([]Record, error) {
	var out []Record
	events := 0
	for events < maxEvents {
		r.j.mu.Lock()
		durable := r.j.durable
		r.j.mu.Unlock()
		if r.next > durable {
			break
		}
		if err := r.position(); err != nil {
			return out, err
		}
		rec, _, err := readRecord(r.r, true)
		if err == io.EOF || errors.Is(err, errTorn) {
			// The end of this segment: the record is in the next one.
			if err := r.nextSegment(); err != nil {
				return out, err
			}
			continue
		}
		if err != nil {
			return out, err
		}
		if rec.Seq < r.next {
			continue // applied before this reader started
		}
		// Numbers of a failed write are skipped: the next record may be
		// further on.
		r.next = rec.Seq + 1
		out = append(out, rec.Record)
		events += len(rec.Events)
	}
	return out, nil
}

// position opens the segment holding record next, if none is open.
func (r *Reader) position() error {
	if r.f != nil {
		return nil
	}
	r.j.mu.Lock()
	var seg segment
	for _, s := range r.j.segments {
		if s.first <= r.next {
			seg = s
		}
	}
	r.j.mu.Unlock()
	if seg.path == "" {
		return fmt.Errorf("journal: no segment holds record %d", r.next)
	}
	f, err := os.Open(seg.path)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	r.f, r.r, r.seg = f, bufio.NewReaderSize(f, 1<<20), seg.first
	return nil
}

// nextSegment moves on to the segment after the open one.
func (r *Reader) nextSegment() error {
	r.j.mu.Lock()
	var next segment
	for _, s := range r.j.segments {
		if s.first > r.seg {
			next = s
			break
		}
	}
	r.j.mu.Unlock()
	if next.path == "" {
		return fmt.Errorf("journal: record %d is durable but in no segment", r.next)
	}
	r.f.Close()
	r.f = nil
	f, err := os.Open(next.path)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	r.f, r.r, r.seg = f, bufio.NewReaderSize(f, 1<<20), next.first
	return nil
}

// Close closes the reader's file.
func (r *Reader) Close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// MarkApplied records that the store holds every record up to seq: it is
// written to disk before the segments it frees are deleted.
func (j *Journal) MarkApplied(seq uint64) error {
	tmp := filepath.Join(j.dir, appliedFile+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.FormatUint(seq, 10)+"\n"), 0o600); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if !j.opts.NoSync {
		f, err := os.Open(tmp)
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
	if err := os.Rename(tmp, filepath.Join(j.dir, appliedFile)); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if !j.opts.NoSync {
		if err := syncDir(j.dir); err != nil {
			return err
		}
	}
	j.mu.Lock()
	done := 0
	for done < len(j.pending) && j.pending[done].seq <= seq {
		j.unapplied -= int64(j.pending[done].bytes)
		j.events -= int64(j.pending[done].events)
		done++
	}
	j.pending = j.pending[done:]
	if seq > j.applied {
		j.applied = seq
	}
	j.mu.Unlock()
	return j.dropApplied()
}

// dropApplied deletes every segment whose records are all applied, but
// never the one being written.
func (j *Journal) dropApplied() error {
	j.mu.Lock()
	var drop []segment
	for len(j.segments) > 1 && j.segments[1].first <= j.applied+1 {
		drop = append(drop, j.segments[0])
		j.segments = j.segments[1:]
	}
	j.mu.Unlock()
	for _, s := range drop {
		if err := os.Remove(s.path); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("journal: %w", err)
		}
	}
	return nil
}

// Durable returns a channel closed once more records are durable, and the
// last durable record now.
func (j *Journal) Durable() (<-chan struct{}, uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.notify, j.durable
}

// Lag is what the journal holds that the store does not yet.
type Lag struct {
	Records int64
	Events  int64
	Bytes   int64
	Oldest  time.Time // when the oldest unapplied record was appended; zero when none
}

// Lag reports the records not yet applied.
func (j *Journal) Lag() Lag {
	j.mu.Lock()
	defer j.mu.Unlock()
	l := Lag{Records: int64(len(j.pending)), Events: j.events, Bytes: j.unapplied}
	if len(j.pending) > 0 {
		l.Oldest = time.Unix(0, j.pending[0].appended)
	}
	return l
}

// Applied is the last record the store holds: it grows whenever the
// applier has moved records into the store.
func (j *Journal) Applied() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.applied
}

// Dir is the journal's directory.
func (j *Journal) Dir() string { return j.dir }

// Close stops taking appends, finishes the writes in flight and closes the
// segment. What is not yet applied stays for the next Open.
func (j *Journal) Close() error {
	j.closeMu.Lock()
	if j.closed {
		j.closeMu.Unlock()
		return nil
	}
	j.closed = true
	close(j.appends)
	j.closeMu.Unlock()
	<-j.done
	defer j.lock.Close()
	if j.seg == nil {
		return nil
	}
	return j.seg.Close()
}

func readApplied(dir string) (uint64, error) {
	b, err := os.ReadFile(filepath.Join(dir, appliedFile))
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("journal %s: %w", filepath.Join(dir, appliedFile), err)
	}
	return n, nil
}

func listSegments(dir string) ([]segment, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var segs []segment
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), segmentExt)
		if !ok {
			continue
		}
		first, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		segs = append(segs, segment{first: first, path: filepath.Join(dir, e.Name())})
	}
	sort.Slice(segs, func(a, b int) bool { return segs[a].first < segs[b].first })
	return segs, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("journal: sync %s: %w", dir, err)
	}
	return nil
}

// appliedThrough reports whether every durable record up to seq is
// applied.
func (j *Journal) appliedThrough(seq uint64) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.pending) == 0 || j.pending[0].seq > seq
}
