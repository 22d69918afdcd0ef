package cli

import (
	"encoding/json"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/store"
)

// A command that goes through a server's API (see served.go) gets the
// client's types, which mirror the API's JSON field for field (the client's
// TestTypes_MirrorTheAPI proves it); where a command works on the internal
// types, a value is converted by its JSON.

// convertJSON converts from into to, a pointer, through their JSON.
func convertJSON(from, to any) error {
	b, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, to)
}

// storeWorkspace is a workspace's settings as the server answered them.
func storeWorkspace(ws *client.Workspace) (store.Workspace, error) {
	var out store.Workspace
	err := convertJSON(ws, &out)
	return out, err
}
