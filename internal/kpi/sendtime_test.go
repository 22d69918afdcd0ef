package kpi_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/kpi"
)

// Hours of the week are local: in Berlin, 08:30 UTC on Monday 5 January is
// 09:30 (hour 9 of the week), 22:30 UTC on Sunday 11 January is 23:30
// (hour 167), and after the clocks change 07:30 UTC on Monday 30 March is
// 09:30 again.
func TestBestSendTime(t *testing.T) {
	lines := `{"id":"s1","ts":"2026-01-05T08:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m1","customer":"k1","actor":"campaign","campaign":"c"}
{"id":"r1","ts":"2026-01-05T08:30:00Z","kind":"message_read","channel":"whatsapp","message":"m1"}
{"id":"s2","ts":"2026-03-30T07:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m2","customer":"k2","actor":"campaign","campaign":"c"}
{"id":"r2","ts":"2026-03-30T07:30:00Z","kind":"message_read","channel":"whatsapp","message":"m2"}
{"id":"i1","ts":"2026-01-11T22:30:00Z","kind":"message_received","channel":"whatsapp","message":"m3","customer":"k1"}
{"id":"i2","ts":"2026-01-05T08:40:00Z","kind":"message_received","channel":"sms","message":"m4","customer":"k1"}`
	eachEngine(t, lines, func(t *testing.T, e *kpi.Engine) {
		rep, err := e.BestSendTime(context.Background(), kpi.Request{Workspace: "w", From: "2026-01-01", To: "2026-04-01", TimeZone: "Europe/Berlin"}, "", 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Channels) != 2 || *rep.Channels[1].Channel != "whatsapp" {
			t.Fatalf("%+v", rep.Channels)
		}
		wa := rep.Channels[1]
		if len(wa.Hours) != 168 || wa.Hours[9].Reads != 2 || wa.Hours[167].Replies != 1 || wa.Hours[9].Day != "mon" || wa.Hours[167].Day != "sun" {
			t.Errorf("hours 9 %+v, 167 %+v", wa.Hours[9], wa.Hours[167])
		}
		if len(wa.Best) != 2 || wa.Best[0].Hour != 9 || wa.Best[0].Day != "mon" {
			t.Errorf("best %+v", wa.Best)
		}
		if sms := rep.Channels[0]; sms.Hours[9].Replies != 1 {
			t.Errorf("sms %+v", sms.Hours[9])
		}
	})
}

// A metric the view does not know is an error naming the parameter and
// the metrics it knows; so is a min_sent below one.
func TestSendTimeParams(t *testing.T) {
	v, _ := kpi.ViewNamed("sendtime")
	for q, want := range map[string]string{
		"metric=opens": `"opens" is none of activity, reads, replies, read_rate, reply_rate, time_to_read`,
		"min_sent=0":   "min_sent",
	} {
		vals, _ := url.ParseQuery(q)
		_, _, err := v.Parse("w", vals)
		var re *kpi.RequestError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %s", q, err, want)
		}
	}
}
