package whatsapp

// Settings configure the Cloud API webhook at /webhooks/whatsapp: the
// "whatsapp" object of serve's configuration file (config.WhatsApp).
type Settings struct {
	// AppSecret is the Meta app's secret, the key of X-Hub-Signature-256.
	// Several may be given while a secret is being rotated.
	AppSecret  string   `json:"app_secret"`
	AppSecrets []string `json:"app_secrets,omitempty"`
	// VerifyToken is the token typed into the app's webhook settings,
	// echoed back by the GET handshake.
	VerifyToken string `json:"verify_token"`
	// PhoneNumbers maps a business phone number id (metadata.phone_number_id)
	// to the workspace its events belong to.
	PhoneNumbers map[string]string `json:"phone_numbers"`
	// BusinessAccounts maps a WhatsApp Business Account id (the entry id) to
	// a workspace: for account-level changes, and for numbers not listed.
	BusinessAccounts map[string]string `json:"business_accounts"`
}

// Enabled reports whether the webhook is configured at all.
func (w Settings) Enabled() bool {
	return w.AppSecret != "" || len(w.AppSecrets) > 0 || w.VerifyToken != "" || len(w.PhoneNumbers) > 0 || len(w.BusinessAccounts) > 0
}

// Secrets lists every accepted app secret.
func (w Settings) Secrets() []string {
	out := append([]string{}, w.AppSecrets...)
	if w.AppSecret != "" {
		out = append(out, w.AppSecret)
	}
	return out
}

// Route names the workspace of a change: by its phone number id, else by
// its business account.
func (w Settings) Route(phoneNumberID, accountID string) (string, bool) {
	if ws, ok := w.PhoneNumbers[phoneNumberID]; ok && phoneNumberID != "" {
		return ws, true
	}
	ws, ok := w.BusinessAccounts[accountID]
	return ws, ok && accountID != ""
}
