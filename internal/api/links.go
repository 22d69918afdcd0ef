package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/audit"
	"github.com/omnikpi/omnikpi/internal/store"
)

// ChatLinkAnswer is a click-to-chat link with the URL to publish.
type ChatLinkAnswer struct {
	store.ChatLink
	URL string `json:"url"`
}

func chatLinkAnswers(links []store.ChatLink) []ChatLinkAnswer {
	out := make([]ChatLinkAnswer, 0, len(links))
	for _, l := range links {
		out = append(out, ChatLinkAnswer{ChatLink: l, URL: l.URL()})
	}
	return out
}

// getLinks lists the workspace's click-to-chat links.
func (h *handler) getLinks(w http.ResponseWriter, r *http.Request) {
	ws, ok := h.workspace(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"links": chatLinkAnswers(ws.ChatLinks)})
}

// postLink makes a click-to-chat link: {"channel": "whatsapp", "to":
// "+62…", "source": "instagram_bio", "medium", "campaign", "text"}.
func (h *handler) postLink(w http.ResponseWriter, r *http.Request) {
	var link store.ChatLink
	d := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	d.DisallowUnknownFields()
	if err := d.Decode(&link); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", "the body must be one link as JSON: "+err.Error(), "")
		return
	}
	link.Ref, link.Created = store.NewChatLinkRef(), time.Now().UTC().Truncate(time.Second)
	if err := link.Check(); err != nil {
		field, _, _ := strings.Cut(err.Error(), ":")
		writeError(w, http.StatusBadRequest, "invalid_link", err.Error(), field)
		return
	}
	ws, ok := h.workspace(w, r)
	if !ok {
		return
	}
	ws.ChatLinks = append(ws.ChatLinks, link)
	if err := h.store.PutWorkspace(r.Context(), ws); err != nil {
		serverError(w, h.log, r, err)
		return
	}
	h.workspaces.forget(ws.Name)
	if err := audit.Record(r.Context(), h.store, ws.Name, audit.LinkCreate, link.Ref, link); err != nil {
		serverError(w, h.log, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, ChatLinkAnswer{ChatLink: link, URL: link.URL()})
}
