package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	r := New()
	r.Add("events_total", "Events.", []string{"source", "result"}, []string{"api", "accepted"}, 3)
	r.Add("events_total", "Events.", []string{"source", "result"}, []string{"api", "accepted"}, 2)
	r.Add("events_total", "Events.", []string{"source", "result"}, []string{"whatsapp", `say "hi"`}, 1)
	r.Observe("latency_seconds", "Latency.", []string{"route"}, []string{"GET /x"}, 3*time.Millisecond)
	r.Observe("latency_seconds", "Latency.", []string{"route"}, []string{"GET /x"}, 2*time.Second)
	r.Observe("latency_seconds", "Latency.", []string{"route"}, []string{"GET /x"}, 2*time.Minute)
	r.Gauge("size_bytes", "Size.", func() (float64, error) { return 1234, nil })
	r.Gauge("broken", "Broken.", func() (float64, error) { return 0, errors.New("no") })
	var b strings.Builder
	if err := r.Write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# TYPE events_total counter\n",
		`events_total{source="api",result="accepted"} 5` + "\n",
		`events_total{source="whatsapp",result="say \"hi\""} 1` + "\n",
		"# TYPE latency_seconds histogram\n",
		`latency_seconds_bucket{route="GET /x",le="0.0025"} 0` + "\n",
		`latency_seconds_bucket{route="GET /x",le="0.005"} 1` + "\n",
		`latency_seconds_bucket{route="GET /x",le="2.5"} 2` + "\n",
		`latency_seconds_bucket{route="GET /x",le="60"} 2` + "\n",
		`latency_seconds_bucket{route="GET /x",le="+Inf"} 3` + "\n",
		`latency_seconds_sum{route="GET /x"} 122.003` + "\n",
		`latency_seconds_count{route="GET /x"} 3` + "\n",
		"# TYPE size_bytes gauge\nsize_bytes 1234\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "broken") {
		t.Errorf("a gauge that cannot be read is left out:\n%s", out)
	}
}
