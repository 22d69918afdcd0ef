package api

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/omnikpi/omnikpi/internal/kpi"
)

// openAPIBase is the document of the routes that are not views, OpenAPI
// 3.1, with the schemas of the views' answers; each view's path is made
// from the registry (viewPath).
//
//go:embed openapi.json
var openAPIBase []byte

var openAPI = buildOpenAPI()

// OpenAPI returns the API's OpenAPI document.
func OpenAPI() []byte { return openAPI }

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}

// buildOpenAPI adds a path per registered view to the base document.
func buildOpenAPI() []byte {
	var doc map[string]any
	if err := json.Unmarshal(openAPIBase, &doc); err != nil {
		panic("api: openapi.json: " + err.Error())
	}
	paths := doc["paths"].(map[string]any)
	components := doc["components"].(map[string]any)["parameters"].(map[string]any)
	for _, v := range kpi.Views() {
		if _, ok := paths[v.Path]; ok {
			panic("api: openapi.json describes the view " + v.Path + ", which the registry makes")
		}
		paths[v.Path] = map[string]any{"get": viewOperation(v, components)}
	}
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		panic(err)
	}
	return b
}

// viewOperation is the GET operation of a view: its parameters, its JSON
// answer's schema and its CSV's columns.
func viewOperation(v *kpi.View, components map[string]any) map[string]any {
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/parameters/" + name} }
	var params []any
	if v.Request {
		for _, name := range []string{"from", "to", "tz", "hours", "segment", "format", "currency"} {
			params = append(params, ref(name))
		}
		for _, d := range kpi.Dimensions {
			if _, ok := components[d]; ok {
				params = append(params, ref(d))
			} else {
				params = append(params, map[string]any{"name": d, "in": "query", "required": false, "schema": map[string]any{"type": "string"},
					"description": "Only this " + d + " (comma-separated for several)"})
			}
		}
	} else {
		params = append(params, ref("format"))
	}
	for _, p := range v.Params {
		typ := p.Type
		if typ == "" {
			typ = "string"
		}
		schema := map[string]any{"type": typ}
		if len(p.Enum) > 0 {
			schema["enum"] = p.Enum
		}
		param := map[string]any{"name": p.Name, "in": "query", "description": p.Doc, "required": false, "schema": schema}
		if p.Example != "" {
			param["example"] = p.Example
		}
		params = append(params, param)
	}
	var answer map[string]any
	if v.Schema != "" {
		answer = map[string]any{"$ref": "#/components/schemas/" + v.Schema}
	} else {
		answer = map[string]any{"type": "object", "required": []any{v.List},
			"properties": map[string]any{v.List: map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/" + v.Item}}}}
	}
	errorAnswer := func(text string) map[string]any {
		return map[string]any{"description": text, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	}
	return map[string]any{
		"summary":     v.Summary,
		"description": "'omnikpi report --view " + v.Name + "' gives the same answer. " + csvColumns(v),
		"parameters":  params,
		"responses": map[string]any{
			"200": map[string]any{"description": "OK", "content": map[string]any{
				"application/json": map[string]any{"schema": answer},
				"text/csv":         map[string]any{"schema": map[string]any{"type": "string"}},
			}},
			"400": errorAnswer("A parameter is wrong; the error names it in field"),
			"401": errorAnswer("No valid key or session"),
			"403": errorAnswer("Another workspace was named, or a change lacks the CSRF token"),
		},
	}
}

// csvColumns describes a view's CSV: its columns, with their types, units
// and meaning.
func csvColumns(v *kpi.View) string {
	var cols []string
	for _, c := range v.Columns {
		s := c.Header() + ": " + c.Type
		if c.Unit == kpi.Count {
			s += ", a count"
		}
		if c.Doc != "" {
			s += ", " + c.Doc
		}
		cols = append(cols, s)
	}
	return "With format=csv, a row per entity, raw numbers, a column's unit in its header: " + strings.Join(cols, "; ") + "."
}
