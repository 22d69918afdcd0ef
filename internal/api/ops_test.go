package api_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue reads one sample of the exposition text, -1 when absent.
func metricValue(text, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func TestHealthReadyAndMetrics(t *testing.T) {
	s := start(t, duckdbStore, 0)
	if status, body := get(t, s.url+"/healthz"); status != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", status, body)
	}
	if status, body := get(t, s.url+"/readyz"); status != 200 || body != "ready\n" {
		t.Fatalf("readyz: %d %q", status, body)
	}
	body := order("o1", "o1", "10") + "\n" + order("o1", "o1", "10") + "\n" + `{"id":"bad","kind":"order_placed"}`
	if _, status, err := applied(s.url, s.keyA).SendEvents(context.Background(), []byte(body), "application/x-ndjson"); err != nil || status != 200 {
		t.Fatalf("events: %d %v", status, err)
	}
	if status, _ := call(t, s, http.MethodGet, s.keyA, "/v1/kpis?from=2026-01-01&to=2026-02-01&kpi=messages_sent,aov", ""); status != 200 {
		t.Fatalf("kpis: %d", status)
	}
	call(t, s, http.MethodGet, s.keyA, "/v1/no-such-route/"+strings.Repeat("x", 10), "")

	status, text := get(t, s.url+"/metrics")
	if status != 200 {
		t.Fatalf("metrics: %d", status)
	}
	for series, want := range map[string]float64{
		`omnikpi_ingested_events_total{source="api",result="accepted"}`:                   1,
		`omnikpi_ingested_events_total{source="api",result="duplicate"}`:                  1,
		`omnikpi_ingested_events_total{source="api",result="rejected"}`:                   1,
		`omnikpi_http_request_duration_seconds_count{route="POST /v1/events",code="200"}`: 1,
		`omnikpi_http_request_duration_seconds_count{route="GET /v1/kpis",code="200"}`:    1,
		`omnikpi_http_request_duration_seconds_count{route="/v1/",code="404"}`:            1,
		`omnikpi_kpi_query_duration_seconds_count{query="messages"}`:                      1,
		`omnikpi_kpi_query_duration_seconds_count{query="orders"}`:                        1,
	} {
		if got := metricValue(text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if size := metricValue(text, "omnikpi_store_size_bytes"); size <= 0 {
		t.Errorf("store size %v", size)
	}
	if strings.Contains(text, "xxxxxxxxxx") {
		t.Error("a raw request path became a label")
	}

	// A store that no longer answers makes the server not ready.
	s.store.Close()
	if status, body := get(t, s.url+"/readyz"); status != http.StatusServiceUnavailable || !strings.Contains(body, "not_ready") {
		t.Fatalf("readyz with a closed store: %d %s", status, body)
	}
}
