package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// FieldError says which field of an event is wrong and why.
type FieldError struct {
	Field  string // the field's name as in EVENTS.md; "" for the event as a whole
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// LineError places an error at a line of a file or request body.
type LineError struct {
	Line int // 1-based
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Limits on field sizes.
const (
	MaxIDLen    = 200
	MaxNameLen  = 1000    // any other identifier or dimension
	MaxTextLen  = 1 << 16 // text, in bytes
	MaxPropsLen = 1 << 16 // props, encoded as JSON, in bytes
)

// ParseJSON decodes and validates one JSON object in the generic format.
func ParseJSON(data []byte) (Event, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return Event{}, &FieldError{Reason: "malformed JSON: " + jsonReason(err)}
	}
	if dec.More() {
		return Event{}, &FieldError{Reason: "malformed JSON: more than one value"}
	}
	if m == nil {
		return Event{}, &FieldError{Reason: "an event must be a JSON object"}
	}
	return FromMap(m)
}

// jsonReason shortens encoding/json's messages to what a sender can act on.
func jsonReason(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return "an event must be a JSON object, not " + typeErr.Value
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// FromMap builds and validates an event from decoded JSON (numbers as
// json.Number) or from a CSV record, where every value is a string and props
// and tags are JSON text. Fields not in the format are kept in props.
func FromMap(m map[string]any) (Event, error) {
	var e Event
	var unknown map[string]any
	for key, v := range m {
		if v == nil {
			continue
		}
		if s, ok := v.(string); ok && s == "" {
			continue
		}
		if err := e.set(key, v); err != nil {
			if errors.Is(err, errUnknownField) {
				if unknown == nil {
					unknown = map[string]any{}
				}
				unknown[key] = v
				continue
			}
			return Event{}, err
		}
	}
	for k, v := range unknown {
		if e.Props == nil {
			e.Props = map[string]any{}
		}
		if _, taken := e.Props[k]; !taken {
			e.Props[k] = v
		}
	}
	if e.Count == 0 {
		if _, given := m["count"]; !given || m["count"] == "" {
			e.Count = 1
		}
	}
	e.applyURL()
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

var errUnknownField = errors.New("unknown field")

func (e *Event) set(key string, v any) error {
	str := func(dst *string, max int) error {
		s, ok := v.(string)
		if !ok {
			return fieldErr(key, "must be a string, not %s", typeName(v))
		}
		if len(s) > max {
			return fieldErr(key, "is %d bytes long, more than %d", len(s), max)
		}
		*dst = s
		return nil
	}
	switch key {
	case "id":
		return str(&e.ID, MaxIDLen)
	case "ts":
		t, err := parseTime(v)
		if err != nil {
			return fieldErr("ts", "%v", err)
		}
		e.TS = t
	case "kind":
		var s string
		if err := str(&s, MaxNameLen); err != nil {
			return err
		}
		e.Kind = Kind(s)
	case "workspace":
		return str(&e.Workspace, MaxNameLen)
	case "channel":
		return str(&e.Channel, MaxNameLen)
	case "customer":
		return str(&e.Customer, MaxNameLen)
	case "conversation":
		return str(&e.Conversation, MaxNameLen)
	case "message":
		return str(&e.Message, MaxNameLen)
	case "campaign":
		return str(&e.Campaign, MaxNameLen)
	case "template":
		return str(&e.Template, MaxNameLen)
	case "variant":
		return str(&e.Variant, MaxNameLen)
	case "actor":
		var s string
		if err := str(&s, MaxNameLen); err != nil {
			return err
		}
		e.Actor = Actor(s)
	case "agent":
		return str(&e.Agent, MaxNameLen)
	case "team":
		return str(&e.Team, MaxNameLen)
	case "order":
		return str(&e.Order, MaxNameLen)
	case "amount":
		text, err := numberText(v)
		if err != nil {
			return fieldErr("amount", "%v", err)
		}
		// The currency may come later in the map; keep the text and convert
		// in Validate, once both are known.
		if e.Amount == nil {
			e.Amount = &Money{}
		}
		e.pendingAmount = text
	case "currency":
		var s string
		if err := str(&s, 3); err != nil {
			return fieldErr("currency", "must be an ISO 4217 code such as EUR")
		}
		if e.Amount == nil {
			e.Amount = &Money{}
		}
		e.Amount.Currency = strings.ToUpper(s)
	case "score":
		text, err := numberText(v)
		if err != nil {
			return fieldErr("score", "%v", err)
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fieldErr("score", "%q is not a number", text)
		}
		e.Score = &f
	case "count":
		n, err := intOf(v)
		if err != nil || n < 0 {
			return fieldErr("count", "must be a whole number ≥ 0")
		}
		e.Count = n
	case "duration_ms":
		n, err := intOf(v)
		if err != nil || n < 0 {
			return fieldErr("duration_ms", "must be a whole number of milliseconds ≥ 0")
		}
		e.DurationMS = &n
	case "text":
		return str(&e.Text, MaxTextLen)
	case "tags":
		tags, err := stringList(v)
		if err != nil {
			return fieldErr("tags", "%v", err)
		}
		e.Tags = tags
	case "source":
		return str(&e.Source, MaxNameLen)
	case "medium":
		return str(&e.Medium, MaxNameLen)
	case "utm_campaign":
		return str(&e.UTMCampaign, MaxNameLen)
	case "utm_content":
		return str(&e.UTMContent, MaxNameLen)
	case "utm_term":
		return str(&e.UTMTerm, MaxNameLen)
	case "product":
		return str(&e.Product, MaxNameLen)
	case "platform":
		return str(&e.Platform, MaxNameLen)
	case "props":
		props, err := objectOf(v)
		if err != nil {
			return fieldErr("props", "%v", err)
		}
		for k, pv := range props {
			if e.Props == nil {
				e.Props = map[string]any{}
			}
			e.Props[k] = pv
		}
	default:
		return errUnknownField
	}
	return nil
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number, float64, int, int64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func stringOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// numberText accepts a JSON number or a decimal string (CSV, or senders that
// quote amounts to keep them exact).
func numberText(v any) (string, error) {
	switch x := v.(type) {
	case json.Number:
		return x.String(), nil
	case string:
		return strings.TrimSpace(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.Itoa(x), nil
	}
	return "", fmt.Errorf("must be a number or a decimal string, not %s", typeName(v))
}

func intOf(v any) (int64, error) {
	text, err := numberText(v)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(text, 10, 64)
}

// stringList accepts a JSON array of strings or, from CSV, its JSON text.
func stringList(v any) ([]string, error) {
	if s, ok := v.(string); ok {
		var out []string
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return nil, fmt.Errorf("must be a JSON array of strings")
		}
		return out, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be an array of strings, not %s", typeName(v))
	}
	out := make([]string, 0, len(arr))
	for i, item := range arr {
		s, ok := item.(string)
		if !ok {
			return nil, fmt.Errorf("item %d must be a string, not %s", i, typeName(item))
		}
		out = append(out, s)
	}
	return out, nil
}

// objectOf accepts a JSON object or, from CSV, its JSON text.
func objectOf(v any) (map[string]any, error) {
	if s, ok := v.(string); ok {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var out map[string]any
		if err := dec.Decode(&out); err != nil || out == nil {
			return nil, fmt.Errorf("must be a JSON object")
		}
		return out, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("must be an object, not %s", typeName(v))
	}
	return obj, nil
}

// Unix times below this are seconds, above it milliseconds: 1e11 seconds is
// the year 5138, 1e11 milliseconds is March 1973.
const secondsOrMillis = 1e11

// parseTime accepts RFC 3339 text or Unix seconds or milliseconds.
func parseTime(v any) (time.Time, error) {
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC().Truncate(time.Millisecond), nil
		}
		if !looksNumeric(s) {
			return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor Unix seconds or milliseconds", s)
		}
		v = json.Number(s)
	}
	text, err := numberText(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("must be an RFC 3339 time or a Unix time, not %s", typeName(v))
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return time.Time{}, fmt.Errorf("%q is not a valid Unix time", text)
	}
	if f < secondsOrMillis {
		return time.UnixMilli(int64(math.Round(f * 1000))).UTC(), nil
	}
	return time.UnixMilli(int64(math.Round(f))).UTC(), nil
}

var numericRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

func looksNumeric(s string) bool { return numericRE.MatchString(s) }
