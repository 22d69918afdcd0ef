package store

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
)

// Tracker is a workspace's site tracker: the script a shop pastes into its
// pages, which posts page views to /track/ID (see package tracker).
type Tracker struct {
	// ID is the public id the script names: not a secret, only where its
	// page views go.
	ID string `json:"id"`
	// SessionGap ends a visit after this much time without a page view;
	// 0 is DefaultTrackerGap.
	SessionGap Duration `json:"session_gap,omitempty"`
	// Origins, when set, are the only sites (scheme://host[:port]) whose
	// pages may post; none: any.
	Origins []string `json:"origins,omitempty"`
	// Salt is the day's random salt of the anonymous visitor ids, for the
	// UTC date SaltDay; replaced, never kept, when the day changes, so a
	// visitor's ids of two days cannot be linked. Never shown.
	Salt    string `json:"salt,omitempty"`
	SaltDay string `json:"salt_day,omitempty"`
}

// DefaultTrackerGap is the time without a page view that ends a visit, as
// web analytics count it.
const DefaultTrackerGap = 30 * time.Minute

// Gap is SessionGap, or its default.
func (t *Tracker) Gap() time.Duration {
	if t == nil || t.SessionGap <= 0 {
		return DefaultTrackerGap
	}
	return time.Duration(t.SessionGap)
}

// Public is the tracker without its salt, as the API shows it.
func (t *Tracker) Public() *Tracker {
	if t == nil {
		return nil
	}
	c := *t
	c.Salt, c.SaltDay = "", ""
	return &c
}

// TrackerIDPrefix starts every tracker id.
const TrackerIDPrefix = "tk_"

// NewTrackerID returns a random public tracker id: "tk_" and 16 lower-case
// base32 characters (80 bits), so ids are not guessed from each other.
func NewTrackerID() string {
	b := make([]byte, 10)
	rand.Read(b)
	return TrackerIDPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
