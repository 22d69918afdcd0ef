package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/omnikpi/omnikpi/internal/event"
)

// The account-health webhooks of a WhatsApp Business Account: a business
// number's quality and messaging limit, a template's status, quality and
// category, and the account's own events. Each change becomes a
// channel_event whose props.type is the field and whose props are the
// value's fields under Meta's names, one level of nesting flattened (see
// flatten), plus props.health_signal when the change is one a built-in
// alert rule watches.

// Health signals, in props.health_signal.
const (
	SignalQualityDrop     = "quality_drop"           // a number flagged, a template's quality fallen to yellow or red
	SignalLimitChanged    = "limit_changed"          // a number's messaging limit raised or lowered
	SignalTemplatePaused  = "template_paused"        // a template paused
	SignalTemplateDisable = "template_disabled"      // a template disabled
	SignalRecategorised   = "template_recategorised" // a template moved to another category
)

// healthFields maps each account-health field to what it signals.
var healthFields = map[string]func(props map[string]any) string{
	"phone_number_quality_update":     phoneSignal,
	"message_template_status_update":  templateStatusSignal,
	"message_template_quality_update": templateQualitySignal,
	"template_category_update":        categorySignal,
	"account_update":                  func(map[string]any) string { return "" },
}

// phoneSignal: FLAGGED is Meta's word for a number whose quality rating
// has reached low; UPGRADE and DOWNGRADE, or an old_limit other than the
// current one, are changes of its messaging limit.
func phoneSignal(p map[string]any) string {
	switch str(p, "event") {
	case "FLAGGED":
		return SignalQualityDrop
	case "UPGRADE", "DOWNGRADE":
		return SignalLimitChanged
	}
	if old, now := str(p, "old_limit"), str(p, "current_limit"); old != "" && now != "" && old != now {
		return SignalLimitChanged
	}
	return ""
}

func templateStatusSignal(p map[string]any) string {
	switch str(p, "event") {
	case "PAUSED":
		return SignalTemplatePaused
	case "DISABLED":
		return SignalTemplateDisable
	}
	return ""
}

// qualityRank orders Meta's quality scores from best to worst; UNKNOWN
// (quality pending) ranks with GREEN, so a first score of YELLOW is a drop.
var qualityRank = map[string]int{"GREEN": 0, "UNKNOWN": 0, "": 0, "YELLOW": 1, "RED": 2}

func templateQualitySignal(p map[string]any) string {
	prev, next := str(p, "previous_quality_score"), str(p, "new_quality_score")
	if (next == "YELLOW" || next == "RED") && qualityRank[next] > qualityRank[prev] {
		return SignalQualityDrop
	}
	return ""
}

// categorySignal: only a completed change names previous_category; an
// impending one names the category to come as correct_category and the
// current one as new_category.
func categorySignal(p map[string]any) string {
	if prev, next := str(p, "previous_category"), str(p, "new_category"); prev != "" && next != "" && prev != next {
		return SignalRecategorised
	}
	return ""
}

// health maps an account-health change. Its time is the entry's (when
// Meta triggered the webhook); its id derives from the value and that
// time, so a re-sent change is kept once while the same event on another
// day is another event.
func (c *change) health(value map[string]any) ([]event.Event, error) {
	if c.time == "" {
		return nil, errors.New(`the entry's "time" is missing`)
	}
	ts, err := unixTime(strings.Trim(c.time, `"`))
	if err != nil {
		return nil, fmt.Errorf(`the entry's "time" %s is not Unix seconds`, c.time)
	}
	props := flatten(value)
	setType(props, c.field)
	if signal := healthFields[c.field](props); signal != "" {
		props["health_signal"] = signal
	}
	canonical, _ := json.Marshal(value) // map keys sorted: the same value gives the same text
	id := "wa:" + c.field + ":" + digest(string(canonical), c.time)
	return []event.Event{{ID: id, TS: ts, Kind: event.ChannelEvent, Count: 1, Props: props}}, nil
}

// flatten copies a change value into props: numbers as text (template
// ids exceed what a float holds exactly), the fields of a nested object
// under their own names (disable_info.disable_date as disable_date), or
// under parent_field when the name is taken (rejection_info.reason as
// rejection_info_reason). ClickHouse reads a prop by its key anywhere in
// the JSON, so no key may stand twice. Lists are kept as they are; nulls
// are dropped.
func flatten(value map[string]any) map[string]any {
	out := map[string]any{}
	var nested []string
	for k, v := range value {
		switch v.(type) {
		case nil:
		case map[string]any:
			nested = append(nested, k)
		default:
			out[k] = scalar(v)
		}
	}
	sort.Strings(nested)
	for _, parent := range nested {
		inner := value[parent].(map[string]any)
		keys := make([]string, 0, len(inner))
		for k := range inner {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if inner[k] == nil {
				continue
			}
			name := k
			if _, taken := value[k]; taken || out[k] != nil {
				name = parent + "_" + k
			}
			out[name] = scalar(inner[k])
		}
	}
	return out
}

func scalar(v any) any {
	if n, ok := v.(json.Number); ok {
		return n.String()
	}
	return v
}

// quarantined is a change as kept in the quarantine: a health change
// carries its entry's time along, as its events need it once ingested.
func quarantined(field string, raw, entryTime json.RawMessage) json.RawMessage {
	out := slices.Clone([]byte(raw))
	if healthFields[field] == nil || len(entryTime) == 0 {
		return out
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m["time"] != nil {
		return out
	}
	m["time"] = entryTime
	b, err := json.Marshal(m)
	if err != nil {
		return out
	}
	return b
}
