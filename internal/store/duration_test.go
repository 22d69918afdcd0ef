package store

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"7d": 7 * Day, "1d": Day, "1.5d": 36 * time.Hour, "1d12h": 36 * time.Hour, "24h": Day,
		"90m": 90 * time.Minute, "1h30m": 90 * time.Minute, "168h0m0s": 7 * Day, "45s": 45 * time.Second,
		"0": 0, "0d": 0, " 2d ": 2 * Day, "-1d": -Day,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "7", "7days", "1d-2h", "1e3d", "Infd", "NaNd", "x", "99999999999d"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		7 * Day: "7d", 36 * time.Hour: "36h", 90 * time.Minute: "90m", 45 * time.Second: "45s",
		0: "0s", 1500 * time.Millisecond: "1.5s", -Day: "-1d",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := ParseDuration(FormatDuration(d)); err != nil || back != d {
			t.Errorf("ParseDuration(FormatDuration(%v)) = %v, %v", d, back, err)
		}
	}
}

func TestDuration_JSON(t *testing.T) {
	var w Windows
	if err := json.Unmarshal([]byte(`{"reply":"1d","conversion":"168h0m0s","opt_out":"7d","conversation":"90m","session":"36h"}`), &w); err != nil {
		t.Fatal(err)
	}
	if w.Reply != Duration(Day) || w.Conversion != Duration(7*Day) || w.OptOut != Duration(7*Day) || w.Conversation != Duration(90*time.Minute) {
		t.Errorf("read %+v", w)
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"reply":"1d","conversion":"7d","opt_out":"7d","conversation":"90m","session":"36h"}`; string(b) != want {
		t.Errorf("wrote %s, want %s", b, want)
	}
}
