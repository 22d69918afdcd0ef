package whatsapp

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/store"
)

func TestSource_Verify(t *testing.T) {
	src := New(Settings{AppSecret: "new", AppSecrets: []string{"old"}})
	b := []byte(`{"object": "whatsapp_business_account", "entry": []}`)
	for _, tc := range []struct {
		name      string
		signature string
		missing   bool
		ok        bool
	}{
		{"signed with the secret", Sign(b, "new"), false, true},
		{"signed with a rotated secret", Sign(b, "old"), false, true},
		{"missing", "", true, false},
		{"another secret", Sign(b, "other"), false, false},
		{"garbage", "sha256=zz", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.signature != "" {
				h.Set(SignatureHeader, tc.signature)
			}
			err := src.Verify(h, b)
			var refused *ingest.VerifyError
			if tc.ok != (err == nil) || (err != nil && (!errors.As(err, &refused) || refused.Field != SignatureHeader || refused.Missing != tc.missing)) {
				t.Errorf("%v (%+v)", err, refused)
			}
		})
	}
}

func TestSource_Handshake(t *testing.T) {
	src := New(Settings{VerifyToken: "vt"})
	for _, tc := range []struct {
		name, query, want string
		ok                bool
	}{
		{"the verify token", "hub.mode=subscribe&hub.verify_token=vt&hub.challenge=42", "42", true},
		{"another token", "hub.mode=subscribe&hub.verify_token=no&hub.challenge=42", "", false},
		{"not subscribe", "hub.mode=unsubscribe&hub.verify_token=vt&hub.challenge=42", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			got, err := src.Handshake(q)
			var refused *ingest.VerifyError
			if got != tc.want || tc.ok != (err == nil) || (err != nil && (!errors.As(err, &refused) || refused.Field != "hub.verify_token")) {
				t.Errorf("%q, %v", got, err)
			}
		})
	}
	if err := New(Settings{}).Configured(); err == nil || !strings.Contains(err.Error(), "--whatsapp-*") {
		t.Errorf("no settings: %v", err)
	}
}

// TestSource_ParseAndParsePart: the source parses a body with its
// settings' routes and each workspace's stop words (here without the
// default 停止, which the campaign day's customer writes), and a change it
// could not route reads, once ingested from the quarantine, into the
// events it would have given in its webhook.
func TestSource_ParseAndParsePart(t *testing.T) {
	b, err := os.ReadFile("testdata/campaign_day.json")
	if err != nil {
		t.Fatal(err)
	}
	workspaces := func(name string) store.Workspace {
		ws := store.NewWorkspace(name)
		ws.StopWords = []string{"cukup"}
		return ws
	}
	mapped := New(Settings{PhoneNumbers: map[string]string{"410000000000001": "shop"}})
	want, err := mapped.Parse(b, workspaces)
	if err != nil || len(want.Events) != 10 || len(want.Unrouted) != 0 {
		t.Fatalf("mapped: %d events, %d unrouted, %v", len(want.Events), len(want.Unrouted), err)
	}
	for _, e := range want.Events {
		if e.Kind == "opted_out" {
			t.Errorf("the workspace's stop words are not the defaults, yet %s is an opt-out", e.ID)
		}
	}
	unmapped := New(Settings{})
	got, err := unmapped.Parse(b, workspaces)
	if err != nil || len(got.Events) != 0 || len(got.Unrouted) != 4 || len(got.Problems) != 4 {
		t.Fatalf("unmapped: %+v, %v", got, err)
	}
	plain, _ := Parse(b, Options{})
	events := got.Events
	for i, part := range got.Unrouted {
		u := plain.Unrouted[i]
		if part.ID != u.ID() || part.Keys != (ingest.Keys{Key: u.PhoneNumberID, Account: u.AccountID}) || part.Where != u.Where || string(part.Raw) != string(u.Change) {
			t.Errorf("part %d: %+v, want %+v", i, part, u)
		}
		if ws, ok := mapped.Route(part.Keys); !ok || ws != "shop" {
			t.Errorf("part %d routes to %q %v", i, ws, ok)
		}
		evs, err := unmapped.ParsePart(ingest.Part{ID: part.ID, Keys: part.Keys, Raw: part.Raw}, "shop", workspaces("shop"))
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, evs...)
	}
	if !reflect.DeepEqual(events, want.Events) {
		t.Errorf("the quarantined parts give\n%+v\nwant\n%+v", events, want.Events)
	}
}
