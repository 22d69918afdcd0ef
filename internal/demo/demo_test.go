package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
)

var testEnd = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func generate(t testing.TB, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := Generate(context.Background(), &buf, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGenerate_Deterministic(t *testing.T) {
	a := generate(t, Options{Seed: 3, Events: 20_000, End: testEnd})
	b := generate(t, Options{Seed: 3, Events: 20_000, End: testEnd})
	c := generate(t, Options{Seed: 4, Events: 20_000, End: testEnd})
	if !bytes.Equal(a, b) {
		t.Error("the same options gave different data")
	}
	if bytes.Equal(a, c) {
		t.Error("another seed gave the same data")
	}
}

func TestGenerate_Realistic(t *testing.T) {
	events := 100_000
	if testing.Short() {
		events = 30_000
	}
	data := generate(t, Options{Events: events, End: testEnd})
	kinds := map[event.Kind]int{}
	ids := map[string]bool{}
	sentMessages := map[string]bool{}
	var duplicates, statusBeforeSend int
	type abCount struct{ sent, clicked int }
	ab := map[string]*abCount{}
	variantOf := map[string]string{}
	var clicks []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		e, err := event.ParseJSON(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v\n%s", line, err, sc.Text())
		}
		if ids[e.ID] {
			duplicates++
		}
		ids[e.ID] = true
		kinds[e.Kind]++
		switch {
		case e.Kind == event.MessageRead && e.Channel == "sms":
			t.Errorf("line %d: sms sends no read receipts", line)
		case e.Kind == event.MessageDelivered && e.Channel == "instagram":
			t.Errorf("line %d: instagram sends no delivery receipts", line)
		case e.Kind != event.MessageSent && e.Kind.IsOutbound() && e.Campaign != "":
			t.Errorf("line %d: a status carries its campaign; it must inherit it", line)
		}
		if e.Kind == event.MessageSent {
			sentMessages[e.Message] = true
			if e.Campaign == "spring_sale" {
				variantOf[e.Message] = e.Variant
				if ab[e.Variant] == nil {
					ab[e.Variant] = &abCount{}
				}
				ab[e.Variant].sent++
			}
		} else if e.Kind.IsOutbound() && !sentMessages[e.Message] {
			statusBeforeSend++
		}
		if e.Kind == event.LinkClicked || e.Kind == event.ButtonClicked {
			clicks = append(clicks, e.Message)
		}
	}
	clicked := map[string]bool{}
	for _, m := range clicks {
		if v, ok := variantOf[m]; ok && !clicked[m] {
			clicked[m] = true
			ab[v].clicked++
		}
	}
	for _, k := range event.Kinds() {
		if kinds[k] == 0 {
			t.Errorf("no %s event", k)
		}
	}
	if duplicates == 0 || statusBeforeSend == 0 {
		t.Errorf("duplicates %d, statuses before their send %d: both should occur", duplicates, statusBeforeSend)
	}
	a, b := ab["A"], ab["B"]
	if a == nil || b == nil || a.sent < 300 || b.sent < 300 {
		t.Fatalf("A/B arms too small: %+v %+v", a, b)
	}
	if ctrA, ctrB := float64(a.clicked)/float64(a.sent), float64(b.clicked)/float64(b.sent); ctrB <= ctrA {
		t.Errorf("variant B should win on CTR: A %.3f, B %.3f", ctrA, ctrB)
	}
	// Every line is one JSON object.
	if !json.Valid(bytes.SplitN(data, []byte("\n"), 2)[0]) {
		t.Error("first line is not JSON")
	}
}

func BenchmarkGenerate(b *testing.B) {
	for range b.N {
		var n countWriter
		if _, err := Generate(context.Background(), &n, Options{Events: 1_000_000, End: testEnd}); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(n))
	}
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// TestGenerate_Seasons: a longer history at the same daily volume has the
// same last 30 days (within chance), its earlier seasons' campaigns apart,
// and the A/B test only when the last season reaches back to it.
func TestGenerate_Seasons(t *testing.T) {
	perDay := 300
	if testing.Short() {
		perDay = 100
	}
	last30 := map[int]int{}
	for _, days := range []int{60, 120, 395} {
		data := generate(t, Options{Seed: 5, Events: perDay * days, Days: days, End: testEnd})
		campaigns := map[string]bool{}
		var first time.Time
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			e, err := event.ParseJSON(sc.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if e.Kind == event.MessageSent && e.Campaign != "" {
				campaigns[e.Campaign] = true
			}
			if first.IsZero() || e.TS.Before(first) {
				first = e.TS
			}
			if !e.TS.Before(testEnd.AddDate(0, 0, -30)) && e.TS.Before(testEnd) {
				last30[days]++
			}
		}
		if span := testEnd.Sub(first); span > time.Duration(days)*24*time.Hour || span < time.Duration(days-1)*24*time.Hour {
			t.Errorf("%d days: the data starts %s before its end", days, span)
		}
		if got := campaigns[ABCampaign]; got != HasABTest(days) {
			t.Errorf("%d days: %s sent %v, HasABTest %v", days, ABCampaign, got, HasABTest(days))
		}
		if days == 395 && (!campaigns["spring_sale-1"] || !campaigns["daily_deals-3"] || campaigns["welcome-3"]) {
			t.Errorf("395 days: campaigns %v: want each season's, the first cut short", campaigns)
		}
	}
	for _, days := range []int{60, 395} {
		if r := float64(last30[days]) / float64(last30[120]); r < 0.8 || r > 1.2 {
			t.Errorf("last 30 days: %d events over %d days of history, %d over 120", last30[days], days, last30[120])
		}
	}
}

// TestGenerate_LastThirtyDaysShowEverything: the dashboard's default
// period of the default demo holds several campaigns on several channels,
// the A/B test still sending on the last day, a click-to-WhatsApp ad's
// chats, spend, failures of several kinds, and agents and the bot.
func TestGenerate_LastThirtyDaysShowEverything(t *testing.T) {
	events := 120_000
	if testing.Short() {
		events = 40_000
	}
	data := generate(t, Options{Events: events, End: testEnd})
	from, lastDay := testEnd.AddDate(0, 0, -30), testEnd.AddDate(0, 0, -1)
	campaigns, channels, codes, actors := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	variants := map[string]int{}
	var abLastDay, adLeads, spend int
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		e, err := event.ParseJSON(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if e.TS.Before(from) || !e.TS.Before(testEnd) {
			continue
		}
		switch {
		case e.Kind == event.MessageSent && e.Campaign != "":
			campaigns[e.Campaign] = true
			channels[e.Channel] = true
			if e.Campaign == ABCampaign {
				variants[e.Variant]++
				if !e.TS.Before(lastDay) {
					abLastDay++
				}
			}
		case e.Kind == event.MessageSent:
			actors[string(e.Actor)] = true
		case e.Kind == event.MessageFailed:
			code, _ := e.Props["error_code"].(string)
			codes[code] = true
		case e.Kind == event.LeadCreated && e.Source == "ad":
			adLeads++
		case e.Kind == event.CampaignCost:
			spend++
		}
	}
	if len(campaigns) < 4 || len(channels) < 2 {
		t.Errorf("last 30 days: campaigns %v on channels %v, want four or more on two or more", campaigns, channels)
	}
	if variants["A"] < 100 || variants["B"] < 100 || abLastDay == 0 {
		t.Errorf("the A/B test in the last 30 days: variants %v, %d sends on the last day", variants, abLastDay)
	}
	if len(codes) < 4 {
		t.Errorf("failure codes in the last 30 days: %v, want four or more", codes)
	}
	if adLeads == 0 || spend == 0 || !actors["agent"] || !actors["bot"] {
		t.Errorf("last 30 days: %d leads from ads, %d costs, reply actors %v", adLeads, spend, actors)
	}
}
