package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/api"
)

// TestAPI_UnknownParameters: a query parameter a GET route does not take,
// such as frm= for from=, is a 400 naming it in field; every parameter the
// dashboard and 'omnikpi report' send is taken.
func TestAPI_UnknownParameters(t *testing.T) {
	s := startWith(t, duckdbStore, api.Options{})
	errorOf := func(b []byte) (field, message string) {
		var e struct {
			Error struct{ Field, Message string }
		}
		json.Unmarshal(b, &e)
		return e.Error.Field, e.Error.Message
	}
	for _, path := range []string{"/v1/kpis", "/v1/conversations/unclosed", "/v1/keywords", "/v1/funnel", "/v1/attribution",
		"/v1/abtest", "/v1/campaigns/recipients", "/v1/failures", "/v1/sendtime", "/v1/cohorts", "/v1/segments",
		"/v1/alerts", "/v1/alerts/firings", "/v1/catalogue", "/v1/workspace"} {
		status, b := call(t, s, http.MethodGet, s.keyA, path+"?frm=2026-01-01&to=2026-02-01", "")
		if field, msg := errorOf(b); status != http.StatusBadRequest || field != "frm" || !strings.Contains(msg, `"frm"`) {
			t.Errorf("GET %s?frm=: %d %s, want a 400 naming frm", path, status, b)
		}
	}
	if status, b := call(t, s, http.MethodGet, s.keyA, "/v1/alerts?from=2026-01-01", ""); status != http.StatusBadRequest {
		t.Errorf("GET /v1/alerts?from=: %d %s, want a 400: the rules have no period", status, b)
	}
	period := "from=2026-01-01&to=2026-02-01&workspace=a"
	for _, q := range []string{
		"/v1/kpis?" + period + "&kpi=ctr,aov&compare=previous&bucket=day&hours=wall&segment=rfm:champions&currency=EUR&channel=whatsapp&tz=UTC",
		"/v1/kpis?" + period + "&group_by=campaign,template&format=csv",
		"/v1/kpis?" + period + "&lookback=30d&half_life=7d",
		"/v1/conversations/unclosed?" + period + "&format=csv",
		"/v1/keywords?" + period + "&limit=15",
		"/v1/funnel?" + period + "&steps=message_read,button_clicked,order_placed&within=7d&order=strict",
		"/v1/attribution?" + period + "&by=channel&lookback=30d&half_life=1d",
		"/v1/abtest?" + period + "&campaign=c1&control=A",
		"/v1/campaigns/recipients?" + period + "&limit=100",
		"/v1/failures?" + period,
		"/v1/sendtime?" + period,
		"/v1/cohorts?" + period + "&period=week",
		"/v1/segments?" + period + "&family=rfm",
		"/v1/alerts?format=csv", "/v1/alerts/firings?format=json", "/v1/catalogue", "/v1/workspace?workspace=a",
	} {
		// The A/B test of an empty period is a 400 about its variants, not
		// its parameters.
		status, b := call(t, s, http.MethodGet, s.keyA, q, "")
		if _, msg := errorOf(b); status != http.StatusOK && (status != http.StatusBadRequest || strings.Contains(msg, "unknown query parameter")) {
			t.Errorf("GET %s: %d %s", q, status, b)
		}
	}
}

// TestAPI_UnknownParameters_Admin: the admin list routes take no
// parameters.
func TestAPI_UnknownParameters_Admin(t *testing.T) {
	s := startWith(t, duckdbStore, api.Options{AdminToken: adminToken})
	for _, path := range []string{"/v1/workspaces", "/v1/keys", "/v1/users"} {
		if status, _, b := send(t, s, http.MethodGet, adminToken, "a", path, ""); status != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, status, b)
		}
		if status, _, b := send(t, s, http.MethodGet, adminToken, "a", path+"?worksapce=a", ""); status != http.StatusBadRequest || !strings.Contains(string(b), `"field":"worksapce"`) {
			t.Errorf("GET %s?worksapce=: %d %s, want a 400 naming worksapce", path, status, b)
		}
	}
}

// TestAPI_AlertRules_BandConditions: a rule on the band is worse_than_band
// or better_than_band; the former names below_band and above_band are
// accepted and saved under the new ones.
func TestAPI_AlertRules_BandConditions(t *testing.T) {
	s := startWith(t, duckdbStore, api.Options{})
	for id, c := range map[string][2]string{
		"new-worse": {"worse_than_band", "worse_than_band"}, "new-better": {"better_than_band", "better_than_band"},
		"old-worse": {"below_band", "worse_than_band"}, "old-better": {"above_band", "better_than_band"},
	} {
		status, b := call(t, s, http.MethodPut, s.keyA, "/v1/alerts/"+id, `{"kpi":"opt_out_rate","condition":"`+c[0]+`","window":"7d"}`)
		if status != http.StatusOK || !strings.Contains(string(b), `"condition":"`+c[1]+`"`) {
			t.Errorf("PUT a rule with condition %s: %d %s, want it saved as %s", c[0], status, b, c[1])
		}
	}
	status, b := call(t, s, http.MethodGet, s.keyA, "/v1/alerts", "")
	if status != http.StatusOK || strings.Contains(string(b), "below_band") || strings.Contains(string(b), "above_band") {
		t.Errorf("GET /v1/alerts: %d %s, want no former names", status, b)
	}
}

// TestAPI_AlertRules_NamesAndDays: a rule's window is read in days too and
// written back so; an unknown KPI is a 400 naming the field.
func TestAPI_AlertRules_NamesAndDays(t *testing.T) {
	s := startWith(t, duckdbStore, api.Options{})
	status, b := call(t, s, http.MethodPut, s.keyA, "/v1/alerts/weekly", `{"kpi":"opt_out_rate","condition":"above_band","window":"7d"}`)
	if status != http.StatusOK || !strings.Contains(string(b), `"window":"7d"`) {
		t.Errorf("PUT a rule with window 7d: %d %s", status, b)
	}
	status, b = call(t, s, http.MethodPut, s.keyA, "/v1/alerts/typo", `{"kpi":"opn_rate","condition":"below","value":10,"window":"24h"}`)
	if status != http.StatusBadRequest || !strings.Contains(string(b), `"field":"kpi"`) || !strings.Contains(string(b), "opn_rate") {
		t.Errorf("PUT a rule of an unknown KPI: %d %s", status, b)
	}
	status, b = call(t, s, http.MethodGet, s.keyA, "/v1/alerts", "")
	if status != http.StatusOK || strings.Contains(string(b), "typo") || !strings.Contains(string(b), `"window":"7d"`) {
		t.Errorf("GET /v1/alerts: %d %s", status, b)
	}
}
