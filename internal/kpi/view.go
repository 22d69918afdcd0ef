package kpi

import (
	"context"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// A View is one answer the engine gives: the KPI report, the unclosed
// conversations, the funnel, the cohorts… Each is one value, registered
// by the file that computes it, and everything that offers views takes
// them from the registry: the API's routes (GET Path), the CLI's
// --view Name, the OpenAPI document and the CSV export. Adding a view is
// its file here, a test script and its dashboard view.
type View struct {
	Name    string // the CLI's --view
	Path    string // the API route, GET
	Summary string // one line, for the OpenAPI document and the CLI's usage
	// Schema names the OpenAPI schema of the JSON answer
	// (#/components/schemas/Schema); empty for an inline list of Item
	// under List.
	Schema string
	// List and Item describe a JSON answer {List: [Item…]} when Schema is
	// empty.
	List, Item string
	// Request says the view reads a KPI request (period, time zone,
	// filters, segment, currency: FromValues); otherwise it takes only its
	// own Params.
	Request bool
	Params  []Param
	// Columns describe the table of the answer (Result.Table) for the
	// OpenAPI document; a column whose name ends in "*" stands for
	// several (one per KPI, model or currency).
	Columns []Column
	// Run computes the view.
	Run func(ctx context.Context, e *Engine, r Request, p Params) (Result, error)
	// New returns an empty result of the kind Run gives for p, for reading
	// one from its JSON (the CLI through a server).
	New func(p Params) Result
}

// A Param is a query parameter of a view (the CLI's flag of the same name,
// "_" written "-").
type Param struct {
	Name    string
	Doc     string
	Type    string // string (default) or integer
	Enum    []string
	Example string
	// Min and Max bound an integer; Default is the value when none is
	// given.
	Min, Max int
	Default  string
	// InRequest marks a parameter that FromValues reads into the Request
	// (kpi, group_by, lookback…): the view lists it because it uses it.
	InRequest bool
	// Check validates a value, naming the parameter in its RequestError.
	Check func(v string) error
}

// Params are a view's own parameters as given, defaults filled in.
type Params map[string]string

// Int returns an integer parameter (validated by Parse).
func (p Params) Int(name string) int { n, _ := strconv.Atoi(p[name]); return n }

// List returns a list parameter's values.
func (p Params) List(name string) []string { return list([]string{p[name]}) }

// Result is a view's answer: its JSON is the API's answer, its Table the
// CSV and the text.
type Result interface {
	Table() Table
}

// RequestParams are the query parameters FromValues reads, which every
// view with Request takes.
var RequestParams = append([]string{"from", "to", "kpi", "group_by", "bucket", "tz", "hours", "compare", "segment", "currency",
	"lookback", "half_life"}, Dimensions...)

var views []*View

// register adds a view.
func register(v View) *View {
	for _, x := range views {
		if x.Name == v.Name || x.Path == v.Path {
			panic("kpi: view " + v.Name + " registered twice")
		}
	}
	views = append(views, &v)
	return &v
}

// Views returns every registered view, by name.
func Views() []*View {
	out := slices.Clone(views)
	slices.SortFunc(out, func(a, b *View) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// ViewNamed returns the view called name.
func ViewNamed(name string) (*View, bool) {
	for _, v := range views {
		if v.Name == name {
			return v, true
		}
	}
	return nil, false
}

// ViewNames lists the names of the views.
func ViewNames() []string {
	var out []string
	for _, v := range Views() {
		out = append(out, v.Name)
	}
	return out
}

// Takes tells whether the view takes the query parameter name (besides
// workspace and format, which every view takes).
func (v *View) Takes(name string) bool {
	if v.Request && contains(RequestParams, name) {
		return true
	}
	for _, p := range v.Params {
		if p.Name == name {
			return true
		}
	}
	return false
}

// ParamNames are the names of the view's own parameters that FromValues
// does not read.
func (v *View) ParamNames() []string {
	var out []string
	for _, p := range v.Params {
		if !p.InRequest {
			out = append(out, p.Name)
		}
	}
	return out
}

// UnknownParamError is a query parameter a view does not take.
type UnknownParamError struct {
	Name  string
	Takes string // what the view takes, for the message
}

func (e *UnknownParamError) Error() string {
	return "unknown query parameter " + quote(e.Name) + ": takes " + e.Takes
}

// TakesText says which parameters the view takes, for an error message.
func (v *View) TakesText() string {
	var all []string
	if v.Request {
		all = append(all, "from", "to", "kpi", "group_by", "bucket", "tz", "hours", "compare", "segment", "currency", "lookback", "half_life", "a filter per dimension")
	}
	all = append(all, v.ParamNames()...)
	if len(all) == 0 {
		return "workspace and format"
	}
	return strings.Join(all, ", ") + ", format"
}

// Parse reads the view's request and parameters from query values
// (without workspace and format): a parameter it does not take is an
// UnknownParamError naming the first, in name order.
func (v *View) Parse(workspace string, q url.Values) (Request, Params, error) {
	var unknown []string
	for name := range q {
		if !v.Takes(name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Request{}, nil, &UnknownParamError{Name: unknown[0], Takes: v.TakesText()}
	}
	r := Request{Workspace: workspace}
	if v.Request {
		var err error
		if r, err = FromValues(workspace, q); err != nil {
			return r, nil, err
		}
	}
	p := Params{}
	for _, par := range v.Params {
		if par.InRequest {
			continue
		}
		val := strings.Join(q[par.Name], ",")
		if val == "" {
			p[par.Name] = par.Default
			continue
		}
		if err := par.check(val); err != nil {
			return r, nil, err
		}
		p[par.Name] = val
	}
	return r, p, nil
}

func (p Param) check(v string) error {
	if p.Type == "integer" {
		n, err := strconv.Atoi(v)
		if err != nil || n < p.Min || n > p.Max {
			return &RequestError{Field: p.Name, Reason: "must be a whole number from " + strconv.Itoa(p.Min) + " to " + strconv.Itoa(p.Max)}
		}
	}
	if p.Check != nil {
		return p.Check(v)
	}
	return nil
}

// Compute parses q for the view and runs it.
func (v *View) Compute(ctx context.Context, e *Engine, workspace string, q url.Values) (Result, error) {
	r, p, err := v.Parse(workspace, q)
	if err != nil {
		return nil, err
	}
	return v.Run(ctx, e, r, p)
}
