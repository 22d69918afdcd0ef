// Package metrics keeps omnikpi's counters and latency histograms and
// writes them in Prometheus' text exposition format.
package metrics

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Buckets are the upper bounds, in seconds, of every latency histogram:
// from a millisecond to a minute.
var Buckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Registry holds the metrics of one server.
type Registry struct {
	mu         sync.Mutex
	counters   map[string]*family[float64]
	histograms map[string]*family[*histogram]
	gauges     []gauge
}

type family[T any] struct {
	help   string
	labels []string
	series map[string]T // by label values joined with \xff
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	sum    float64
	n      uint64
}

type gauge struct {
	name, help string
	read       func() (float64, error)
}

// New returns an empty registry.
func New() *Registry {
	return &Registry{counters: map[string]*family[float64]{}, histograms: map[string]*family[*histogram]{}}
}

// Add adds v to the counter name with the label values (in the order of
// labels, declared on first use).
func (r *Registry) Add(name, help string, labels []string, values []string, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.counters[name]
	if f == nil {
		f = &family[float64]{help: help, labels: labels, series: map[string]float64{}}
		r.counters[name] = f
	}
	f.series[strings.Join(values, "\xff")] += v
}

// Observe records one duration in the histogram name.
func (r *Registry) Observe(name, help string, labels []string, values []string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.histograms[name]
	if f == nil {
		f = &family[*histogram]{help: help, labels: labels, series: map[string]*histogram{}}
		r.histograms[name] = f
	}
	key := strings.Join(values, "\xff")
	h := f.series[key]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(Buckets)+1)}
		f.series[key] = h
	}
	sec := d.Seconds()
	i, _ := slices.BinarySearch(Buckets, sec)
	h.counts[i]++
	h.sum += sec
	h.n++
}

// Gauge registers a value read when the metrics are written; a read that
// fails leaves the gauge out.
func (r *Registry) Gauge(name, help string, read func() (float64, error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gauges = append(r.gauges, gauge{name: name, help: help, read: read})
}

// Write writes every metric in the text exposition format, families by
// name and series by labels, so that the output is stable.
func (r *Registry) Write(w io.Writer) error {
	r.mu.Lock()
	var b strings.Builder
	for _, name := range sortedKeys(r.counters) {
		f := r.counters[name]
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n", name, f.help, name)
		for _, key := range sortedKeys(f.series) {
			fmt.Fprintf(&b, "%s%s %s\n", name, labelText(f.labels, key, ""), number(f.series[key]))
		}
	}
	for _, name := range sortedKeys(r.histograms) {
		f := r.histograms[name]
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s histogram\n", name, f.help, name)
		for _, key := range sortedKeys(f.series) {
			h := f.series[key]
			var cum uint64
			for i, le := range Buckets {
				cum += h.counts[i]
				fmt.Fprintf(&b, "%s_bucket%s %d\n", name, labelText(f.labels, key, number(le)), cum)
			}
			fmt.Fprintf(&b, "%s_bucket%s %d\n", name, labelText(f.labels, key, "+Inf"), h.n)
			fmt.Fprintf(&b, "%s_sum%s %s\n", name, labelText(f.labels, key, ""), number(h.sum))
			fmt.Fprintf(&b, "%s_count%s %d\n", name, labelText(f.labels, key, ""), h.n)
		}
	}
	gauges := slices.Clone(r.gauges)
	r.mu.Unlock()
	// Gauges are read outside the lock: a store size may take a query.
	for _, g := range gauges {
		v, err := g.read()
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", g.name, g.help, g.name, g.name, number(v))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// labelText renders {a="x",b="y"} with an le label last when given.
func labelText(labels []string, key, le string) string {
	var parts []string
	if len(labels) > 0 {
		for i, v := range strings.Split(key, "\xff") {
			parts = append(parts, labels[i]+`="`+escape(v)+`"`)
		}
	}
	if le != "" {
		parts = append(parts, `le="`+le+`"`)
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}

var escaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escape(s string) string { return escaper.Replace(s) }

func number(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
