package api

import "time"

// SetWarmTimes sets how often the overview's answers are checked and
// recomputed at most, for a test; it returns the restore.
func SetWarmTimes(every, atMostOnce time.Duration) func() {
	e, a := warmEvery, warmAtMostOnce
	warmEvery, warmAtMostOnce = every, atMostOnce
	return func() { warmEvery, warmAtMostOnce = e, a }
}
