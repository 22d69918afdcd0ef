package journal

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

// ApplyOptions tune the applier; zero values take the defaults.
type ApplyOptions struct {
	// MaxBatch is the most events given to the store at once, default
	// 50,000.
	MaxBatch int
	// Interval is how long the applier lets records gather after the
	// first one it sees before it writes them, default none: the store's
	// own write time gathers the next batch. ClickHouse wants large,
	// infrequent inserts; serve gives it a second.
	Interval time.Duration
	// Applied is told the outcome of every batch written to the store.
	Applied func(events int, outcomes []store.Outcome, took time.Duration)
}

// Ingester is the journal with its applier: requests are acknowledged once
// journaled, and one goroutine moves the journal into the store.
type Ingester struct {
	j     *Journal
	store store.Store
	log   *slog.Logger
	opts  ApplyOptions

	mu      sync.Mutex
	waiters map[uint64]chan waitResult // records whose caller waits for the store

	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

type waitResult struct {
	outcomes []store.Outcome
	err      error
}

// OpenIngester opens the journal in dir and starts applying it to s.
func OpenIngester(dir string, s store.Store, log *slog.Logger, opts Options, apply ApplyOptions) (*Ingester, error) {
	if opts.Log == nil {
		opts.Log = log
	}
	j, err := Open(dir, opts)
	if err != nil {
		return nil, err
	}
	return Start(j, s, log, apply), nil
}

// Start starts applying j to s, beginning with what an earlier process
// left unapplied. The ingester owns j from now on.
func Start(j *Journal, s store.Store, log *slog.Logger, opts ApplyOptions) *Ingester {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 50_000
	}
	in := &Ingester{j: j, store: s, log: log, opts: opts, waiters: map[uint64]chan waitResult{},
		stop: make(chan struct{}), stopped: make(chan struct{})}
	go in.run()
	return in
}

// Submit journals events and returns once they are durable. Without wait
// every outcome is store.Queued: the duplicate check happens when the
// events are applied. With wait it returns once they are in the store,
// with each event's outcome.
func (in *Ingester) Submit(ctx context.Context, events []event.Event, wait bool) ([]store.Outcome, error) {
	if len(events) == 0 {
		return nil, nil
	}
	var done chan waitResult
	var onSeq func(uint64)
	if wait {
		done = make(chan waitResult, 1)
		onSeq = func(seq uint64) {
			in.mu.Lock()
			in.waiters[seq] = done
			in.mu.Unlock()
		}
	}
	if _, err := in.j.Append(events, onSeq); err != nil {
		return nil, err
	}
	if !wait {
		out := make([]store.Outcome, len(events))
		for i := range out {
			out[i] = store.Queued
		}
		return out, nil
	}
	// The events are durable and will be applied whether or not the caller
	// stays for the outcome.
	select {
	case r := <-done:
		return r.outcomes, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Journal is the ingester's journal.
func (in *Ingester) Journal() *Journal { return in.j }

// Close stops taking events, stops the applier after it has applied what
// is durable or after drain has passed, and closes the journal; what is
// left is applied on the next start.
func (in *Ingester) Close(drain time.Duration) error {
	var err error
	in.once.Do(func() {
		err = in.j.Close()
		close(in.stop)
		select {
		case <-in.stopped:
		case <-time.After(drain):
			in.log.Warn("journal not drained at shutdown: the rest is applied on the next start", "lag_events", in.j.Lag().Events)
			<-in.stopped
		}
	})
	return err
}

func (in *Ingester) stopping() bool {
	select {
	case <-in.stop:
		return true
	default:
		return false
	}
}

func (in *Ingester) run() {
	defer close(in.stopped)
	r := in.j.NewReader()
	defer func() { r.Close() }()
	applied := r.next - 1
	for {
		notify, durable := in.j.Durable()
		if applied >= durable {
			if in.stopping() {
				return
			}
			select {
			case <-notify:
			case <-in.stop:
				// Drain what became durable meanwhile, then stop.
			}
			if in.opts.Interval > 0 && !in.stopping() {
				select {
				case <-time.After(in.opts.Interval):
				case <-in.stop:
				}
			}
			continue
		}
		recs, err := r.Read(in.opts.MaxBatch)
		if err != nil {
			in.log.Error("journal read failed; reading again from the last applied record", "err", err)
			r.Close()
			r = in.j.NewReader()
			if in.pause() {
				return
			}
			continue
		}
		if len(recs) == 0 {
			// Only numbers of failed writes were left: nothing to apply.
			applied = durable
			continue
		}
		last := recs[len(recs)-1].Seq
		if !in.apply(recs) {
			return // stopping with the batch unapplied: it stays in the journal
		}
		applied = last
	}
}

// apply writes one batch of records to the store, retrying until it
// succeeds or the ingester stops, then marks them applied and answers
// their waiters. It reports whether the batch was applied.
func (in *Ingester) apply(recs []Record) bool {
	n := 0
	for _, rec := range recs {
		n += len(rec.Events)
	}
	events := make([]event.Event, 0, n)
	for _, rec := range recs {
		events = append(events, rec.Events...)
	}
	for {
		start := time.Now()
		outcomes, err := in.store.Insert(context.Background(), events)
		if err == nil {
			took := time.Since(start)
			if err := in.j.MarkApplied(recs[len(recs)-1].Seq); err != nil {
				// The store has the events; a replay finds them duplicates.
				in.log.Error("journal: recording the applied position failed", "err", err)
			}
			in.answer(recs, outcomes, nil)
			if in.opts.Applied != nil {
				in.opts.Applied(len(events), outcomes, took)
			}
			return true
		}
		in.log.Error("applying the journal to the store failed; retrying", "events", len(events), "err", err)
		if in.pause() {
			in.answer(recs, nil, errors.New("the server stopped before the events were applied; they are applied when it starts again"))
			return false
		}
	}
}

// pause waits a second before a retry; it reports whether the ingester is
// stopping instead.
func (in *Ingester) pause() bool {
	select {
	case <-time.After(time.Second):
		return false
	case <-in.stop:
		return true
	}
}

func (in *Ingester) answer(recs []Record, outcomes []store.Outcome, err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.waiters) == 0 {
		return
	}
	start := 0
	for _, rec := range recs {
		if done, ok := in.waiters[rec.Seq]; ok {
			r := waitResult{err: err}
			if err == nil {
				r.outcomes = outcomes[start : start+len(rec.Events)]
			}
			done <- r
			delete(in.waiters, rec.Seq)
		}
		start += len(rec.Events)
	}
}

// Drain returns once every record durable when it was called is in the
// store (or ctx ends): an erasure waits for it, so that events journaled
// before it cannot bring back what it removes.
func (in *Ingester) Drain(ctx context.Context) error {
	_, target := in.j.Durable()
	for !in.j.appliedThrough(target) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-in.stopped:
			return ErrClosed
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}
