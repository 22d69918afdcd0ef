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

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Client talks to one omnikpi server with one API key.
type Client struct {
	base string
	key  string
	http *http.Client
}

// New returns a client for the server at baseURL; httpClient may be nil.
func New(baseURL, key string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), key: key, http: httpClient}
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
func (c *Client) SendEvents(ctx context.Context, body []byte, contentType string) (*api.IngestResult, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, raw, err := c.do(req)
	if err != nil {
		return nil, 0, err
	}
	var res api.IngestResult
	if json.Unmarshal(raw, &res) == nil && res.Results != nil {
		return &res, resp.StatusCode, nil
	}
	return nil, resp.StatusCode, decodeError(resp.StatusCode, raw)
}

// KPIs asks GET /v1/kpis with q (from, to, kpi, group_by, bucket, filters).
func (c *Client) KPIs(ctx context.Context, q url.Values) (*kpi.Report, error) {
	var rep kpi.Report
	return &rep, c.get(ctx, "/v1/kpis?"+q.Encode(), &rep)
}

// Workspace returns the key's workspace settings.
func (c *Client) Workspace(ctx context.Context) (*store.Workspace, error) {
	var ws store.Workspace
	return &ws, c.get(ctx, "/v1/workspace", &ws)
}

func (c *Client) get(ctx context.Context, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	resp, raw, err := c.do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return decodeError(resp.StatusCode, raw)
	}
	return json.Unmarshal(raw, into)
}

func (c *Client) do(req *http.Request) (*http.Response, []byte, error) {
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
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
