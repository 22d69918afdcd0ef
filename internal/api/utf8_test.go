package api_test

import (
	"context"
	"testing"
)

// TestPostEvents_NotUTF8 rejects an event whose text is not UTF-8, naming
// its line and field, instead of storing it as U+FFFD; the others are kept.
func TestPostEvents_NotUTF8(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		body := `{"id":"u1","ts":"2026-01-05T10:00:00Z","kind":"feedback","text":"café"}` + "\n" +
			`{"id":"u2","ts":"2026-01-05T10:00:00Z","kind":"feedback","text":"caf` + "\xe9" + `"}`
		ans, status, err := applied(s.url, s.keyA).PostEvents(context.Background(), []byte(body), "application/x-ndjson")
		if err != nil || status != 200 || ans.Accepted+ans.Queued != 1 || len(ans.Rejected) != 1 {
			t.Fatalf("status %d, %+v, %v", status, ans, err)
		}
		if r := ans.Rejected[0]; r.Line != 2 || r.ID != "u2" || r.Field != "text" ||
			r.Reason != "not valid UTF-8: byte 0xE9 at column 69" {
			t.Errorf("rejected %+v", r)
		}
		if n := s.count(t, "id = 'u2'"); n != 0 {
			t.Errorf("u2 stored")
		}
	})
}
