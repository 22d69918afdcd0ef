package store

import (
	"context"
	"encoding/json"
	"time"
)

// QuarantinedPart is a part of a webhook that no workspace was configured
// for when it came (a WhatsApp change for a phone number id no workspace
// maps), kept as it was sent until it can be ingested.
type QuarantinedPart struct {
	ID            string          `json:"id"` // derived from the content: a re-sent part is kept once
	Source        string          `json:"source"`
	PhoneNumberID string          `json:"phone_number_id"`
	AccountID     string          `json:"business_account"`
	Received      time.Time       `json:"received"`
	Part          json.RawMessage `json:"part"`
	// Ingested is when the part's events were handed to the store, and
	// Workspace where; zero while it waits.
	Ingested  time.Time `json:"ingested,omitzero"`
	Workspace string    `json:"workspace,omitempty"`
}

// Quarantine keeps webhook parts that belong to no workspace yet.
// Both stores implement it.
type Quarantine interface {
	// Quarantine keeps parts durably; a part whose id is kept already is
	// left as it is.
	Quarantine(ctx context.Context, parts []QuarantinedPart) error
	// QuarantinedParts lists every part kept, oldest first.
	QuarantinedParts(ctx context.Context) ([]QuarantinedPart, error)
	// MarkIngested records parts, with Ingested and Workspace set, as
	// ingested.
	MarkIngested(ctx context.Context, parts []QuarantinedPart) error
}
