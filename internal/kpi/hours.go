package kpi

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
)

// schedule is a workspace's business hours, ready to measure with: open
// periods per weekday as minutes after local midnight, closed dates.
type schedule struct {
	loc      *time.Location
	open     [7][][2]int // by time.Weekday
	holidays map[string]bool
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// newSchedule reads business hours; the error names the entry at fault.
func newSchedule(h store.BusinessHours, loc *time.Location) (*schedule, error) {
	s := &schedule{loc: loc, holidays: map[string]bool{}}
	for day, periods := range h.Open {
		wd, ok := weekdays[strings.ToLower(day)]
		if !ok {
			return nil, fmt.Errorf("business hours: %q is not a weekday (mon … sun)", day)
		}
		for _, p := range periods {
			from, to, ok := strings.Cut(p, "-")
			a, errA := clock(from)
			b, errB := clock(to)
			if !ok || errA != nil || errB != nil || a >= b {
				return nil, fmt.Errorf("business hours: %s %q is not a period such as 09:00-17:30", day, p)
			}
			s.open[wd] = append(s.open[wd], [2]int{a, b})
		}
		sort.Slice(s.open[wd], func(i, j int) bool { return s.open[wd][i][0] < s.open[wd][j][0] })
		for i := 1; i < len(s.open[wd]); i++ {
			if s.open[wd][i][0] < s.open[wd][i-1][1] {
				return nil, fmt.Errorf("business hours: %s has overlapping periods", day)
			}
		}
	}
	for _, d := range h.Holidays {
		if _, err := time.Parse("2006-01-02", d); err != nil {
			return nil, fmt.Errorf("business hours: holiday %q is not a date such as 2026-12-25", d)
		}
		s.holidays[d] = true
	}
	return s, nil
}

// clock reads "HH:MM" as minutes after midnight; "24:00" is the end of day.
func clock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, errH := strconv.Atoi(h)
	mm, errM := strconv.Atoi(m)
	if !ok || errH != nil || errM != nil || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, fmt.Errorf("bad clock %q", s)
	}
	return hh*60 + mm, nil
}

// ValidateBusinessHours checks h as the engine will read it.
func ValidateBusinessHours(h store.BusinessHours) error {
	_, err := newSchedule(h, time.UTC)
	return err
}

// between is the open time in [a, b). Each day's periods are placed on
// that local date with time.Date, so a period on a daylight-saving day is
// as long as the clocks say: 01:00-04:00 on the night the clocks go
// forward is two hours.
func (s *schedule) between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	var total time.Duration
	day := a.In(s.loc)
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, s.loc)
	for n := 0; day.Before(b) && n < 3700; n++ { // at most ten years of days
		y, m, d := day.Date()
		if !s.holidays[day.Format("2006-01-02")] {
			for _, p := range s.open[day.Weekday()] {
				start := time.Date(y, m, d, p[0]/60, p[0]%60, 0, 0, s.loc)
				end := time.Date(y, m, d, p[1]/60, p[1]%60, 0, 0, s.loc)
				if start.Before(a) {
					start = a
				}
				if end.After(b) {
					end = b
				}
				if end.After(start) {
					total += end.Sub(start)
				}
			}
		}
		day = time.Date(y, m, d+1, 0, 0, 0, 0, s.loc)
	}
	return total
}
