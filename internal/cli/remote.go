package cli

import (
	"context"
	"io"
	"net/url"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/kpi"
)

// reportViaAPI asks the server for a view on its route, the one the
// dashboard reads, with the query of the report's flags, and prints the
// answer as 'omnikpi report' prints it from the store.
func reportViaAPI(ctx context.Context, w io.Writer, c *client.Client, v *kpi.View, format string, q url.Values, p kpi.Params) error {
	out := v.New(p)
	if err := c.Get(ctx, v.Path, q, out); err != nil {
		return err
	}
	return kpi.Render(w, format, out)
}
