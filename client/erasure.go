package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Erasure says what an erasure removed.
type Erasure struct {
	Workspace     string   `json:"workspace"`
	Customers     []string `json:"customers,omitempty"` // the stored ids forgotten (phone numbers hashed)
	Events        int64    `json:"events"`              // raw events removed, texts with them
	Messages      int64    `json:"messages"`
	Orders        int64    `json:"orders"`
	Conversations int64    `json:"conversations"`
	Recomputed    int64    `json:"recomputed"` // fact rows of other customers merged anew
	Quarantined   int64    `json:"quarantined"`
	Keys          int64    `json:"keys,omitempty"`
}

// Retention is a workspace's retention policy in whole months; 0 keeps
// forever.
type Retention struct {
	EventsMonths int `json:"events_months,omitempty"`
	TextsMonths  int `json:"texts_months,omitempty"`
	FactsMonths  int `json:"facts_months,omitempty"`
}

// Cutoffs are the times before which a retention run removes data; zero:
// nothing.
type Cutoffs struct {
	Events time.Time `json:"events,omitzero"`
	Texts  time.Time `json:"texts,omitzero"`
	Facts  time.Time `json:"facts,omitzero"`
}

// RetentionPolicy is what GET and PUT /v1/retention answer.
type RetentionPolicy struct {
	Workspace string    `json:"workspace"`
	Policy    Retention `json:"policy"`
	Next      Cutoffs   `json:"next"` // what a run would remove now
}

// RetentionRun says what a retention run removed.
type RetentionRun struct {
	Workspace  string   `json:"workspace"`
	Cutoffs    Cutoffs  `json:"cutoffs"`
	Events     int64    `json:"events"`
	Texts      int64    `json:"texts"`
	Facts      int64    `json:"facts"`
	Partitions []string `json:"partitions,omitempty"`
}

// ForgetCustomer erases a customer of the workspace, named by id or
// phone number (admin).
func (c *Client) ForgetCustomer(ctx context.Context, id string) (*Erasure, error) {
	var er Erasure
	return &er, c.call(ctx, http.MethodDelete, "/v1/customers/"+url.PathEscape(id), nil, &er)
}

// ForgetWorkspace erases the whole workspace; confirm must be its name
// (admin).
func (c *Client) ForgetWorkspace(ctx context.Context, confirm string) (*Erasure, error) {
	var er Erasure
	return &er, c.call(ctx, http.MethodDelete, "/v1/workspace?confirm="+url.QueryEscape(confirm), nil, &er)
}

// Retention reads the workspace's retention policy (admin).
func (c *Client) Retention(ctx context.Context) (*RetentionPolicy, error) {
	var p RetentionPolicy
	return &p, c.get(ctx, "/v1/retention", &p)
}

// SetRetention replaces the workspace's retention policy (admin).
func (c *Client) SetRetention(ctx context.Context, r Retention) (*RetentionPolicy, error) {
	var p RetentionPolicy
	return &p, c.call(ctx, http.MethodPut, "/v1/retention", r, &p)
}

// ApplyRetention applies the workspace's retention policy now (admin).
func (c *Client) ApplyRetention(ctx context.Context) (*RetentionRun, error) {
	var run RetentionRun
	return &run, c.call(ctx, http.MethodPost, "/v1/retention/apply", nil, &run)
}
