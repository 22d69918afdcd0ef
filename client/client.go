// Package client is a Go client for omnikpi's REST API.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// WorkspaceHeader names the workspace a request with the server's admin
// token acts for.
const WorkspaceHeader = "Omnikpi-Workspace"

// Client talks to one omnikpi server with one API key, or with the
// server's admin token acting for a workspace (see WithWorkspace).
type Client struct {
	// WaitApplied makes SendEvents wait until the events are in the store
	// (wait=applied), so its answer tells new events from duplicates and a
	// read right after sees them. Otherwise the server answers once they
	// are durable in its journal.
	WaitApplied bool

	base      string
	key       string
	workspace string // sent as WorkspaceHeader when set
	http      *http.Client
}

// New returns a client for the server at baseURL; httpClient may be nil.
func New(baseURL, key string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), key: key, http: httpClient}
}

// WithWorkspace returns a copy of c that acts for workspace: with the
// admin token as key, every request names it in the Omnikpi-Workspace
// header.
func (c *Client) WithWorkspace(workspace string) *Client {
	cc := *c
	cc.workspace = workspace
	return &cc
}

// APIError is an error answer of the API.
type APIError struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// SendEvents posts a body of events (a JSON array, or NDJSON with
// contentType application/x-ndjson). The ingest answer is returned with the
// status for 200 and 400 answers that carry one; other errors are *APIError.
func (c *Client) SendEvents(ctx context.Context, body []byte, contentType string) (*IngestResult, int, error) {
	resp, raw, err := c.postEvents(ctx, body, contentType)
	if err != nil {
		return nil, 0, err
	}
	var res IngestResult
	if json.Unmarshal(raw, &res) == nil && res.Results != nil {
		return &res, resp.StatusCode, nil
	}
	return nil, resp.StatusCode, decodeError(resp.StatusCode, raw)
}

// postEvents posts a body of events to POST /v1/events, with wait=applied
// when the client waits for the store.
func (c *Client) postEvents(ctx context.Context, body []byte, contentType string) (*http.Response, []byte, error) {
	target := c.base + "/v1/events"
	if c.WaitApplied {
		target += "?wait=applied"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	return c.do(req)
}

// KPIs asks GET /v1/kpis with q (from, to, kpi, group_by, bucket, filters).
func (c *Client) KPIs(ctx context.Context, q url.Values) (*Report, error) {
	var rep Report
	return &rep, c.get(ctx, "/v1/kpis?"+q.Encode(), &rep)
}

// Workspace returns the key's workspace settings.
func (c *Client) Workspace(ctx context.Context) (*Workspace, error) {
	var ws Workspace
	return &ws, c.get(ctx, "/v1/workspace", &ws)
}

// Get asks GET path?q and decodes the JSON answer into v: the routes the
// dashboard and 'omnikpi report' read (/v1/kpis, /v1/funnel, …).
func (c *Client) Get(ctx context.Context, path string, q url.Values, v any) error {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return c.get(ctx, path, v)
}

func (c *Client) get(ctx context.Context, path string, into any) error {
	return c.call(ctx, http.MethodGet, path, nil, into)
}

// Health reports whether the server answers GET /healthz.
func (c *Client) Health(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /healthz: %s", resp.Status)
	}
	return nil
}

// PostEvents posts a body of events like SendEvents and returns the
// answer with its status, also for a 202 and for a 400 that lists
// rejected events.
func (c *Client) PostEvents(ctx context.Context, body []byte, contentType string) (*IngestResult, int, error) {
	resp, raw, err := c.postEvents(ctx, body, contentType)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusBadRequest {
		var a IngestResult
		if json.Unmarshal(raw, &a) == nil && (a.Results != nil || a.Rejected != nil) {
			return &a, resp.StatusCode, nil
		}
	}
	return nil, resp.StatusCode, decodeError(resp.StatusCode, raw)
}

// Workspaces lists every workspace (admin token).
func (c *Client) Workspaces(ctx context.Context) ([]string, error) {
	var out struct {
		Workspaces []string `json:"workspaces"`
	}
	return out.Workspaces, c.get(ctx, "/v1/workspaces", &out)
}

// Keys lists the workspace's API keys by prefix (admin token).
func (c *Client) Keys(ctx context.Context) ([]Key, error) {
	var out struct {
		Keys []Key `json:"keys"`
	}
	return out.Keys, c.get(ctx, "/v1/keys", &out)
}

// CreateKey makes an API key of the workspace, creating the workspace
// when it is new (admin token). The answer's Key is the plain key, given
// only now.
func (c *Client) CreateKey(ctx context.Context) (*Key, error) {
	var k Key
	return &k, c.call(ctx, http.MethodPost, "/v1/keys", nil, &k)
}

// CreateKeyWith makes an API key of the workspace with a name, scopes
// and an expiry (admin).
func (c *Client) CreateKeyWith(ctx context.Context, req KeyRequest) (*Key, error) {
	var k Key
	return &k, c.call(ctx, http.MethodPost, "/v1/keys", req, &k)
}

// RotateKey replaces the workspace's key with this prefix by a new one of
// the same name, scopes and expiry; the old one is revoked at once, or
// works for grace more (admin).
func (c *Client) RotateKey(ctx context.Context, prefix string, grace time.Duration) (*RotatedKey, error) {
	var k RotatedKey
	return &k, c.call(ctx, http.MethodPost, "/v1/keys/"+url.PathEscape(prefix)+"/rotate", map[string]Duration{"grace": Duration(grace)}, &k)
}

// Audit reads the workspace's audit trail, newest first (admin): query
// takes from, to, action and limit.
func (c *Client) Audit(ctx context.Context, query url.Values) ([]AuditEntry, error) {
	var out struct {
		Entries []AuditEntry `json:"entries"`
	}
	path := "/v1/audit"
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	return out.Entries, c.get(ctx, path, &out)
}

// RevokeKey revokes the workspace's key with this prefix, or this whole
// key (admin token). The server refuses it from then on.
func (c *Client) RevokeKey(ctx context.Context, prefix string) error {
	return c.call(ctx, http.MethodDelete, "/v1/keys/"+url.PathEscape(prefix), nil, nil)
}

// ChangeWorkspace changes the workspace's settings, creating the
// workspace when it is new, and returns them (admin token).
func (c *Client) ChangeWorkspace(ctx context.Context, change WorkspaceChange) (*Workspace, error) {
	var ws Workspace
	return &ws, c.call(ctx, http.MethodPatch, "/v1/workspace", change, &ws)
}

// Users lists the workspace's dashboard users (admin token).
func (c *Client) Users(ctx context.Context) ([]User, error) {
	var out struct {
		Users []User `json:"users"`
	}
	return out.Users, c.get(ctx, "/v1/users", &out)
}

// PutUser adds a dashboard user, or sets the password of the one called
// name (admin token).
func (c *Client) PutUser(ctx context.Context, name, password string) error {
	return c.call(ctx, http.MethodPut, "/v1/users/"+url.PathEscape(name), map[string]string{"password": password}, nil)
}

// DeleteUser removes a dashboard user (admin token).
func (c *Client) DeleteUser(ctx context.Context, name string) error {
	return c.call(ctx, http.MethodDelete, "/v1/users/"+url.PathEscape(name), nil, nil)
}

// Links lists the workspace's click-to-chat links.
func (c *Client) Links(ctx context.Context) ([]LinkWithURL, error) {
	var out struct {
		Links []LinkWithURL `json:"links"`
	}
	return out.Links, c.get(ctx, "/v1/links", &out)
}

// CreateLink makes a click-to-chat link; the server picks its reference.
func (c *Client) CreateLink(ctx context.Context, link ChatLink) (LinkWithURL, error) {
	var out LinkWithURL
	body := map[string]string{"channel": link.Channel, "to": link.To, "source": link.Source,
		"medium": link.Medium, "campaign": link.Campaign, "text": link.Text}
	return out, c.call(ctx, http.MethodPost, "/v1/links", body, &out)
}

// call sends body (none when nil) as JSON and decodes a 2xx answer into
// into (when not nil); any other answer is an *APIError.
func (c *Client) call(ctx context.Context, method, path string, body, into any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, raw, err := c.do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp.StatusCode, raw)
	}
	if into == nil {
		return nil
	}
	return json.Unmarshal(raw, into)
}

func (c *Client) do(req *http.Request) (*http.Response, []byte, error) {
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if c.workspace != "" {
		req.Header.Set(WorkspaceHeader, c.workspace)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp, raw, err
}

func decodeError(status int, raw []byte) error {
	var body struct {
		Error APIError `json:"error"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.Error.Code == "" {
		return &APIError{Status: status, Code: "unexpected", Message: strings.TrimSpace(string(raw))}
	}
	body.Error.Status = status
	return &body.Error
}

// Quarantine lists the webhook parts kept for numbers no workspace maps
// (admin token).
func (c *Client) Quarantine(ctx context.Context) (*QuarantineList, error) {
	var out QuarantineList
	return &out, c.call(ctx, http.MethodGet, "/v1/quarantine", nil, &out)
}

// IngestQuarantine ingests the quarantined parts that m or the server's
// configuration maps, answering once their events are in the store
// (admin token).
func (c *Client) IngestQuarantine(ctx context.Context, m QuarantineMapping) (*QuarantineResult, error) {
	var out QuarantineResult
	return &out, c.call(ctx, http.MethodPost, "/v1/quarantine/ingest?wait=applied", m, &out)
}
