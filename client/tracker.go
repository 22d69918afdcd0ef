package client

import (
	"context"
	"net/http"
)

// Tracker is a workspace's site tracker, as its settings hold it.
type Tracker struct {
	ID         string   `json:"id"`                    // the public id the script names
	SessionGap Duration `json:"session_gap,omitempty"` // a visit ends after this without a page view; 0: 30m
	Origins    []string `json:"origins,omitempty"`     // the only sites that may post; none: any
	// Salt and SaltDay are the day's salt of the anonymous visitor ids; the
	// server never sends them.
	Salt    string `json:"salt,omitempty"`
	SaltDay string `json:"salt_day,omitempty"`
}

// TrackerInfo is the workspace's tracker with the tag that installs it,
// as GET and PUT /v1/tracker answer.
type TrackerInfo struct {
	ID         string   `json:"id"`
	SessionGap Duration `json:"session_gap"`
	Origins    []string `json:"origins"`
	Script     string   `json:"script"`   // the script's address
	Endpoint   string   `json:"endpoint"` // where the script posts
	Snippet    string   `json:"snippet"`  // the tag to paste into every page
	Identify   string   `json:"identify"` // the call that links a visitor to a customer id
}

// TrackerChange changes the tracker's settings; a nil field is kept.
type TrackerChange struct {
	SessionGap *Duration `json:"session_gap,omitempty"`
	Origins    *[]string `json:"origins,omitempty"`
}

// Tracker returns the workspace's site tracker, made on the first call.
func (c *Client) Tracker(ctx context.Context) (TrackerInfo, error) {
	var out TrackerInfo
	return out, c.get(ctx, "/v1/tracker", &out)
}

// ChangeTracker sets the tracker's visit gap or origins (admin scope).
func (c *Client) ChangeTracker(ctx context.Context, change TrackerChange) (TrackerInfo, error) {
	var out TrackerInfo
	return out, c.call(ctx, http.MethodPut, "/v1/tracker", change, &out)
}
