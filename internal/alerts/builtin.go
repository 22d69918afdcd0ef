package alerts

import (
	"cmp"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
)

const day = store.Duration(24 * time.Hour)

// Builtins are the rules on WhatsApp account health that a workspace
// switches on by id alone: PUT /v1/alerts/quality-drop with {} (or a
// rule of the configuration file with only that id) is the rule below;
// a webhook, filters, a window or a value given beside it replace the
// built-in's. Each fires while its KPI is above the value over the
// window, so a drop is reported once and clears a window later.
var Builtins = []store.AlertRule{
	{ID: "quality-drop", Name: "A WhatsApp number flagged for low quality, or a template's quality fell to yellow or red",
		KPI: "quality_drops", Condition: "above", Window: day},
	{ID: "template-setback", Name: "A WhatsApp template paused, disabled or recategorised",
		KPI: "template_setbacks", Condition: "above", Window: day},
	{ID: "messaging-limit-changed", Name: "A WhatsApp number's messaging limit changed",
		KPI: "messaging_limit_changes", Condition: "above", Window: day},
	{ID: "frequency-capped", Name: "Campaign messages capped by WhatsApp's marketing limits (131049, 131048) above 2 %",
		KPI: "frequency_capped_rate", Condition: "above", Value: 2, Window: day},
}

// builtin fills a rule that names a built-in's id and no KPI from the
// built-in; any other rule is returned as it is.
func builtin(r store.AlertRule) store.AlertRule {
	if r.KPI != "" {
		return r
	}
	for _, b := range Builtins {
		if b.ID != r.ID {
			continue
		}
		r.KPI = b.KPI
		if r.Name == "" {
			r.Name = b.Name
		}
		if r.Condition == "" {
			r.Condition, r.Value = b.Condition, cmp.Or(r.Value, b.Value)
		}
		if r.Window == 0 {
			r.Window = b.Window
		}
	}
	return r
}
