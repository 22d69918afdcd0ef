package alerts

import (
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
)

func TestBuiltins(t *testing.T) {
	for _, b := range Builtins {
		if err := Validate(store.AlertRule{ID: b.ID}); err != nil {
			t.Errorf("built-in %s by its id alone: %v", b.ID, err)
		}
		if _, ok := kpi.DefinitionOf(b.KPI); !ok {
			t.Errorf("built-in %s watches %q, no KPI", b.ID, b.KPI)
		}
	}
	r := Normalize(store.AlertRule{ID: "frequency-capped", Value: 5, Window: store.Duration(7 * 24 * time.Hour), Webhook: "https://example.com/hook"})
	if r.KPI != "frequency_capped_rate" || r.Condition != "above" || r.Value != 5 || time.Duration(r.Window) != 7*24*time.Hour || r.Name == "" {
		t.Errorf("frequency-capped with its own bound and window: %+v", r)
	}
	if r := Normalize(store.AlertRule{ID: "frequency-capped"}); r.Value != 2 || time.Duration(r.Window) != 24*time.Hour {
		t.Errorf("frequency-capped by its id: %+v", r)
	}
	// Another id without a KPI is still an error naming the field.
	var reqErr *kpi.RequestError
	if err := Validate(store.AlertRule{ID: "quality"}); !errorsAs(err, &reqErr) || reqErr.Field != "kpi" {
		t.Errorf("an unknown id without a KPI: %v", err)
	}
	// A rule of its own under a built-in's id stays as written.
	own := store.AlertRule{ID: "quality-drop", KPI: "opt_out_rate", Condition: "above", Value: 1, Window: store.Duration(time.Hour)}
	if got := Normalize(own); got.KPI != "opt_out_rate" || got.Value != 1 {
		t.Errorf("own rule %+v", got)
	}
}
