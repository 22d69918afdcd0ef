// Package metaanalytics reads Meta's own figures for a WhatsApp Business
// Account, the Graph API's pricing_analytics and template_analytics
// answers as Meta returns them, into events, so that omnikpi's counts and
// costs can be set beside Meta's (the reconciliation view).
//
// Meta's figures are stored as channel_event events on channel whatsapp,
// props.type meta_pricing_analytics or meta_template_analytics, one per
// data point, through the normal ingestion path. Kept as events they are
// durable in the journal, on both stores with no schema of their own,
// erased with their workspace and expired by its retention like any
// other event; channel_event is already the kind of "what a channel
// reports", which no KPI counts, so the closed set of kinds and every
// client stay as they are. A data point's id is a digest of its bucket and
// breakdown (props.key) and of its figures: importing the same answer
// twice stores it once, and an answer with revised figures for a bucket
// is kept beside the old one, the reconciliation reading the latest
// fetched (props.fetched_ms).
package metaanalytics

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
)

// Props.type of the events.
const (
	PricingType  = "meta_pricing_analytics"
	TemplateType = "meta_template_analytics"
)

// Options are what the file does not say.
type Options struct {
	Workspace string
	// Currency is the account's currency, which Meta's costs are in, when
	// the answer does not carry the account's currency field.
	Currency string
	// Templates names Meta's template ids as the sending system names
	// the templates in message_sent events (template_id → name); an id
	// not named keeps its id as name.
	Templates map[string]string
	// FetchedAt is when the answer was taken from Meta (now when zero):
	// the latest answer for a bucket wins.
	FetchedAt time.Time
}

// Error names the place in the file and what is wrong there.
type Error struct {
	Path   string // a JSON path such as pricing_analytics.data[0].data_points[2].cost
	Line   int    // 1-based; 0 when unknown
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
	}
	if e.Line > 0 {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "(line %d)", e.Line)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Result is a file read into events.
type Result struct {
	Events            []event.Event
	Pricing, Template int // data points of each answer
}

var (
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	countryRE  = regexp.MustCompile(`^[A-Z]{2}$`)
	nameRE     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
)

// Parse reads a saved Graph API answer: an object with pricing_analytics
// and/or template_analytics (GET /WABA_ID?fields=…), or the answer of the
// /WABA_ID/template_analytics or /WABA_ID/pricing_analytics edge, whose
// data lists the data points. The account's currency field, when
// present, is the currency of the costs.
func Parse(data []byte, opts Options) (Result, error) {
	root, err := readTree(data)
	if err != nil {
		return Result{}, err
	}
	p := &parser{data: data, opts: opts, fetched: opts.FetchedAt}
	if p.fetched.IsZero() {
		p.fetched = time.Now()
	}
	if root.kind != kindObject {
		return Result{}, p.errAt(root, "", "the file must be a JSON object, Meta's answer as the Graph API returns it, not "+root.kindName())
	}
	p.currency = strings.ToUpper(strings.TrimSpace(opts.Currency))
	if opts.Currency != "" && !currencyRE.MatchString(p.currency) {
		return Result{}, &Error{Reason: fmt.Sprintf("currency %q is not an ISO 4217 code such as USD", opts.Currency)}
	}
	if c := root.field("currency"); c != nil {
		if c.kind != kindString || !currencyRE.MatchString(c.str) {
			return Result{}, p.errAt(c, "currency", "the account's currency must be an ISO 4217 code such as USD")
		}
		if p.currency != "" && p.currency != c.str {
			return Result{}, p.errAt(c, "currency", fmt.Sprintf("the account's currency is %s, but %s was given", c.str, p.currency))
		}
		p.currency = c.str
	}
	if id := root.field("id"); id != nil {
		if id.kind != kindString && id.kind != kindNumber {
			return Result{}, p.errAt(id, "id", "the account id must be a string")
		}
		p.waba = id.text()
	}
	found := false
	for _, name := range []string{"pricing_analytics", "template_analytics"} {
		if n := root.field(name); n != nil {
			found = true
			if err := p.answer(n, name); err != nil {
				return Result{}, err
			}
		}
	}
	if n := root.field("data"); n != nil {
		found = true
		if err := p.dataList(n, "data"); err != nil {
			return Result{}, err
		}
	}
	if !found {
		return Result{}, p.errAt(root, "", "no pricing_analytics, template_analytics or data in the file: save Meta's answer to GET /WABA_ID?fields=pricing_analytics.… or /WABA_ID/template_analytics")
	}
	if p.costs > 0 && p.currency == "" {
		return Result{}, &Error{Reason: "Meta's costs are in the account's currency, which the file does not carry: give it (--currency USD, or ask Meta for fields=currency,…)"}
	}
	for i := range p.res.Events {
		if p.res.Events[i].Prop("cost") != "" {
			p.res.Events[i].Props["currency"] = p.currency
		}
	}
	return p.res, nil
}

type parser struct {
	data     []byte
	opts     Options
	fetched  time.Time
	currency string
	waba     string
	costs    int
	res      Result
}

func (p *parser) errAt(n *node, path, reason string) error {
	return &Error{Path: path, Line: lineOf(p.data, n.off), Reason: reason}
}

// answer reads {"data": [...]} of one field.
func (p *parser) answer(n *node, path string) error {
	if n.kind == kindArray { // some clients save the list alone
		return p.dataList(n, path)
	}
	if n.kind != kindObject {
		return p.errAt(n, path, "must be an object with data, not "+n.kindName())
	}
	d := n.field("data")
	if d == nil {
		return p.errAt(n, path, "has no data")
	}
	return p.dataList(d, path+".data")
}

func (p *parser) dataList(n *node, path string) error {
	if n.kind != kindArray {
		return p.errAt(n, path, "must be a list, not "+n.kindName())
	}
	for i, item := range n.arr {
		ip := fmt.Sprintf("%s[%d]", path, i)
		if item.kind != kindObject {
			return p.errAt(item, ip, "must be an object with data_points, not "+item.kindName())
		}
		pts := item.field("data_points")
		if pts == nil {
			return p.errAt(item, ip, "has no data_points")
		}
		if pts.kind != kindArray {
			return p.errAt(pts, ip+".data_points", "must be a list, not "+pts.kindName())
		}
		product := ""
		if pt := item.field("product_type"); pt != nil && pt.kind == kindString {
			product = pt.str
		}
		for j, pt := range pts.arr {
			pp := fmt.Sprintf("%s.data_points[%d]", ip, j)
			if pt.kind != kindObject {
				return p.errAt(pt, pp, "must be an object, not "+pt.kindName())
			}
			var err error
			if pt.field("template_id") != nil {
				err = p.templatePoint(pt, pp, product)
			} else {
				err = p.pricingPoint(pt, pp)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// bucket reads a data point's start and end (Unix seconds): a bucket of
// one UTC day at most, as Meta answers with granularity DAILY or
// HALF_HOUR.
func (p *parser) bucket(pt *node, path string) (time.Time, time.Time, error) {
	var out [2]int64
	for i, name := range []string{"start", "end"} {
		n := pt.field(name)
		if n == nil {
			return time.Time{}, time.Time{}, p.errAt(pt, path, "has no "+name+" (Unix seconds)")
		}
		v, err := n.int()
		if err != nil || v < 0 {
			return time.Time{}, time.Time{}, p.errAt(n, path+"."+name, "must be a time in Unix seconds, not "+n.text())
		}
		out[i] = v
	}
	start, end := out[0], out[1]
	if end <= start {
		return time.Time{}, time.Time{}, p.errAt(pt.field("end"), path+".end", "must be after start")
	}
	if start/86400 != (end-1)/86400 {
		return time.Time{}, time.Time{}, p.errAt(pt.field("end"), path+".end",
			fmt.Sprintf("the bucket %s to %s is not within one UTC day: ask Meta with granularity DAILY (or HALF_HOUR)",
				time.Unix(start, 0).UTC().Format(time.RFC3339), time.Unix(end, 0).UTC().Format(time.RFC3339)))
	}
	return time.Unix(start, 0).UTC(), time.Unix(end, 0).UTC(), nil
}

// count reads a whole number ≥ 0; absent is -1.
func (p *parser) count(pt *node, path, name string) (int64, error) {
	n := pt.field(name)
	if n == nil {
		return -1, nil
	}
	v, err := n.int()
	if err != nil || v < 0 {
		return 0, p.errAt(n, path+"."+name, "must be a whole number ≥ 0, not "+n.text())
	}
	return v, nil
}

// money reads a cost: a decimal ≥ 0 in the account's currency, kept as
// exact decimal text.
func (p *parser) money(n *node, path string) (string, error) {
	if n.kind != kindNumber {
		return "", p.errAt(n, path, "must be a number, not "+n.kindName())
	}
	r, ok := new(big.Rat).SetString(n.num)
	if !ok || r.Sign() < 0 {
		return "", p.errAt(n, path, "must be a cost ≥ 0, not "+n.num)
	}
	p.costs++
	return decimalText(r), nil
}

// label reads an optional upper-case name of Meta's (MARKETING,
// FREE_CUSTOMER_SERVICE) as omnikpi writes it: lower case, as the webhook
// sends it.
func (p *parser) label(pt *node, path, name string) (string, error) {
	n := pt.field(name)
	if n == nil {
		return "", nil
	}
	if n.kind != kindString || !nameRE.MatchString(n.str) {
		return "", p.errAt(n, path+"."+name, "must be a name such as MARKETING, not "+n.text())
	}
	return strings.ToLower(n.str), nil
}

func (p *parser) text(pt *node, path, name string) (string, error) {
	n := pt.field(name)
	if n == nil {
		return "", nil
	}
	if n.kind != kindString && n.kind != kindNumber {
		return "", p.errAt(n, path+"."+name, "must be a string, not "+n.kindName())
	}
	return n.text(), nil
}

func (p *parser) pricingPoint(pt *node, path string) error {
	start, end, err := p.bucket(pt, path)
	if err != nil {
		return err
	}
	props := map[string]any{"type": PricingType}
	for _, name := range []string{"pricing_category", "pricing_type"} {
		v, err := p.label(pt, path, name)
		if err != nil {
			return err
		}
		if v != "" {
			props[name] = v
		}
	}
	country, err := p.text(pt, path, "country")
	if err != nil {
		return err
	}
	if country != "" {
		if !countryRE.MatchString(country) {
			return p.errAt(pt.field("country"), path+".country", fmt.Sprintf("%q is not a two-letter country code such as IN", country))
		}
		props["country"] = country
	}
	for _, name := range []string{"phone_number", "tier"} {
		v, err := p.text(pt, path, name)
		if err != nil {
			return err
		}
		if v != "" {
			props[name] = v
		}
	}
	volume, err := p.count(pt, path, "volume")
	if err != nil {
		return err
	}
	if volume < 0 {
		return p.errAt(pt, path, "has no volume (the delivered messages of the bucket)")
	}
	props["volume"] = volume
	if c := pt.field("cost"); c != nil {
		cost, err := p.money(c, path+".cost")
		if err != nil {
			return err
		}
		props["cost"] = cost
	}
	key := []string{"pricing", p.waba, fmt.Sprint(start.Unix(), end.Unix()), str(props, "pricing_category"), str(props, "pricing_type"),
		str(props, "country"), str(props, "phone_number"), str(props, "tier")}
	p.add(key, start, end, "", props)
	p.res.Pricing++
	return nil
}

func (p *parser) templatePoint(pt *node, path, product string) error {
	start, end, err := p.bucket(pt, path)
	if err != nil {
		return err
	}
	id, err := p.text(pt, path, "template_id")
	if err != nil || id == "" {
		if err == nil {
			err = p.errAt(pt.field("template_id"), path+".template_id", "must not be empty")
		}
		return err
	}
	props := map[string]any{"type": TemplateType, "template_id": id}
	if product != "" {
		props["product_type"] = product
	}
	for _, name := range []string{"sent", "delivered", "read"} {
		v, err := p.count(pt, path, name)
		if err != nil {
			return err
		}
		if v >= 0 {
			props[name] = v
		}
	}
	if c := pt.field("clicked"); c != nil {
		n, err := p.clicks(c, path+".clicked")
		if err != nil {
			return err
		}
		props["clicked"] = n
	}
	if c := pt.field("cost"); c != nil {
		cost, err := p.spent(c, path+".cost")
		if err != nil {
			return err
		}
		if cost != "" {
			props["cost"] = cost
		}
	}
	name := id
	if n := p.opts.Templates[id]; n != "" {
		name = n
	}
	key := []string{"template", p.waba, fmt.Sprint(start.Unix(), end.Unix()), id}
	p.add(key, start, end, name, props)
	p.res.Template++
	return nil
}

// clicks adds up a data point's clicked list, Meta's clicks per button
// ({type, button_content, count}); a plain number is taken as it is.
func (p *parser) clicks(c *node, path string) (int64, error) {
	if c.kind == kindNumber {
		v, err := c.int()
		if err != nil || v < 0 {
			return 0, p.errAt(c, path, "must be a whole number ≥ 0, not "+c.num)
		}
		return v, nil
	}
	if c.kind != kindArray {
		return 0, p.errAt(c, path, "must be a list of {type, button_content, count}, not "+c.kindName())
	}
	var total int64
	for i, b := range c.arr {
		bp := fmt.Sprintf("%s[%d]", path, i)
		if b.kind != kindObject {
			return 0, p.errAt(b, bp, "must be an object {type, button_content, count}, not "+b.kindName())
		}
		v, err := p.count(b, bp, "count")
		if err != nil {
			return 0, err
		}
		if v < 0 {
			return 0, p.errAt(b, bp, "has no count")
		}
		total += v
	}
	return total, nil
}

// spent reads amount_spent from a data point's cost list
// ([{type, value}]); "" when Meta gave no value.
func (p *parser) spent(c *node, path string) (string, error) {
	if c.kind != kindArray {
		return "", p.errAt(c, path, "must be a list of {type, value}, not "+c.kindName())
	}
	for i, item := range c.arr {
		ip := fmt.Sprintf("%s[%d]", path, i)
		if item.kind != kindObject {
			return "", p.errAt(item, ip, "must be an object {type, value}, not "+item.kindName())
		}
		t := item.field("type")
		if t == nil || t.kind != kindString {
			return "", p.errAt(item, ip, "has no type (amount_spent, cost_per_delivered, …)")
		}
		v := item.field("value")
		if !strings.EqualFold(t.str, "amount_spent") || v == nil {
			continue
		}
		return p.money(v, ip+".value")
	}
	return "", nil
}

// add appends the event of one data point.
func (p *parser) add(key []string, start, end time.Time, template string, props map[string]any) {
	props["key"] = digest(strings.Join(key, "\x00"))
	props["end_ms"] = end.UnixMilli()
	props["fetched_ms"] = p.fetched.UnixMilli()
	if p.waba != "" {
		props["waba"] = p.waba
	}
	figures, _ := json.Marshal(map[string]any{"sent": props["sent"], "delivered": props["delivered"], "read": props["read"],
		"clicked": props["clicked"], "volume": props["volume"], "cost": props["cost"], "currency": p.currency, "template": template})
	kind := "pricing"
	if props["type"] == TemplateType {
		kind = "template"
	}
	p.res.Events = append(p.res.Events, event.Event{
		ID: "meta:" + kind + ":" + props["key"].(string) + ":" + digest(string(figures))[:12], TS: start, Kind: event.ChannelEvent,
		Workspace: p.opts.Workspace, Channel: "whatsapp", Template: template, Count: 1, Props: props,
	})
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:12])
}

// decimalText writes r, the value of a decimal literal, as a plain
// decimal.
func decimalText(r *big.Rat) string {
	for digits := 0; digits <= 30; digits++ {
		s := r.FloatString(digits)
		if back, ok := new(big.Rat).SetString(s); ok && back.Cmp(r) == 0 {
			return s
		}
	}
	return r.FloatString(30)
}

// The file as a tree whose nodes know their offset, for errors that name
// the line.

type nodeKind uint8

const (
	kindNull nodeKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

type node struct {
	kind   nodeKind
	off    int64
	str    string
	num    string
	b      bool
	arr    []*node
	fields map[string]*node
}

func (n *node) field(name string) *node {
	if n == nil || n.kind != kindObject {
		return nil
	}
	return n.fields[name]
}

func (n *node) kindName() string {
	return [...]string{"null", "a boolean", "a number", "a string", "a list", "an object"}[n.kind]
}

func (n *node) text() string {
	switch n.kind {
	case kindString:
		return n.str
	case kindNumber:
		return n.num
	case kindBool:
		return strconv.FormatBool(n.b)
	}
	return n.kindName()
}

// int reads a whole number, written as a number or a numeric string
// (Meta writes some as strings).
func (n *node) int() (int64, error) {
	switch n.kind {
	case kindNumber, kindString:
		s := n.num
		if n.kind == kindString {
			s = n.str
		}
		return strconv.ParseInt(s, 10, 64)
	}
	return 0, errors.New("not a number")
}

func readTree(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	root, err := readNode(dec, data)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &Error{Line: lineOf(data, dec.InputOffset()), Reason: "more after the answer's object: the file must hold one JSON answer"}
	}
	return root, nil
}

func readNode(dec *json.Decoder, data []byte) (*node, error) {
	off := dec.InputOffset()
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxErr(data, dec, err)
	}
	n := &node{off: skipSpace(data, off)}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			n.kind = kindArray
			for dec.More() {
				c, err := readNode(dec, data)
				if err != nil {
					return nil, err
				}
				n.arr = append(n.arr, c)
			}
		case '{':
			n.kind, n.fields = kindObject, map[string]*node{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, syntaxErr(data, dec, err)
				}
				c, err := readNode(dec, data)
				if err != nil {
					return nil, err
				}
				n.fields[kt.(string)] = c
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, syntaxErr(data, dec, err)
		}
	case string:
		n.kind, n.str = kindString, t
	case json.Number:
		n.kind, n.num = kindNumber, t.String()
	case bool:
		n.kind, n.b = kindBool, t
	case nil:
		n.kind = kindNull
	}
	return n, nil
}

func syntaxErr(data []byte, dec *json.Decoder, err error) error {
	off := dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &Error{Line: lineOf(data, int64(len(data))), Reason: "the JSON ends too early"}
	}
	return &Error{Line: lineOf(data, off), Reason: "not valid JSON: " + err.Error()}
}

// skipSpace moves off past white space and a separator to the value it
// precedes.
func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) && strings.IndexByte(" \t\r\n,:", data[off]) >= 0 {
		off++
	}
	return off
}

func lineOf(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// TemplateNames reads ID=NAME pairs (the CLI's --template, the API's
// template=) into Options.Templates.
func TemplateNames(pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		for _, pair := range strings.Split(p, ",") {
			id, name, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok || id == "" || name == "" {
				return nil, fmt.Errorf("template %q: want Meta's template id = the template's name, such as 1421988012088524=spring_sale", pair)
			}
			if old, dup := out[id]; dup && old != name {
				return nil, fmt.Errorf("template %s is named twice: %s and %s", id, old, name)
			}
			out[id] = name
		}
	}
	return out, nil
}
