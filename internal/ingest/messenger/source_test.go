package messenger

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/store"
)

func storeWorkspace() store.Workspace { return store.NewWorkspace("other") }

func TestSource_Verify(t *testing.T) {
	src := New(Settings{AppSecret: "new", AppSecrets: []string{"old"}})
	b := []byte(`{"object": "page", "entry": []}`)
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
		{"not hex", "sha256=zz", false, false},
		{"no sha256=", Sign(b, "new")[len("sha256="):], false, false},
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
	// The signature is of the bytes as sent: the same JSON written
	// otherwise is another body.
	if err := src.Verify(http.Header{SignatureHeader: {Sign(b, "new")}}, []byte(`{"object":"page","entry":[]}`)); err == nil {
		t.Error("a re-encoded body passed")
	}
}

func TestSource_Handshake(t *testing.T) {
	src := New(Settings{VerifyToken: "vt"})
	for _, tc := range []struct {
		name, query, want string
		ok                bool
	}{
		{"the verify token", "hub.mode=subscribe&hub.verify_token=vt&hub.challenge=1158201444", "1158201444", true},
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
	if _, err := New(Settings{}).Handshake(url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {""}}); err == nil {
		t.Error("an empty verify token was accepted")
	}
}

func TestSource_Settings(t *testing.T) {
	s := Settings{AppSecret: "s", VerifyToken: "v", Pages: map[string]string{pageID: "shop", "2": "b"},
		InstagramAccounts: map[string]string{igID: "shop"}, BotApps: []string{botApp}, CampaignApps: []string{adApp}}
	src := New(s)
	if err := src.Configured(); err != nil || s.Check() != nil {
		t.Fatal(err, s.Check())
	}
	if err := New(Settings{}).Configured(); err == nil {
		t.Error("an empty configuration is configured")
	}
	for _, tc := range []struct {
		app  string
		want event.Actor
	}{{botApp, event.ActorBot}, {adApp, event.ActorCampaign}, {inboxID, event.ActorAgent}, {"", event.ActorAgent}} {
		if got := src.actor(tc.app); got != tc.want {
			t.Errorf("app %q: %q, want %q", tc.app, got, tc.want)
		}
	}
	want := []ingest.Mapping{{Kind: "page", ID: pageID, Workspace: "shop"}, {Kind: "page", ID: "2", Workspace: "b"},
		{Kind: "instagram_account", ID: igID, Workspace: "shop"}}
	if got := src.Mappings(); !reflect.DeepEqual(got, want) {
		t.Errorf("mappings %+v", got)
	}
	if ws, ok := src.Route(ingest.Keys{Key: igID}); !ok || ws != "shop" {
		t.Errorf("route %q %v", ws, ok)
	}
	if _, ok := src.Route(ingest.Keys{Key: ""}); ok {
		t.Error("an empty id is routed")
	}
	for _, bad := range []Settings{
		{AppSecret: "s", Pages: map[string]string{"1": "a"}},
		{VerifyToken: "v", Pages: map[string]string{"1": "a"}},
		{AppSecret: "s", VerifyToken: "v"},
		{AppSecret: "s", VerifyToken: "v", Pages: map[string]string{"1": ""}},
	} {
		if bad.Check() == nil {
			t.Errorf("%+v passed the check", bad)
		}
	}
}
