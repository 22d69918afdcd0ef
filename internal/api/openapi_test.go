package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/config"
	"github.com/omnikpi/omnikpi/internal/ingest/messenger"
	"github.com/omnikpi/omnikpi/internal/ingest/shopify"
	"github.com/omnikpi/omnikpi/internal/ingest/woocommerce"
)

type openAPIDoc struct {
	Paths      map[string]map[string]operation `json:"paths"`
	Components struct {
		Schemas    map[string]any       `json:"schemas"`
		Parameters map[string]parameter `json:"parameters"`
	} `json:"components"`
}

type operation struct {
	Parameters  []parameter `json:"parameters"`
	RequestBody *struct {
		Content map[string]media `json:"content"`
	} `json:"requestBody"`
	Security  []map[string][]string `json:"security"`
	Responses map[string]struct {
		Content map[string]media `json:"content"`
	} `json:"responses"`
}

type parameter struct {
	Ref      string `json:"$ref"`
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
	Schema   any    `json:"schema"`
	Example  any    `json:"example"`
}

type media struct {
	Schema   any `json:"schema"`
	Example  any `json:"example"`
	Examples map[string]struct {
		Value any `json:"value"`
	} `json:"examples"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	d := json.NewDecoder(bytes.NewReader(api.OpenAPI()))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

// validate checks v against a JSON Schema of the kinds the document uses:
// $ref, type (one or several), enum, properties, required,
// additionalProperties and items. It returns the first mismatch.
func validate(doc openAPIDoc, schema any, v any, at string) error {
	s, ok := schema.(map[string]any)
	if !ok {
		return nil
	}
	if ref, ok := s["$ref"].(string); ok {
		return validate(doc, doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")], v, at)
	}
	if t, ok := s["type"]; ok {
		var types []string
		switch x := t.(type) {
		case string:
			types = []string{x}
		case []any:
			for _, y := range x {
				types = append(types, y.(string))
			}
		}
		if !slices.ContainsFunc(types, func(typ string) bool { return isType(v, typ) }) {
			return fmt.Errorf("%s: %v is not of type %v", at, v, types)
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		return fmt.Errorf("%s: %v is not one of %v", at, v, enum)
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asList(s["required"]) {
			if _, ok := x[r]; !ok {
				return fmt.Errorf("%s: required %q is missing", at, r)
			}
		}
		for k, child := range x {
			if p, ok := props[k]; ok {
				if err := validate(doc, p, child, at+"."+k); err != nil {
					return err
				}
				continue
			}
			switch extra := s["additionalProperties"].(type) {
			case bool:
				if !extra {
					return fmt.Errorf("%s: %q is not documented", at, k)
				}
			case map[string]any:
				if err := validate(doc, extra, child, at+"."+k); err != nil {
					return err
				}
			}
		}
	case []any:
		for i, item := range x {
			if err := validate(doc, s["items"], item, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func asList(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, x.(string))
		}
	}
	return out
}

func isType(v any, typ string) bool {
	switch typ {
	case "null":
		return v == nil
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	}
	return false
}

// TestOpenAPI_EveryRouteDocumented: the routes the server registers and
// the paths the document describes are the same set, and every example
// in the document matches its schema.
func TestOpenAPI_EveryRouteDocumented(t *testing.T) {
	doc := loadOpenAPI(t)
	wa := config.WhatsApp{AppSecret: "s", VerifyToken: "v", PhoneNumbers: map[string]string{"1": "a"}}
	cfg := config.Config{WhatsApp: wa, Shopify: shopify.Settings{Secret: "s", Shops: map[string]string{"a.myshopify.com": "a"}},
		WooCommerce: woocommerce.Settings{Secret: "s", Sites: map[string]string{"a.example.com": "a"}},
		Messenger:   messenger.Settings{AppSecret: "s", VerifyToken: "v", Pages: map[string]string{"1": "a"}}}
	registered := map[string]bool{}
	for _, pattern := range api.Routes(api.Options{WhatsApp: wa, Sources: cfg.Webhooks()}) {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok || path == "/{$}" || path == "/static/" {
			continue // the catch-all and the dashboard's pages are not API
		}
		registered[strings.ToLower(method)+" "+path] = true
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("route %s is not in the OpenAPI document", pattern)
		}
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if !registered[method+" "+path] {
				t.Errorf("the document describes %s %s, which the server does not register", method, path)
			}
			where := method + " " + path
			for _, p := range op.Parameters {
				if p.Ref != "" {
					p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
				}
				if p.Name == "" {
					t.Errorf("%s: a parameter without a name", where)
				}
				if p.Example != nil {
					if err := validate(doc, p.Schema, p.Example, where+" parameter "+p.Name); err != nil {
						t.Error(err)
					}
				}
			}
			checkMedia := func(what string, content map[string]media) {
				for ct, m := range content {
					if m.Example != nil {
						if err := validate(doc, m.Schema, m.Example, where+" "+what+" "+ct); err != nil {
							t.Error(err)
						}
					}
					for name, ex := range m.Examples {
						if err := validate(doc, m.Schema, ex.Value, where+" "+what+" example "+name); err != nil {
							t.Error(err)
						}
					}
				}
			}
			if op.RequestBody != nil {
				checkMedia("request", op.RequestBody.Content)
			}
			for code, r := range op.Responses {
				checkMedia("response "+code, r.Content)
			}
		}
	}
	if len(registered) < 25 {
		t.Fatalf("only %d routes registered", len(registered))
	}
}

// TestOpenAPI_ExamplesAndAnswersMatch posts the document's example events
// to a real server, then asks every documented GET route and checks the
// real answer against the documented schema, so the document cannot drift
// from what the server says.
func TestOpenAPI_ExamplesAndAnswersMatch(t *testing.T) {
	doc := loadOpenAPI(t)
	s := startWith(t, duckdbStore, api.Options{AdminToken: adminToken})
	ctx := context.Background()

	events, _ := json.Marshal(doc.Paths["/v1/events"]["post"].RequestBody.Content["application/json"].Example)
	status, b := call(t, s, http.MethodPost, s.keyA, "/v1/events", string(events))
	if status != 200 {
		t.Fatalf("the documented events example: %d %s", status, b)
	}
	checkAnswer(t, doc, "post /v1/events", doc.Paths["/v1/events"]["post"], b)
	rule, _ := json.Marshal(doc.Paths["/v1/alerts/{id}"]["put"].RequestBody.Content["application/json"].Example)
	if status, b := call(t, s, http.MethodPut, s.keyA, "/v1/alerts/opt-out-spike", string(rule)); status != 200 {
		t.Fatalf("the documented alert rule example: %d %s", status, b)
	}
	if _, status, err := applied(s.url, s.keyA).SendEvents(ctx, []byte(campaignEvents), "application/x-ndjson"); err != nil || status != 200 {
		t.Fatalf("events: %d %v", status, err)
	}

	asked := 0
	for path, ops := range doc.Paths {
		op, ok := ops["get"]
		if !ok || !strings.HasPrefix(path, "/v1/") || path == "/v1/session" || path == "/v1/openapi.json" {
			continue
		}
		q := url.Values{}
		for _, p := range op.Parameters {
			if p.Ref != "" {
				p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
			}
			switch p.Name {
			case "from":
				q.Set("from", "2026-01-01")
			case "to":
				q.Set("to", "2026-04-01")
			}
		}
		if path == "/v1/abtest" {
			q.Set("campaign", "c1")
		}
		token, workspace := s.keyA, ""
		if len(op.Security) > 0 && op.Security[0]["admin"] != nil {
			token, workspace = adminToken, "a"
		}
		status, _, b := send(t, s, http.MethodGet, token, workspace, path+"?"+q.Encode(), "")
		if status != 200 {
			t.Errorf("GET %s: %d %s", path, status, b)
			continue
		}
		checkAnswer(t, doc, "get "+path, op, b)
		asked++
	}
	if asked < 15 {
		t.Fatalf("only %d GET routes asked", asked)
	}
	// The served document is the embedded one.
	status, served := call(t, s, http.MethodGet, "", "/v1/openapi.json", "")
	if status != 200 || !bytes.Equal(served, api.OpenAPI()) {
		t.Fatalf("GET /v1/openapi.json: %d", status)
	}
}

func checkAnswer(t *testing.T, doc openAPIDoc, where string, op operation, body []byte) {
	t.Helper()
	m, ok := op.Responses["200"].Content["application/json"]
	if !ok {
		t.Errorf("%s: no documented JSON answer", where)
		return
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	if err := validate(doc, m.Schema, v, where); err != nil {
		t.Errorf("the real answer does not match the document: %v", err)
	}
}
