package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

func runWorkspace(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "workspace", "--workspace W [--timezone ZONE] [--keep-phone-numbers=true|false]")
	db := fs.String("db", DefaultDB, dbUsage)
	workspace := fs.String("workspace", "", "workspace to show or change (required)")
	zone := fs.String("timezone", "", "IANA time zone for reports, such as Europe/Berlin")
	keepPhones := fs.String("keep-phone-numbers", "", "true to store phone-number customer ids as they are, false to hash them")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	ws, err := workspaceOrNew(ctx, s, *workspace)
	if err != nil {
		return err
	}
	changed := false
	if *zone != "" {
		if _, err := time.LoadLocation(*zone); err != nil {
			return fmt.Errorf("--timezone %q: not an IANA time zone", *zone)
		}
		ws.TimeZone, changed = *zone, true
	}
	switch *keepPhones {
	case "":
	case "true", "false":
		ws.KeepPhoneNumbers, changed = *keepPhones == "true", true
	default:
		return fmt.Errorf("--keep-phone-numbers %q: use true or false", *keepPhones)
	}
	if changed {
		if err := s.PutWorkspace(ctx, ws); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(ws)
}
