package whatsapp

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The bodies below follow the syntax and examples of Meta's webhook
// reference for phone_number_quality_update, message_template_status_update,
// message_template_quality_update, template_category_update and
// account_update, with made-up ids and times.

// healthBody is a webhook of one entry at Unix time at (none when empty)
// holding one change of field.
func healthBody(at, field, value string) []byte {
	timeKey := ""
	if at != "" {
		timeKey = `"time": ` + at + `, `
	}
	return []byte(`{"object": "whatsapp_business_account", "entry": [{"id": "` + accountID + `", ` + timeKey +
		`"changes": [{"value": ` + value + `, "field": "` + field + `"}]}]}`)
}

// one parses a body that must give exactly one event, and returns its
// props.
func one(t *testing.T, b []byte) (map[string]any, Result) {
	t.Helper()
	res := parse(t, b)
	if len(res.Problems) > 0 || len(res.Events) != 1 {
		t.Fatalf("events %+v, problems %+v", res.Events, res.Problems)
	}
	e := res.Events[0]
	if e.Kind != "channel_event" || e.Channel != Channel || e.Workspace != "shop" {
		t.Fatalf("event %+v", e)
	}
	return e.Props, res
}

func wantProps(t *testing.T, props map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if v == nil {
			if _, set := props[k]; set {
				t.Errorf("props[%q] = %v, want none", k, props[k])
			}
			continue
		}
		if got, _ := json.Marshal(props[k]); string(got) != mustJSON(v) {
			t.Errorf("props[%q] = %s, want %s", k, got, mustJSON(v))
		}
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestHealth_PhoneNumberQuality(t *testing.T) {
	flagged := healthBody("1767225600", "phone_number_quality_update",
		`{"display_phone_number": "6221500100", "event": "FLAGGED", "current_limit": "TIER_10K"}`)
	props, res := one(t, flagged)
	wantProps(t, props, map[string]any{"type": "phone_number_quality_update", "display_phone_number": "6221500100",
		"event": "FLAGGED", "current_limit": "TIER_10K", "health_signal": "quality_drop", "wa_business_account": accountID, "value": nil})
	if got := res.Events[0].TS; !got.Equal(time.Unix(1767225600, 0)) {
		t.Errorf("time %v: must be the entry's", got)
	}
	if again, _ := Parse(flagged, Options{Route: route}); again.Events[0].ID != res.Events[0].ID {
		t.Error("a re-sent change gets another id")
	}
	// The same value a day later is another event.
	if b := parse(t, healthBody("1767312000", "phone_number_quality_update",
		`{"display_phone_number": "6221500100", "event": "FLAGGED", "current_limit": "TIER_10K"}`)); b.Events[0].ID == res.Events[0].ID {
		t.Error("the same change on another day has the same id")
	}

	down, _ := one(t, healthBody("1767400000", "phone_number_quality_update",
		`{"display_phone_number": "6221500100", "event": "DOWNGRADE", "old_limit": "TIER_10K", "current_limit": "TIER_2K", "max_daily_conversations_per_business": "TIER_2K"}`))
	wantProps(t, down, map[string]any{"event": "DOWNGRADE", "old_limit": "TIER_10K", "current_limit": "TIER_2K",
		"max_daily_conversations_per_business": "TIER_2K", "health_signal": "limit_changed"})

	// Meta's example: a throughput upgrade names no old limit and changes none.
	up, _ := one(t, healthBody("1748454394", "phone_number_quality_update",
		`{"display_phone_number": "15550783881", "event": "THROUGHPUT_UPGRADE", "current_limit": "TIER_UNLIMITED"}`))
	wantProps(t, up, map[string]any{"event": "THROUGHPUT_UPGRADE", "health_signal": nil})

	unflagged, _ := one(t, healthBody("1767500000", "phone_number_quality_update",
		`{"display_phone_number": "6221500100", "event": "UNFLAGGED", "current_limit": "TIER_2K"}`))
	wantProps(t, unflagged, map[string]any{"event": "UNFLAGGED", "health_signal": nil})
}

func TestHealth_TemplateStatus(t *testing.T) {
	paused, _ := one(t, healthBody("1767225600", "message_template_status_update",
		`{"event": "PAUSED", "message_template_id": 1689556908129832, "message_template_name": "promo_jan", "message_template_language": "id",
		  "reason": "NONE", "message_template_category": "MARKETING",
		  "other_info": {"title": "FIRST_PAUSE", "description": "Your WhatsApp message template has been paused for 3 hours."}}`))
	wantProps(t, paused, map[string]any{"type": "message_template_status_update", "event": "PAUSED",
		"message_template_id": "1689556908129832", "message_template_name": "promo_jan", "message_template_language": "id",
		"reason": "NONE", "message_template_category": "MARKETING", "title": "FIRST_PAUSE",
		"description": "Your WhatsApp message template has been paused for 3 hours.", "health_signal": "template_paused", "other_info": nil})

	disabled, _ := one(t, healthBody("1767312000", "message_template_status_update",
		`{"event": "DISABLED", "message_template_id": 1689556908129832, "message_template_name": "promo_jan", "message_template_language": "id",
		  "reason": null, "disable_info": {"disable_date": 1767312000}}`))
	wantProps(t, disabled, map[string]any{"event": "DISABLED", "disable_date": "1767312000", "reason": nil, "health_signal": "template_disabled"})

	// A rejection's own reason must not overwrite the status's reason:
	// ClickHouse reads props by key wherever it stands.
	rejected, _ := one(t, healthBody("1751247548", "message_template_status_update",
		`{"event": "REJECTED", "message_template_id": 1689556908129835, "message_template_name": "abandoned_cart", "message_template_language": "en",
		  "reason": "INVALID_FORMAT", "message_template_category": "MARKETING",
		  "rejection_info": {"reason": "Parameters placed next to each other.", "recommendation": "Separate parameters with text."}}`))
	wantProps(t, rejected, map[string]any{"reason": "INVALID_FORMAT", "rejection_info_reason": "Parameters placed next to each other.",
		"recommendation": "Separate parameters with text.", "health_signal": nil})
	b, _ := json.Marshal(rejected)
	if strings.Count(string(b), `"reason"`) != 1 {
		t.Errorf("props %s hold the key reason more than once", b)
	}
}

func TestHealth_TemplateQualityAndCategory(t *testing.T) {
	for _, c := range []struct{ prev, next, signal string }{
		{"GREEN", "YELLOW", "quality_drop"}, {"UNKNOWN", "RED", "quality_drop"}, {"YELLOW", "RED", "quality_drop"},
		{"YELLOW", "GREEN", ""}, {"RED", "YELLOW", ""}, {"UNKNOWN", "GREEN", ""},
	} {
		props, _ := one(t, healthBody("1674864290", "message_template_quality_update",
			`{"previous_quality_score": "`+c.prev+`", "new_quality_score": "`+c.next+`", "message_template_id": 806312974732579,
			  "message_template_name": "welcome_template", "message_template_language": "en-US"}`))
		want := map[string]any{"previous_quality_score": c.prev, "new_quality_score": c.next, "message_template_id": "806312974732579", "health_signal": nil}
		if c.signal != "" {
			want["health_signal"] = c.signal
		}
		wantProps(t, props, want)
	}

	pending, _ := one(t, healthBody("1746082800", "template_category_update",
		`{"message_template_id": 278077987957091, "message_template_name": "welcome_template", "message_template_language": "en-US",
		  "new_category": "UTILITY", "correct_category": "MARKETING", "category_update_timestamp": 1746169200}`))
	wantProps(t, pending, map[string]any{"type": "template_category_update", "new_category": "UTILITY", "correct_category": "MARKETING",
		"category_update_timestamp": "1746169200", "health_signal": nil})
	done, _ := one(t, healthBody("1746169200", "template_category_update",
		`{"message_template_id": 278077987957091, "message_template_name": "welcome_template", "message_template_language": "en-US",
		  "previous_category": "UTILITY", "new_category": "MARKETING"}`))
	wantProps(t, done, map[string]any{"previous_category": "UTILITY", "new_category": "MARKETING", "health_signal": "template_recategorised"})
}

func TestHealth_AccountUpdate(t *testing.T) {
	tier, res := one(t, healthBody("1743451903", "account_update",
		`{"volume_tier_info": {"tier_update_time": 1743451903, "pricing_category": "UTILITY", "tier": "25000001:50000000",
		  "effective_month": "2025-11", "region": "India"}, "event": "VOLUME_BASED_PRICING_TIER_UPDATE"}`))
	wantProps(t, tier, map[string]any{"type": "account_update", "event": "VOLUME_BASED_PRICING_TIER_UPDATE", "tier": "25000001:50000000",
		"pricing_category": "UTILITY", "effective_month": "2025-11", "region": "India", "tier_update_time": "1743451903", "health_signal": nil})
	if !res.Events[0].TS.Equal(time.Unix(1743451903, 0)) {
		t.Errorf("time %v", res.Events[0].TS)
	}
	violation, _ := one(t, healthBody("1743451903", "account_update",
		`{"event": "ACCOUNT_VIOLATION", "violation_info": {"violation_type": "ADULT"}}`))
	wantProps(t, violation, map[string]any{"event": "ACCOUNT_VIOLATION", "violation_type": "ADULT"})
}

func TestHealth_NeedsTheEntryTime(t *testing.T) {
	res := parse(t, healthBody("", "phone_number_quality_update", `{"display_phone_number": "6221500100", "event": "FLAGGED", "current_limit": "TIER_10K"}`))
	if len(res.Events) != 0 || len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Reason, `the entry's "time" is missing`) ||
		!strings.HasPrefix(res.Problems[0].Where, "entry 0, change 0") {
		t.Fatalf("events %+v, problems %+v", res.Events, res.Problems)
	}
	res = parse(t, healthBody(`"soon"`, "account_update", `{"event": "ACCOUNT_DELETED"}`))
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Reason, `"time" "soon" is not Unix seconds`) {
		t.Fatalf("problems %+v", res.Problems)
	}
}

// A health change of an account no workspace maps waits in the quarantine
// with its entry's time, and gives once ingested the event the webhook
// would have given.
func TestHealth_QuarantineKeepsTheTime(t *testing.T) {
	b := healthBody("1767225600", "message_template_quality_update",
		`{"previous_quality_score": "GREEN", "new_quality_score": "RED", "message_template_id": 806312974732579,
		  "message_template_name": "welcome_template", "message_template_language": "en-US"}`)
	nobody := func(string, string) (string, bool) { return "", false }
	res, err := Parse(b, Options{Route: nobody})
	if err != nil || len(res.Unrouted) != 1 {
		t.Fatalf("unrouted %+v, %v", res.Unrouted, err)
	}
	u := res.Unrouted[0]
	later, err := Parse(Body(u.AccountID, u.Change), Options{Route: route})
	if err != nil || len(later.Events) != 1 {
		t.Fatalf("ingested %+v, %v", later, err)
	}
	direct := parse(t, b)
	if later.Events[0].ID != direct.Events[0].ID || !later.Events[0].TS.Equal(direct.Events[0].TS) {
		t.Errorf("from the quarantine %+v, directly %+v", later.Events[0], direct.Events[0])
	}
}
