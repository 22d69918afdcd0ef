// Package audit records who changed what: keys, users, settings, rate
// cards, alert rules, erasures and retention runs. The trail lives in the
// store (store.AuditEntry), in a table of its own that erasing a customer
// does not touch, and is read with GET /v1/audit and omnikpi audit.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
)

// Actions recorded. A new kind of change gets its name here, as
// THING.VERB, so that ?action=THING selects all of them.
const (
	KeyCreate       = "key.create"
	KeyRotate       = "key.rotate"
	KeyRevoke       = "key.revoke"
	UserPut         = "user.put"
	UserRemove      = "user.remove"
	WorkspaceUpdate = "workspace.update" // settings, rate card, business hours…
	AlertPut        = "alert.put"
	LinkCreate      = "link.create"
	AlertRemove     = "alert.remove"
	CustomerErase   = "customer.erase"
	WorkspaceErase  = "workspace.erase"
	RetentionApply  = "retention.apply"
)

// Recorder keeps the trail; every store.Store is one.
type Recorder interface {
	AddAudit(ctx context.Context, entries ...store.AuditEntry) error
}

type actorKey struct{}

// As returns ctx acting as who: "key ok_abcdefg (shopify)", "user alice",
// "admin token", "cli alice". The API puts the authenticated caller in
// each request's context; a command working on the store itself puts the
// system user who runs it.
func As(ctx context.Context, who string) context.Context {
	return context.WithValue(ctx, actorKey{}, who)
}

// Who is the actor of ctx, "system" when none was set (such as serve's own
// scheduled work).
func Who(ctx context.Context) string {
	if who, ok := ctx.Value(actorKey{}).(string); ok && who != "" {
		return who
	}
	return "system"
}

// Record appends one entry to the trail: Who(ctx) did action to target
// (a key's prefix, a user's name, an alert rule's id, a customer…) of
// workspace, now. details, when not nil, is stored as JSON and must be an
// object (a struct or a map); keep personal data out of it, as the trail
// outlives erasures: name a customer by the hash omnikpi stores.
func Record(ctx context.Context, r Recorder, workspace, action, target string, details any) error {
	e := store.AuditEntry{ID: newID(), Time: time.Now().UTC(), Workspace: workspace, Actor: Who(ctx),
		Action: action, Target: target, Details: "{}"}
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return fmt.Errorf("audit %s: encode details: %w", action, err)
		}
		if len(b) == 0 || b[0] != '{' {
			return fmt.Errorf("audit %s: details must be a JSON object, not %s", action, b)
		}
		e.Details = string(b)
	}
	if err := r.AddAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
