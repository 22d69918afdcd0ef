package client_test

import (
	"testing"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/store"
)

// TestErasureTypes_MirrorTheAPI: the answers of erasure and retention read
// and write as the server's, field for field.
func TestErasureTypes_MirrorTheAPI(t *testing.T) {
	for _, tc := range []struct {
		name           string
		server, client any
	}{
		{"erasure", &store.Erasure{}, &client.Erasure{}},
		{"retention", &store.Retention{}, &client.Retention{}},
		{"retention policy", &api.RetentionPolicy{}, &client.RetentionPolicy{}},
		{"retention run", &store.RetentionRun{}, &client.RetentionRun{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			roundTrip(t, "server to client", tc.server, tc.client)
		})
	}
}
