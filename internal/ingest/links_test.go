package ingest

import (
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

// TestPrepare_LeadsBesideTheBatch: readying one event of a larger batch
// adds its link's lead without overwriting the batch's next event, and a
// reference no link has, or a link of another channel, gives none.
func TestPrepare_LeadsBesideTheBatch(t *testing.T) {
	ws := store.NewWorkspace("w")
	ws.ChatLinks = []store.ChatLink{{Ref: "K7QF2M", Channel: "whatsapp", To: "+6281234567890", Source: "qr_poster"},
		{Ref: "FB2345", Channel: "facebook", To: "shop", Source: "site_button"}}
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	batch := []event.Event{
		{ID: "a", Workspace: "w", TS: at, Kind: event.MessageReceived, Channel: "whatsapp", Customer: "+62 812 0000 0001", Message: "m1", Text: "Hello (ref k7qf2m)", Count: 1},
		{ID: "b", Workspace: "w", TS: at, Kind: event.MessageReceived, Channel: "whatsapp", Customer: "k2", Message: "m2", Text: "(ref FB2345) (ref ZZZZZZ)", Count: 1},
	}
	got := Prepare(batch[0:1], ws)
	if len(got) != 2 || got[1].Kind != event.LeadCreated || got[1].Source != "qr_poster" || got[1].ID != "link:K7QF2M:m1" ||
		got[1].Customer != HashPhone("6281200000001", "w") || !got[1].TS.Equal(at) {
		t.Fatalf("prepared %+v", got)
	}
	if batch[1].ID != "b" {
		t.Fatalf("the batch's next event was overwritten: %+v", batch[1])
	}
	if got := Prepare(batch[1:2], ws); len(got) != 1 {
		t.Errorf("a Messenger link's reference or an unknown one in a WhatsApp message made a lead: %+v", got)
	}
}
