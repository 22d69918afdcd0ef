package store

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Day is the day of durations such as "7d": 24 hours.
const Day = 24 * time.Hour

// ParseDuration reads a duration as Go writes it ("90m", "1h30m",
// "168h0m0s") or with whole or decimal days of 24 hours ("7d", "1.5d",
// "1d12h"). Every duration omnikpi reads, from flags, query parameters and
// settings, goes through it.
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a duration such as 7d, 24h or 90m", s)
	days, rest, ok := strings.Cut(strings.TrimSpace(s), "d")
	if !ok {
		d, err := time.ParseDuration(days)
		if err != nil {
			return 0, bad
		}
		return d, nil
	}
	n, err := strconv.ParseFloat(days, 64)
	if err != nil || days == "" || strings.ContainsAny(days, "eEnNiIxX_") {
		return 0, bad
	}
	total := n * float64(Day)
	if rest != "" {
		if rest[0] == '+' || rest[0] == '-' {
			return 0, bad
		}
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, bad
		}
		if n < 0 || strings.HasPrefix(days, "-") {
			total -= float64(r)
		} else {
			total += float64(r)
		}
	}
	if math.IsNaN(total) || math.Abs(total) >= math.MaxInt64 {
		return 0, bad
	}
	return time.Duration(total), nil
}

// FormatDuration writes d in the largest unit that holds it whole: "7d",
// "36h", "90m", "45s"; anything finer as Go writes it.
func FormatDuration(d time.Duration) string {
	for _, u := range []struct {
		size time.Duration
		name string
	}{{Day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if d != 0 && d%u.size == 0 {
			return strconv.FormatInt(int64(d/u.size), 10) + u.name
		}
	}
	if d == 0 {
		return "0s"
	}
	return d.String()
}
