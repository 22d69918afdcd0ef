package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/ingest/metaanalytics"
	"github.com/omnikpi/omnikpi/internal/store"
)

// runImportMeta stores saved answers of Meta's Graph API (pricing_analytics,
// template_analytics) as events, for the reconciliation view. Each file
// is read whole and checked before anything of it is stored.
func runImportMeta(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "import-meta", "--workspace W [--currency USD] [--template ID=NAME]... FILE.json...")
	db := fs.String("db", DefaultDB, dbUsage)
	workspace := fs.String("workspace", "", "workspace the figures belong to (required)")
	currency := fs.String("currency", "", "the account's currency, which Meta's costs are in, when the answer does not carry it")
	var templates listFlag
	fs.Var(&templates, "template", "Meta's template id = the template's name as the messages name it (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *workspace == "" || fs.NArg() == 0 {
		fmt.Fprintln(e.stderr, "omnikpi import-meta: --workspace and at least one FILE are required")
		fs.Usage()
		return errUsage
	}
	names, err := metaanalytics.TemplateNames(templates)
	if err != nil {
		return fmt.Errorf("--template: %w", err)
	}
	type answer struct {
		path string
		res  metaanalytics.Result
	}
	var answers []answer
	fetched := time.Now()
	for _, path := range fs.Args() {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		res, err := metaanalytics.Parse(data, metaanalytics.Options{Workspace: *workspace, Currency: *currency, Templates: names, FetchedAt: fetched})
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		answers = append(answers, answer{path, res})
	}
	imp := &importer{}
	c, err := viaServer(ctx, e, *db)
	if err != nil {
		return err
	}
	if c != nil {
		if _, err := c.WithWorkspace(*workspace).ChangeWorkspace(ctx, client.WorkspaceChange{}); err != nil {
			return err
		}
		// A few events: wait until they are stored, so the answer tells
		// new figures from ones imported before.
		imp.remote = c.WithWorkspace(*workspace)
		imp.remote.WaitApplied = true
	} else {
		s, _, err := openWorkspace(ctx, *db, *workspace)
		if err != nil {
			return err
		}
		defer s.Close()
		imp.store = s
	}
	for _, a := range answers {
		start := time.Now()
		sum := importSummary{path: a.path}
		if imp.remote != nil {
			err = imp.post(ctx, a.path, a.res.Events, &sum)
		} else {
			var outcomes []store.Outcome
			outcomes, err = imp.store.Insert(ctx, a.res.Events)
			for _, o := range outcomes {
				if o == store.Accepted {
					sum.accepted++
				} else {
					sum.duplicates++
				}
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", a.path, err)
		}
		sum.elapsed = time.Since(start)
		fmt.Fprintf(e.stdout, "%s (%d pricing and %d template data points of Meta's)\n", sum, a.res.Pricing, a.res.Template)
	}
	return nil
}
