package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/store"
)

// maxShownRejections is how many rejected lines the summary spells out.
const maxShownRejections = 5

func runImport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "import", "--workspace W [--strict] [--encoding utf-8|latin1|windows-1252] [--rejects FILE] FILE...")
	db := fs.String("db", DefaultDB, dbUsage)
	workspace := fs.String("workspace", "", "workspace the events belong to (required)")
	strict := fs.Bool("strict", false, "all or nothing: check every file first and import nothing if a line of any is bad")
	encoding := fs.String("encoding", "utf-8", "the files' character set: utf-8 (a line that is not is rejected), latin1 or windows-1252")
	rejects := fs.String("rejects", "", "write every rejected line, with its file, line, id, field and reason, to this JSON Lines file")
	batch := fs.Int("batch", 100_000, "events per transaction")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *workspace == "" || fs.NArg() == 0 {
		fmt.Fprintln(e.stderr, "omnikpi import: --workspace and at least one FILE are required")
		fs.Usage()
		return errUsage
	}
	imp := &importer{batch: *batch, progress: progressTo(e.stderr), opts: ingest.FileOptions{Encoding: *encoding}}
	if err := ingest.CheckEncoding(*encoding); err != nil {
		return fmt.Errorf("--encoding: %w", err)
	}
	if *rejects != "" {
		f, err := os.Create(*rejects)
		if err != nil {
			return fmt.Errorf("--rejects: %w", err)
		}
		imp.rejects = &rejectsFile{path: *rejects, f: f, w: bufio.NewWriter(f)}
		defer imp.rejects.close()
	}
	c, err := viaServer(ctx, e, *db)
	if err != nil {
		return err
	}
	if c != nil {
		// Created when new, as an import into the file does.
		got, err := c.WithWorkspace(*workspace).ChangeWorkspace(ctx, client.WorkspaceChange{})
		if err != nil {
			return err
		}
		ws, err := storeWorkspace(got)
		if err != nil {
			return err
		}
		imp.remote, imp.ws = c.WithWorkspace(*workspace), ws
	} else {
		s, ws, err := openWorkspace(ctx, *db, *workspace)
		if err != nil {
			return err
		}
		defer s.Close()
		imp.store, imp.ws = s, ws
	}
	if *strict {
		// Check every file before storing anything: all or nothing for
		// the whole command. An interrupted import after this check is
		// completed by running it again: events already stored come back
		// as duplicates.
		var bad []string
		for _, path := range fs.Args() {
			sum, err := imp.check(path)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if sum.rejected > 0 {
				fmt.Fprintln(e.stdout, sum)
				bad = append(bad, path)
			}
		}
		if len(bad) > 0 {
			if err := imp.rejects.finish(e.stdout); err != nil {
				return err
			}
			return fmt.Errorf("nothing imported (--strict): lines were rejected in %s", strings.Join(bad, ", "))
		}
	}
	var rejectedFiles []string
	for _, path := range fs.Args() {
		sum, err := imp.file(ctx, path)
		if isDiskFull(err) {
			return fmt.Errorf("%s: %w writing %s: %w; the %d events of it stored before are kept: free space and import it again (they will count as duplicates)",
				path, errDiskFull, *db, err, sum.accepted)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		fmt.Fprintln(e.stdout, sum)
		if sum.rejected > 0 {
			rejectedFiles = append(rejectedFiles, path)
		}
	}
	if err := imp.rejects.finish(e.stdout); err != nil {
		return err
	}
	if len(rejectedFiles) > 0 {
		return fmt.Errorf("lines were rejected in %s", strings.Join(rejectedFiles, ", "))
	}
	return nil
}

// rejectsFile is where --rejects writes every rejected line.
type rejectsFile struct {
	path string
	f    *os.File
	w    *bufio.Writer
	n    int
	err  error
}

// rejectedLine is one line of a rejects file.
type rejectedLine struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	ID     string `json:"id,omitempty"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
	Raw    string `json:"raw"`
	// RawBase64 holds the line's exact bytes when they are not UTF-8,
	// which JSON text cannot carry.
	RawBase64 string `json:"raw_base64,omitempty"`
}

func (r *rejectsFile) write(path string, rejected []ingest.Rejected) {
	if r == nil || r.err != nil {
		return
	}
	for _, x := range rejected {
		l := rejectedLine{File: path, Line: x.Line, ID: x.ID, Field: x.Field, Reason: x.Reason, Raw: string(x.Raw)}
		if !utf8.Valid(x.Raw) {
			l.RawBase64 = base64.StdEncoding.EncodeToString(x.Raw)
		}
		b, err := json.Marshal(l)
		if err == nil {
			_, err = r.w.Write(append(b, '\n'))
		}
		if err != nil {
			r.err = err
			return
		}
		r.n++
	}
}

// finish flushes the file and says where the rejected lines are.
func (r *rejectsFile) finish(w io.Writer) error {
	if r == nil {
		return nil
	}
	if r.err == nil {
		r.err = r.w.Flush()
	}
	if r.err != nil {
		return fmt.Errorf("--rejects %s: %w", r.path, r.err)
	}
	fmt.Fprintf(w, "%d rejected lines written to %s\n", r.n, r.path)
	return nil
}

// close keeps what was written, also when the import stops on an error.
func (r *rejectsFile) close() {
	r.w.Flush()
	r.f.Close()
}

// errDiskFull marks an import stopped by a full disk under the store.
var errDiskFull = errors.New("disk full (no space left on device)")

// isDiskFull reports whether err says the disk is full. DuckDB reports its
// I/O errors as text, so the system's wording is matched too.
func isDiskFull(err error) bool {
	return err != nil && (errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "No space left on device"))
}

// importer loads files into a store in large batches, or posts them to
// the server that has the store open.
type importer struct {
	store    store.Store
	remote   *client.Client // the server's API, when it has the store
	ws       store.Workspace
	batch    int
	opts     ingest.FileOptions
	rejects  *rejectsFile                                               // nil without --rejects
	progress func(done, total int64, events int, elapsed time.Duration) // nil: no progress bar
}

// importSummary is the one line printed per file.
type importSummary struct {
	path                           string
	accepted, duplicates, rejected int
	queued                         int // journaled by the server, not yet stored
	firstRejections                []ingest.Rejected
	strictAborted                  bool
	elapsed                        time.Duration
}

func (s importSummary) String() string {
	var b strings.Builder
	if s.strictAborted {
		fmt.Fprintf(&b, "%s: nothing imported (--strict): %d lines rejected", s.path, s.rejected)
	} else {
		rate := float64(s.accepted+s.duplicates+s.queued) / max(s.elapsed.Seconds(), 1e-9)
		queued := ""
		if s.queued > 0 {
			queued = fmt.Sprintf(", %d queued", s.queued)
		}
		fmt.Fprintf(&b, "%s: %d accepted, %d duplicates%s, %d rejected in %.1f s (%.0f events/s)",
			s.path, s.accepted, s.duplicates, queued, s.rejected, s.elapsed.Seconds(), rate)
	}
	if len(s.firstRejections) > 0 {
		reasons := make([]string, len(s.firstRejections))
		for i, r := range s.firstRejections {
			reasons[i] = r.Error()
		}
		fmt.Fprintf(&b, "; first rejected: %s", strings.Join(reasons, "; "))
	}
	return b.String()
}

func (imp *importer) file(ctx context.Context, path string) (importSummary, error) {
	start := time.Now()
	sum := importSummary{path: path}
	f, err := ingest.OpenFileWith(path, imp.ws.Name, imp.opts)
	if err != nil {
		return sum, err
	}
	defer f.Close()

	type parsed struct {
		events   []event.Event
		lines    int // events from the file, before the leads of chat links
		rejected []ingest.Rejected
		err      error
	}
	// Parse the next batch while the store writes the current one.
	batches := make(chan parsed, 1)
	readCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(batches)
		for {
			events, rejected, err := f.Next(imp.batch)
			if errors.Is(err, io.EOF) && len(events) == 0 && len(rejected) == 0 {
				return
			}
			if err != nil && !errors.Is(err, io.EOF) {
				batches <- parsed{err: err}
				return
			}
			lines := len(events)
			if imp.remote == nil { // a server readies them itself
				events = ingest.Prepare(events, imp.ws)
			}
			select {
			case batches <- parsed{events: events, lines: lines, rejected: rejected}:
			case <-readCtx.Done():
				return
			}
		}
	}()
	for p := range batches {
		if p.err != nil {
			return sum, p.err
		}
		sum.addRejected(p.rejected)
		imp.rejects.write(path, p.rejected)
		if len(p.events) > 0 && imp.remote != nil {
			if err := imp.post(ctx, path, p.events, &sum); err != nil {
				return sum, err
			}
		} else if len(p.events) > 0 {
			outcomes, err := imp.store.Insert(ctx, p.events)
			if err != nil {
				return sum, err
			}
			for _, o := range outcomes[:min(p.lines, len(outcomes))] {
				if o == store.Accepted {
					sum.accepted++
				} else {
					sum.duplicates++
				}
			}
		}
		if imp.progress != nil {
			imp.progress(f.BytesRead(), f.Size(), sum.accepted+sum.duplicates, time.Since(start))
		}
	}
	if imp.progress != nil {
		imp.progress(-1, 0, 0, 0)
	}
	sum.elapsed = time.Since(start)
	return sum, nil
}

// Bounds of one request of an import through the server, well under its
// default body limit.
const (
	postMaxEvents = 5000
	postMaxBytes  = 4 << 20
)

// post sends events to the server as NDJSON, in requests of at most
// postMaxEvents and postMaxBytes, and counts what its answers say.
func (imp *importer) post(ctx context.Context, path string, events []event.Event, sum *importSummary) error {
	var body bytes.Buffer
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		defer func() { body.Reset(); n = 0 }()
		for attempt := 1; ; attempt++ {
			ans, status, err := imp.remote.PostEvents(ctx, body.Bytes(), "application/x-ndjson")
			var apiErr *client.APIError
			if errors.As(err, &apiErr) && status == http.StatusServiceUnavailable && attempt < 60 {
				select { // the server is at its limit: back off as it asks
				case <-time.After(time.Second):
					continue
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if err != nil {
				return err
			}
			for what, k := range ans.Count() {
				switch what {
				case "accepted":
					sum.accepted += k
				case "duplicate":
					sum.duplicates += k
				default:
					sum.queued += k
				}
			}
			for _, x := range ans.Rejected {
				// Without its line: a line of the request, not of the file.
				r := []ingest.Rejected{{ID: x.ID, Field: x.Field, Reason: x.Reason}}
				sum.addRejected(r)
				imp.rejects.write(path, r)
			}
			return nil
		}
	}
	for i := range events {
		line, err := events[i].MarshalGeneric()
		if err != nil {
			return err
		}
		if n > 0 && (n == postMaxEvents || body.Len()+len(line) > postMaxBytes) {
			if err := flush(); err != nil {
				return err
			}
		}
		body.Write(line)
		body.WriteByte('\n')
		n++
	}
	return flush()
}

func (s *importSummary) addRejected(r []ingest.Rejected) {
	s.rejected += len(r)
	for _, x := range r {
		if len(s.firstRejections) < maxShownRejections {
			s.firstRejections = append(s.firstRejections, x)
		}
	}
}

// check reads a whole file and summarises its rejected lines, written
// to the rejects file too.
func (imp *importer) check(path string) (importSummary, error) {
	sum := importSummary{path: path, strictAborted: true}
	f, err := ingest.OpenFileWith(path, imp.ws.Name, imp.opts)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	for {
		_, rejected, err := f.Next(imp.batch)
		sum.addRejected(rejected)
		imp.rejects.write(path, rejected)
		if errors.Is(err, io.EOF) {
			return sum, nil
		}
		if err != nil {
			return sum, err
		}
	}
}

// progressTo returns a progress bar writer for w when w is a terminal.
func progressTo(w io.Writer) func(done, total int64, events int, elapsed time.Duration) {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	info, err := f.Stat()
	if err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return func(done, total int64, events int, elapsed time.Duration) {
		if done < 0 {
			fmt.Fprint(w, "\r\033[K")
			return
		}
		const width = 30
		frac := 0.0
		if total > 0 {
			frac = min(float64(done)/float64(total), 1)
		}
		filled := int(frac * width)
		fmt.Fprintf(w, "\r[%s%s] %3.0f%%  %d events  %.0f events/s",
			strings.Repeat("#", filled), strings.Repeat(" ", width-filled), frac*100,
			events, float64(events)/max(elapsed.Seconds(), 1e-9))
	}
}
