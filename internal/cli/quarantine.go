package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/config"
	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/journal"
	"github.com/omnikpi/omnikpi/internal/store"
)

// runQuarantine lists the webhook parts kept for numbers no workspace
// maps, or ingests those a mapping now covers.
func runQuarantine(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "ingest") {
		fmt.Fprintln(e.stderr, "Usage: omnikpi quarantine list [--db F] [--format table|json]\n"+
			"       omnikpi quarantine ingest [--db F] [--config FILE] [--whatsapp-number PHONE_NUMBER_ID=WORKSPACE] [--whatsapp-account WABA_ID=WORKSPACE]")
		return errUsage
	}
	fs := newFlags(e, "quarantine "+args[0], "[--db F]")
	db := fs.String("db", DefaultDB, dbUsage)
	format := fs.String("format", "table", "table or json (list)")
	configFile := fs.String("config", "", "serve's JSON configuration file, whose WhatsApp numbers and accounts map parts to workspaces (ingest)")
	numbers, accounts := config.Mapping{}, config.Mapping{}
	fs.Var(numbers, "whatsapp-number", "PHONE_NUMBER_ID=WORKSPACE: ingest this number's parts into the workspace (ingest; repeatable)")
	fs.Var(accounts, "whatsapp-account", "WABA_ID=WORKSPACE: ingest this account's parts into the workspace (ingest; repeatable)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 || (*format != "table" && *format != "json") {
		fs.Usage()
		return errUsage
	}
	cfg, err := config.Load(*configFile)
	if err != nil {
		return err
	}
	m := api.QuarantineMapping{PhoneNumbers: merged(cfg.WhatsApp.PhoneNumbers, numbers), BusinessAccounts: merged(cfg.WhatsApp.BusinessAccounts, accounts)}

	c, err := viaServer(ctx, e, *db)
	if err != nil {
		return err
	}
	if args[0] == "list" {
		var list *api.QuarantineList
		if c != nil {
			list, err = remoteQuarantine(ctx, c)
		} else {
			list, err = directQuarantine(ctx, *db)
		}
		if err != nil {
			return err
		}
		return printQuarantine(e.stdout, *list, *format)
	}
	var res *api.QuarantineResult
	if c != nil {
		var got *client.QuarantineResult
		if got, err = c.IngestQuarantine(ctx, client.QuarantineMapping(m)); err == nil {
			res = (*api.QuarantineResult)(got)
		}
	} else {
		res, err = directIngestQuarantine(ctx, *db, m)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d quarantined parts ingested (%d events; an event stored before counts once), %d still wait for a workspace\n",
		res.Parts, res.Events, res.Waiting)
	return nil
}

func remoteQuarantine(ctx context.Context, c *client.Client) (*api.QuarantineList, error) {
	got, err := c.Quarantine(ctx)
	if err != nil {
		return nil, err
	}
	list := &api.QuarantineList{Parts: make([]store.QuarantinedPart, len(got.Parts)), Waiting: got.Waiting}
	for i, p := range got.Parts {
		list.Parts[i] = store.QuarantinedPart(p)
	}
	return list, nil
}

func directQuarantine(ctx context.Context, db string) (*api.QuarantineList, error) {
	s, err := openStore(ctx, db)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	q, ok := s.(store.Quarantine)
	if !ok {
		return nil, fmt.Errorf("%s keeps no quarantine", db)
	}
	parts, err := q.QuarantinedParts(ctx)
	if err != nil {
		return nil, err
	}
	list := &api.QuarantineList{Parts: parts}
	for _, p := range parts {
		if p.Ingested.IsZero() {
			list.Waiting++
		}
	}
	return list, nil
}

func directIngestQuarantine(ctx context.Context, db string, m api.QuarantineMapping) (*api.QuarantineResult, error) {
	s, err := openStore(ctx, db)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	res, err := api.IngestQuarantined(ctx, s, m.Route(nil), func(ctx context.Context, events []event.Event) error {
		_, err := s.Insert(ctx, events)
		return err
	})
	return &res, err
}

func printQuarantine(w io.Writer, list api.QuarantineList, format string) error {
	if format == "json" {
		b, err := json.MarshalIndent(list, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	fmt.Fprintf(w, "%-35s  %-20s  %-18s  %-18s  %s\n", "PART", "RECEIVED", "PHONE NUMBER ID", "BUSINESS ACCOUNT", "STATE")
	for _, p := range list.Parts {
		state := "waiting"
		if !p.Ingested.IsZero() {
			state = "ingested into " + p.Workspace + " at " + p.Ingested.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%-35s  %-20s  %-18s  %-18s  %s\n", p.ID, p.Received.Format(time.RFC3339), p.PhoneNumberID, p.AccountID, state)
	}
	_, err := fmt.Fprintf(w, "%d parts, %d waiting\n", len(list.Parts), list.Waiting)
	return err
}

// journaled hands events to serve's journal, as a request does.
func journaled(in *journal.Ingester) func(context.Context, []event.Event) error {
	return func(ctx context.Context, events []event.Event) error {
		_, err := in.Submit(ctx, events, false)
		return err
	}
}
