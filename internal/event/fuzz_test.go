package event

import (
	"encoding/json"
	"testing"
)

// FuzzParseJSON feeds the event decoder arbitrary bytes: it must never
// panic, and an event it accepts must validate and encode.
func FuzzParseJSON(f *testing.F) {
	for _, seed := range []string{
		`{"id":"e1","ts":"2026-01-05T10:00:00Z","kind":"order_placed","order":"o1","amount":"12.34","currency":"EUR","customer":"+62 812 3456 7890"}`,
		`{"id":"e2","ts":1767607200,"kind":"message_read","channel":"whatsapp","message":"wamid.x","props":{"a":[1,2,{"b":null}]}}`,
		`{"id":"e3","ts":"2026-01-05T10:00:00Z","kind":"page_view","channel":"web","url":"https://x.example/?utm_source=ig&gclid=abc"}`,
		`{"id":"e4","ts":"2026-01-05","kind":"survey_answered","score":9,"props":{"survey":"nps"},"tags":["a","b"]}`,
		`{"id":"e5","ts":"2026-01-05T10:00:00Z","kind":"campaign_cost","amount":1e3,"currency":"JPY"}`,
		`[]`, `{}`, `{"id":`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseJSON(b)
		if err != nil {
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("accepted an invalid event: %v", err)
		}
		if _, err := json.Marshal(e); err != nil {
			t.Fatalf("accepted event cannot be encoded: %v", err)
		}
	})
}
