package ingest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("committer closed")

// Committer gathers events from concurrent requests into shared
// transactions (group commit): each request waits for its own events to be
// durable, but many requests pay for one sync of the log.
type Committer struct {
	store    store.Store
	log      *slog.Logger
	maxBatch int
	maxDelay time.Duration

	queue  chan *submission
	done   chan struct{}
	once   sync.Once
	mu     sync.RWMutex // held for reading while submitting, for writing by Close
	closed bool
}

// CommitterOptions tune the committer; zero values take the defaults.
type CommitterOptions struct {
	MaxBatch int           // events per transaction, default 10,000
	MaxDelay time.Duration // how long to wait for more requests after the first, default 2 ms
}

type submission struct {
	events []event.Event
	reply  chan result
}

type result struct {
	outcomes []store.Outcome
	err      error
}

// NewCommitter starts the writer goroutine.
func NewCommitter(s store.Store, log *slog.Logger, opts CommitterOptions) *Committer {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 10_000
	}
	if opts.MaxDelay < 0 {
		opts.MaxDelay = 0
	} else if opts.MaxDelay == 0 {
		opts.MaxDelay = 2 * time.Millisecond
	}
	c := &Committer{store: s, log: log, maxBatch: opts.MaxBatch, maxDelay: opts.MaxDelay,
		queue: make(chan *submission, 1024), done: make(chan struct{})}
	go c.run()
	return c
}

// Submit stores events and returns once they are durable, with one outcome
// per event. On error nothing of this submission is acknowledged.
func (c *Committer) Submit(ctx context.Context, events []event.Event) ([]store.Outcome, error) {
	if len(events) == 0 {
		return nil, nil
	}
	sub := &submission{events: events, reply: make(chan result, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case c.queue <- sub:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		return nil, ctx.Err()
	}
	// Once queued, the events will be written even if the caller goes away;
	// waiting for the answer keeps the acknowledgement honest.
	select {
	case r := <-sub.reply:
		return r.outcomes, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close writes what is queued and stops the writer.
func (c *Committer) Close() {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		close(c.queue)
		c.mu.Unlock()
		<-c.done
	})
}

func (c *Committer) run() {
	defer close(c.done)
	for first := range c.queue {
		batch := []*submission{first}
		size := len(first.events)
		timer := time.NewTimer(c.maxDelay)
	gather:
		for size < c.maxBatch {
			select {
			case sub, ok := <-c.queue:
				if !ok {
					break gather
				}
				batch = append(batch, sub)
				size += len(sub.events)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		c.commit(batch, size)
	}
}

func (c *Committer) commit(batch []*submission, size int) {
	all := make([]event.Event, 0, size)
	for _, sub := range batch {
		all = append(all, sub.events...)
	}
	outcomes, err := c.store.Insert(context.Background(), all)
	if err != nil {
		c.log.Error("group commit failed", "events", size, "requests", len(batch), "err", err)
	}
	start := 0
	for _, sub := range batch {
		r := result{err: err}
		if err == nil {
			r.outcomes = outcomes[start : start+len(sub.events)]
		}
		start += len(sub.events)
		sub.reply <- r
	}
}
