package kpi_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// eachEngine runs test on an engine over a DuckDB file and one over a
// ClickHouse database, each loaded with lines.
func eachEngine(t *testing.T, lines string, test func(t *testing.T, e *kpi.Engine)) {
	load := func(t *testing.T, s store.Store) *kpi.Engine {
		var events []event.Event
		for _, line := range strings.Split(strings.TrimSpace(lines), "\n") {
			e, err := event.ParseJSON([]byte(line))
			if err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			e.Workspace = "w"
			events = append(events, e)
		}
		if _, err := s.Insert(context.Background(), events); err != nil {
			t.Fatal(err)
		}
		engine, err := kpi.New(s)
		if err != nil {
			t.Fatal(err)
		}
		return engine
	}
	t.Run("duckdb", func(t *testing.T) {
		s, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "j.duckdb"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		test(t, load(t, s))
	})
	t.Run("clickhouse", func(t *testing.T) {
		chtest.URL(t)
		test(t, load(t, chtest.Open(t)))
	})
}

// A three-touch journey: an Instagram ad visit 9 days before the order, a
// WhatsApp campaign message read 5 days before, an inbound WhatsApp message
// 1 day before; a Facebook ad lead 51 days before, outside the lookback.
// Another customer buys without any touch.
const journey = `
{"id":"old","ts":"2025-11-20T10:00:00Z","kind":"lead_created","channel":"facebook","customer":"k1","source":"ad"}
{"id":"t1","ts":"2026-01-01T10:00:00Z","kind":"site_session","channel":"web","customer":"k1","duration_ms":1000,"props":{"url":"https://shop.example.com/?utm_source=instagram&utm_medium=paid_social&utm_campaign=reels&fbclid=IwAR"}}
{"id":"s2","ts":"2026-01-05T09:00:00Z","kind":"message_sent","channel":"whatsapp","customer":"k1","message":"m2","actor":"campaign","campaign":"sale"}
{"id":"t2","ts":"2026-01-05T10:00:00Z","kind":"message_read","channel":"whatsapp","customer":"k1","message":"m2"}
{"id":"t3","ts":"2026-01-09T10:00:00Z","kind":"message_received","channel":"whatsapp","customer":"k1","message":"m3"}
{"id":"o1","ts":"2026-01-10T10:00:00Z","kind":"order_placed","channel":"web","customer":"k1","order":"o1","amount":"100","currency":"EUR"}
{"id":"o2","ts":"2026-01-11T10:00:00Z","kind":"order_placed","channel":"web","customer":"k2","order":"o2","amount":"50","currency":"EUR"}
`

func TestAttribution_ThreeTouches(t *testing.T) {
	eachEngine(t, journey, func(t *testing.T, e *kpi.Engine) {
		ctx := context.Background()
		req := kpi.Request{Workspace: "w", From: "2026-01-01", To: "2026-02-01"}
		rep, err := e.Attribution(ctx, req, []string{"channel"})
		if err != nil {
			t.Fatal(err)
		}
		// Revenue in EUR by channel ("" for the order without touches);
		// worked by hand:
		//   linear: 100/3 each, the cent left over to the first touch;
		//   time decay (half-life 7 d): weights 2^(-9/7), 2^(-5/7), 2^(-1/7)
		//     share 21.303…, 31.656…, 47.040… → 21.30, 31.66, 47.04;
		//   position based: 40 / 20 / 40.
		want := map[string]map[string]float64{
			"first_touch":    {"web": 100, "": 50},
			"last_touch":     {"whatsapp": 100, "": 50},
			"linear":         {"web": 33.34, "whatsapp": 66.66, "": 50},
			"time_decay":     {"web": 21.30, "whatsapp": 78.70, "": 50},
			"position_based": {"web": 40, "whatsapp": 60, "": 50},
		}
		for model, byChannel := range want {
			total := 0.0
			for _, row := range rep.Rows {
				got := row.Credits[model].Revenue
				total += got
				if w := byChannel[deref(row.Channel)]; !near(got, w) {
					t.Errorf("%s, %q: %.2f EUR, want %.2f", model, deref(row.Channel), got, w)
				}
			}
			if !near(total, 150) {
				t.Errorf("%s credits %.2f EUR in all, want the 150.00 of the orders", model, total)
			}
		}
		var conversions float64
		for _, row := range rep.Rows {
			if deref(row.Channel) == "whatsapp" {
				conversions = row.Credits["linear"].Conversions
			}
		}
		if !near(conversions, 2.0/3) {
			t.Errorf("linear conversions to WhatsApp: %v, want 2/3", conversions)
		}
		// With a 60-day lookback the Facebook lead counts, first of four.
		req.Lookback = 60 * 24 * time.Hour
		rep, err = e.Attribution(ctx, req, []string{"channel", "source"})
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rep.Rows {
			if deref(row.Channel) == "facebook" && (row.Credits["first_touch"].Revenue != 100 || deref(row.Source) != "ad") {
				t.Errorf("first touch with a 60-day lookback: %+v", row)
			}
			if deref(row.Channel) == "web" && deref(row.Source) != "instagram" {
				t.Errorf("the ad visit's source: %+v", row)
			}
		}
		if _, err := e.Attribution(ctx, req, []string{"agent"}); err == nil {
			t.Error("attribution by agent is accepted")
		}
	})
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Customers through message_read → button_clicked → checkout_started →
// order_placed, at most two days between steps:
//
//	a  every step in order, 2 h from read to order
//	b  no checkout: stops after the click
//	c  checkout before the click: loose, reaches the click; strict, stops
//	   at the read, since a checkout came before the click
//	d  checkout three days after the click: too late
//	e  reads twice, then every step: 4 h from the first read
//	f  never reads: not in the funnel
func TestOrderedFunnel(t *testing.T) {
	ev := func(id, customer, kind, ts string) string {
		extra := `,"message":"m` + customer + `"`
		if kind == "order_placed" {
			extra = `,"order":"o` + id + `","amount":"10","currency":"EUR"`
		} else if kind == "checkout_started" {
			extra = ""
		}
		return `{"id":"` + id + `","ts":"2026-01-` + ts + `Z","kind":"` + kind + `","channel":"whatsapp","customer":"` + customer + `"` + extra + `}`
	}
	lines := strings.Join([]string{
		ev("a1", "a", "message_read", "05T10:00:00"), ev("a2", "a", "button_clicked", "05T10:05:00"),
		ev("a3", "a", "checkout_started", "05T11:00:00"), ev("a4", "a", "order_placed", "05T12:00:00"),
		ev("b1", "b", "message_read", "05T10:00:00"), ev("b2", "b", "button_clicked", "05T10:05:00"), ev("b4", "b", "order_placed", "05T12:00:00"),
		ev("c1", "c", "message_read", "05T10:00:00"), ev("c2", "c", "checkout_started", "05T10:05:00"),
		ev("c3", "c", "button_clicked", "05T10:10:00"), ev("c4", "c", "order_placed", "05T12:00:00"),
		ev("d1", "d", "message_read", "05T10:00:00"), ev("d2", "d", "button_clicked", "05T10:05:00"),
		ev("d3", "d", "checkout_started", "08T10:06:00"), ev("d4", "d", "order_placed", "08T12:00:00"),
		ev("e0", "e", "message_read", "05T09:00:00"), ev("e1", "e", "message_read", "05T09:30:00"), ev("e2", "e", "button_clicked", "05T10:00:00"),
		ev("e3", "e", "checkout_started", "05T10:30:00"), ev("e4", "e", "order_placed", "05T13:00:00"),
		ev("f2", "f", "button_clicked", "05T10:00:00"), ev("f3", "f", "checkout_started", "05T10:30:00"), ev("f4", "f", "order_placed", "05T11:00:00"),
	}, "\n")
	steps := []string{"message_read", "button_clicked", "checkout_started", "order_placed"}
	eachEngine(t, lines, func(t *testing.T, e *kpi.Engine) {
		req := kpi.Request{Workspace: "w", From: "2026-01-01", To: "2026-02-01"}
		for _, tc := range []struct {
			strict bool
			want   []int
		}{{false, []int{5, 5, 2, 2}}, {true, []int{5, 4, 2, 2}}} {
			rep, err := e.OrderedFunnel(context.Background(), req, steps, 48*time.Hour, tc.strict)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range rep.Steps {
				if s.Customers != tc.want[i] {
					t.Errorf("strict %v, step %s: %d customers, want %d", tc.strict, s.Kind, s.Customers, tc.want[i])
				}
			}
			if rep.MedianSeconds == nil || *rep.MedianSeconds != 10800 {
				t.Errorf("strict %v: median time to convert %v, want 10800 s", tc.strict, rep.MedianSeconds)
			}
			if last := rep.Steps[3]; last.FromFirst == nil || *last.FromFirst != 40 {
				t.Errorf("strict %v: conversion from the first step %v, want 40 %%", tc.strict, last.FromFirst)
			}
		}
		if _, err := e.OrderedFunnel(context.Background(), req, []string{"message_read", "teleported"}, 0, false); err == nil {
			t.Error("an unknown step kind is accepted")
		}
	})
}
