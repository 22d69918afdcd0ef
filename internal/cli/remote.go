package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/kpi"
)

// reportViaAPI asks the server for a report view on the routes the
// dashboard reads, with the query of the report's flags, and prints the
// answer as 'omnikpi report' prints it from the store.
func reportViaAPI(ctx context.Context, w io.Writer, c *client.Client, view, format string, q url.Values, req kpi.Request) error {
	for k, v := range q {
		if len(v) == 0 || v[0] == "" {
			delete(q, k)
		}
	}
	get := func(path string, into any) error { return c.Get(ctx, path, q, into) }
	switch view {
	case "kpis":
		var rep kpi.Report
		if err := get("/v1/kpis", &rep); err != nil {
			return err
		}
		return writeKPIs(w, format, rep, req)
	case "unclosed":
		var rep kpi.UnclosedReport
		if err := get("/v1/conversations/unclosed", &rep); err != nil {
			return err
		}
		return writeUnclosed(w, format, rep)
	case "keywords":
		var rep kpi.KeywordReport
		if err := get("/v1/keywords", &rep); err != nil {
			return err
		}
		return writeKeywords(w, format, rep)
	case "funnel":
		if q.Get("steps") == "" {
			var rep kpi.StagesReport
			if err := get("/v1/funnel", &rep); err != nil {
				return err
			}
			return writeStages(w, format, rep)
		}
		var rep kpi.FunnelReport
		if err := get("/v1/funnel", &rep); err != nil {
			return err
		}
		return writeFunnel(w, format, rep)
	case "attribution":
		var rep kpi.AttributionReport
		if err := get("/v1/attribution", &rep); err != nil {
			return err
		}
		return writeAttribution(w, format, rep)
	case "abtest":
		var rep kpi.ABReport
		if err := get("/v1/abtest", &rep); err != nil {
			return err
		}
		return writeABTest(w, format, rep)
	case "sendtime":
		var rep kpi.SendTimeReport
		if err := get("/v1/sendtime", &rep); err != nil {
			return err
		}
		return writeSendTime(w, format, rep)
	case "cohorts":
		var rep kpi.CohortReport
		if err := get("/v1/cohorts", &rep); err != nil {
			return err
		}
		return writeCohorts(w, format, rep)
	case "segments":
		var rep kpi.SegmentReport
		if err := get("/v1/segments", &rep); err != nil {
			return err
		}
		return writeSegments(w, format, rep)
	}
	return fmt.Errorf("--view %q: use kpis, unclosed, keywords, funnel, attribution, abtest, sendtime, cohorts or segments", view)
}
