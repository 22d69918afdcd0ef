package messenger

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Settings configure the Messenger and Instagram messaging webhook at
// /webhooks/messenger: the "messenger" object of serve's configuration
// file.
type Settings struct {
	// AppSecret is the Meta app's secret, the key of X-Hub-Signature-256.
	// Several may be given while a secret is being rotated, or for several
	// apps posting to one omnikpi.
	AppSecret  string   `json:"app_secret"`
	AppSecrets []string `json:"app_secrets,omitempty"`
	// VerifyToken is the token typed into the app's webhook settings,
	// echoed back by the GET handshake.
	VerifyToken string `json:"verify_token"`
	// Pages maps a Facebook Page id (the entry id of object "page") to the
	// workspace its conversations belong to.
	Pages map[string]string `json:"pages,omitempty"`
	// InstagramAccounts maps an Instagram professional account id (the
	// entry id of object "instagram") to a workspace.
	InstagramAccounts map[string]string `json:"instagram_accounts,omitempty"`
	// BotApps are the ids of the apps whose messages are a bot's (an echo
	// names the app that sent it); CampaignApps those of the apps that send
	// campaigns. Every other echo, such as one from Meta's inbox or a
	// help desk, is an agent's.
	BotApps      []string `json:"bot_apps,omitempty"`
	CampaignApps []string `json:"campaign_apps,omitempty"`
}

// Enabled reports whether the webhook is configured at all.
func (s Settings) Enabled() bool {
	return s.AppSecret != "" || len(s.AppSecrets) > 0 || s.VerifyToken != "" || len(s.Pages) > 0 || len(s.InstagramAccounts) > 0
}

// Secrets lists every accepted app secret.
func (s Settings) Secrets() []string {
	var out []string
	for _, secret := range append([]string{s.AppSecret}, s.AppSecrets...) {
		if secret != "" {
			out = append(out, secret)
		}
	}
	return out
}

// Check names what is missing or wrong once any setting is given.
func (s Settings) Check() error {
	if !s.Enabled() {
		return nil
	}
	var missing []string
	if len(s.Secrets()) == 0 {
		missing = append(missing, "messenger.app_secret")
	}
	if s.VerifyToken == "" {
		missing = append(missing, "messenger.verify_token")
	}
	if len(s.Pages)+len(s.InstagramAccounts) == 0 {
		missing = append(missing, "messenger.pages or messenger.instagram_accounts")
	}
	if len(missing) > 0 {
		return fmt.Errorf("the Messenger webhook needs %s", strings.Join(missing, ", "))
	}
	for _, m := range []struct {
		name string
		ids  map[string]string
	}{{"pages", s.Pages}, {"instagram_accounts", s.InstagramAccounts}} {
		for _, id := range slices.Sorted(maps.Keys(m.ids)) {
			if strings.TrimSpace(id) == "" || strings.TrimSpace(m.ids[id]) == "" {
				return fmt.Errorf("messenger.%s: %q → %q: both the id and the workspace are required", m.name, id, m.ids[id])
			}
		}
	}
	return nil
}

// Route names the workspace of an entry by its id: a Page's, else an
// Instagram account's.
func (s Settings) Route(id string) (string, bool) {
	if id == "" {
		return "", false
	}
	if ws, ok := s.Pages[id]; ok {
		return ws, true
	}
	ws, ok := s.InstagramAccounts[id]
	return ws, ok
}
