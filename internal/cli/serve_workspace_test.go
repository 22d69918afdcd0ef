package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_WebhookWorkspacesExist: a workspace that only the WhatsApp
// configuration names exists once serve has started, so a report through
// the running server finds it instead of answering that it does not exist.
func TestServe_WebhookWorkspacesExist(t *testing.T) {
	db := filepath.Join(t.TempDir(), "omnikpi.duckdb")
	config := writeFile(t, "omnikpi.json", `{"whatsapp": {"app_secret": "s3cret", "verify_token": "vt",
		"phone_numbers": {"410000000000001": "fresh"}, "business_accounts": {"310000000000001": "other"}}}`)
	cmd, _ := startServer(t, db, "--config", config)
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	for _, ws := range []string{"fresh", "other"} {
		code, out, errOut := run(t, "report", "--db", db, "--workspace", ws, "--kpi", "messages_sent")
		if code != 0 || !strings.Contains(errOut, "going through its API") || !strings.Contains(out, "Workspace "+ws) {
			t.Errorf("report on %s through the server: exit %d, %q, %q", ws, code, out, errOut)
		}
	}
}
