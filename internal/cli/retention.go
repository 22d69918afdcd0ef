package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/store"
)

func runRetention(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "show" && args[0] != "set" && args[0] != "apply") {
		fmt.Fprintln(e.stderr, "Usage: omnikpi retention show|set|apply --workspace W [--db F]\n  set takes --events N --texts N --facts N, in months (0: forever); apply without --workspace applies every workspace's policy")
		return errUsage
	}
	fs := newFlags(e, "retention "+args[0], "--workspace W [--db F]")
	db := fs.String("db", DefaultDB, dbUsage)
	workspace := fs.String("workspace", "", "the workspace")
	var policy store.Retention
	if args[0] == "set" {
		fs.IntVar(&policy.EventsMonths, "events", 0, "keep raw events (and their texts) this many `months`; 0: forever")
		fs.IntVar(&policy.TextsMonths, "texts", 0, "keep the texts of events this many `months`, fewer than the events; 0: as long as the events")
		fs.IntVar(&policy.FactsMonths, "facts", 0, "keep message, order and conversation facts this many `months`; 0: forever")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 || (*workspace == "" && args[0] != "apply") {
		fs.Usage()
		return errUsage
	}
	ctx = asCommand(ctx)
	c, err := viaServer(ctx, e, *db)
	if err != nil {
		return err
	}
	if c != nil {
		return retentionViaServer(ctx, e, c, args[0], *workspace, policy)
	}
	var s store.Store
	if *workspace == "" {
		s, err = openExisting(ctx, *db)
	} else {
		s, _, err = openExistingWorkspace(ctx, *db, *workspace)
	}
	if err != nil {
		return err
	}
	defer s.Close()
	now := time.Now()
	switch args[0] {
	case "set":
		if err := api.SetRetention(ctx, s, *workspace, &policy); err != nil {
			return err
		}
		fallthrough
	case "show":
		ws, err := s.Workspace(ctx, *workspace)
		if err != nil {
			return err
		}
		var p store.Retention
		if ws.Retention != nil {
			p = *ws.Retention
		}
		printRetention(e.stdout, *workspace, p, p.Cutoffs(now))
		return nil
	}
	if *workspace != "" {
		run, err := api.ApplyRetention(ctx, s, *workspace, now)
		if err != nil {
			return err
		}
		printRun(e.stdout, run)
		return nil
	}
	runs, err := api.ApplyAllRetention(ctx, s, now, nil)
	for _, run := range runs {
		printRun(e.stdout, run)
	}
	return err
}

func retentionViaServer(ctx context.Context, e *env, c *client.Client, verb, workspace string, policy store.Retention) error {
	if workspace == "" {
		names, err := c.Workspaces(ctx)
		if err != nil {
			return err
		}
		for _, name := range names {
			if err := retentionViaServer(ctx, e, c, verb, name, policy); err != nil {
				return err
			}
		}
		return nil
	}
	c = c.WithWorkspace(workspace)
	switch verb {
	case "apply":
		run, err := c.ApplyRetention(ctx)
		if err != nil {
			return err
		}
		printRun(e.stdout, store.RetentionRun{Workspace: run.Workspace, Cutoffs: store.Cutoffs(run.Cutoffs),
			Events: run.Events, Texts: run.Texts, Facts: run.Facts, Partitions: run.Partitions})
		return nil
	case "set":
		if _, err := c.SetRetention(ctx, client.Retention(policy)); err != nil {
			return err
		}
	}
	p, err := c.Retention(ctx)
	if err != nil {
		return err
	}
	printRetention(e.stdout, workspace, store.Retention(p.Policy), store.Cutoffs(p.Next))
	return nil
}

func months(n int) string {
	if n == 0 {
		return "forever"
	}
	return fmt.Sprintf("%d months", n)
}

func printRetention(w io.Writer, workspace string, p store.Retention, next store.Cutoffs) {
	texts := months(p.TextsMonths)
	if p.TextsMonths == 0 && p.EventsMonths > 0 {
		texts = "with their events"
	}
	fmt.Fprintf(w, "%s keeps raw events %s, texts %s, facts %s\n", workspace, months(p.EventsMonths), texts, months(p.FactsMonths))
	if !next.Events.IsZero() || !next.Texts.IsZero() {
		fmt.Fprintf(w, "a run now removes %s\n", cutoffText(next))
	}
}

func cutoffText(c store.Cutoffs) string {
	day := func(t time.Time) string { return t.UTC().Format("2006-01-02") }
	var s string
	if !c.Events.IsZero() {
		s = "events before " + day(c.Events)
	}
	if !c.Texts.IsZero() && !c.Texts.Equal(c.Events) {
		if s != "" {
			s += ", "
		}
		s += "texts before " + day(c.Texts)
	}
	if !c.Facts.IsZero() {
		s += ", facts before " + day(c.Facts)
	}
	return s
}

func printRun(w io.Writer, run store.RetentionRun) {
	fmt.Fprintf(w, "%s: removed %d events, cleared %d texts, removed %d facts", run.Workspace, run.Events, run.Texts, run.Facts)
	if len(run.Partitions) > 0 {
		fmt.Fprintf(w, " (dropped partitions %v)", run.Partitions)
	}
	if c := cutoffText(run.Cutoffs); c != "" {
		fmt.Fprintf(w, ": %s", c)
	}
	fmt.Fprintln(w)
}
