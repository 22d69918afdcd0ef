package journal

import (
	"fmt"

	"github.com/omnikpi/omnikpi/internal/event"
	"sync"
	"testing"
)

// BenchmarkAppend_64Writers: single-event records from 64 concurrent
// writers, each acknowledged after its group's fsync.
func BenchmarkAppend_64Writers(b *testing.B) {
	j, err := Open(b.TempDir(), Options{MaxUnapplied: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	var wg sync.WaitGroup
	per := b.N/64 + 1
	b.ResetTimer()
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if _, err := j.Append([]event.Event{order(fmt.Sprint(w, "-", i), 1)}, nil); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
