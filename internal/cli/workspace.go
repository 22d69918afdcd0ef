package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/audit"
	"github.com/omnikpi/omnikpi/internal/store"
)

func runWorkspace(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "workspace", "--workspace W [--timezone ZONE] [--keep-phone-numbers=true|false] [--stop-words W1,W2] [--rate-card FILE.csv --rate-card-currency USD] [--receipts web=none,sms=delivered]")
	db := fs.String("db", DefaultDB, dbUsage)
	workspace := fs.String("workspace", "", "workspace to show or change (required)")
	zone := fs.String("timezone", "", "IANA time zone for reports, such as Europe/Berlin")
	keepPhones := fs.String("keep-phone-numbers", "", "true to store phone-number customer ids as they are, false to hash them")
	stopWords := fs.String("stop-words", "", "comma-separated replies that opt a customer out, replacing the defaults; \"default\" restores them")
	rateCard := fs.String("rate-card", "", "CSV file of a rate card, columns from,category,pricing_type,country,market,currency,price,tier_from,tier_to,free_per_number (category and price required): its versions (rows of a from date) replace those of the same dates; \"none\" removes the card")
	rateCurrency := fs.String("rate-card-currency", "", "ISO 4217 currency of the rate card's prices without a currency column")
	hours := fs.String("business-hours", "", `opening hours for response times in business time, such as "mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00"; "none" removes them`)
	holidays := fs.String("holidays", "", "comma-separated closed dates (2026-12-25), replacing the list")
	receipts := fs.String("receipts", "", "which statuses channels report, such as web=none,sms=delivered,email=delivered+read; channel=default restores the default (sms delivered, instagram read, web none, others both)")
	sessionGap := durationFlag(fs, "session-gap", 0, "silence after which a customer's messages that name no conversation start a new one, a `duration` such as 30m, 24h or 1d (default 24h)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var change api.WorkspaceChange
	if *zone != "" {
		change.TimeZone = *zone
	}
	switch *keepPhones {
	case "":
	case "true", "false":
		keep := *keepPhones == "true"
		change.KeepPhoneNumbers = &keep
	default:
		return fmt.Errorf("--keep-phone-numbers %q: use true or false", *keepPhones)
	}
	switch *stopWords {
	case "":
	case "default":
		change.DefaultStopWords = true
	default:
		change.StopWords = strings.Split(*stopWords, ",")
	}
	switch {
	case *rateCard == "none":
		change.RemoveRateCard = true
	case *rateCard != "":
		card, err := readRateCard(*rateCard, *rateCurrency)
		if err != nil {
			return err
		}
		change.AddRateCard = card
	case *rateCurrency != "":
		return fmt.Errorf("--rate-card-currency needs --rate-card")
	}
	switch *hours {
	case "":
	case "none":
		change.RemoveBusinessHours = true
	default:
		open, err := parseOpenHours(*hours)
		if err != nil {
			return fmt.Errorf("--business-hours: %w", err)
		}
		change.BusinessHours = open
	}
	if *holidays != "" {
		change.Holidays = strings.Split(strings.ReplaceAll(*holidays, " ", ""), ",")
	}
	change.SessionGap = store.Duration(*sessionGap)
	if *receipts != "" {
		r, err := store.ParseReceipts(*receipts)
		if err != nil {
			return fmt.Errorf("--receipts %w", err)
		}
		change.Receipts = r
	}
	if *workspace == "" {
		return fmt.Errorf("--workspace is required")
	}
	var ws store.Workspace
	c, err := viaServer(ctx, e, *db)
	switch {
	case err != nil:
		return err
	case c != nil:
		var sent client.WorkspaceChange
		if err := convertJSON(change, &sent); err != nil {
			return err
		}
		got, err := c.WithWorkspace(*workspace).ChangeWorkspace(ctx, sent)
		var apiErr *client.APIError
		if errors.As(err, &apiErr) && apiErr.Field != "" {
			return changeError(apiErr.Field, strings.TrimPrefix(apiErr.Message, apiErr.Field+": "))
		}
		if err != nil {
			return err
		}
		if ws, err = storeWorkspace(got); err != nil {
			return err
		}
	default:
		s, stored, err := openWorkspace(ctx, *db, *workspace)
		if err != nil {
			return err
		}
		defer s.Close()
		changed, err := change.Apply(&stored)
		var bad *api.ChangeError
		if errors.As(err, &bad) {
			return changeError(bad.Field, bad.Reason)
		}
		if err != nil {
			return err
		}
		if changed {
			if err := s.PutWorkspace(ctx, stored); err != nil {
				return err
			}
			if err := audit.Record(ctx, s, stored.Name, audit.WorkspaceUpdate, stored.Name, map[string]any{"fields": change.Fields()}); err != nil {
				return err
			}
		}
		ws = stored
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(ws)
}

// changeError names the flag of a refused setting.
func changeError(field, reason string) error {
	flags := map[string]string{"time_zone": "--timezone", "keep_phone_numbers": "--keep-phone-numbers", "stop_words": "--stop-words",
		"rate_card": "--rate-card", "add_rate_card": "--rate-card", "business_hours": "--business-hours", "holidays": "--holidays", "session_gap": "--session-gap", "receipts": "--receipts"}
	if f, ok := flags[field]; ok {
		field = f
	}
	return fmt.Errorf("%s: %s", field, reason)
}

// rateCardColumns are the columns a rate card's CSV may have; category and
// price are required.
var rateCardColumns = []string{"from", "category", "pricing_type", "country", "market", "currency", "price", "tier_from", "tier_to", "free_per_number"}

// readRateCard reads a rate card from CSV: a header naming its columns (in
// any order; rateCardColumns), then one row per line. A row's currency is
// its own column's, else currency.
func readRateCard(path, currency string) (*store.RateCard, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read rate card: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("rate card %s: no header line (%s)", path, strings.Join(rateCardColumns, ","))
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(rateCardColumns, name) {
			return nil, fmt.Errorf("rate card %s: unknown column %q (%s)", path, h, strings.Join(rateCardColumns, ", "))
		}
		col[name] = i
	}
	for _, name := range []string{"category", "price"} {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("rate card %s: the header has no %q column", path, name)
		}
	}
	card := &store.RateCard{Currency: strings.ToUpper(currency)}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("rate card %s: %w", path, err)
		}
		cell := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		p := store.RatePrice{From: cell("from"), Category: cell("category"), Type: cell("pricing_type"),
			Country: strings.ToUpper(cell("country")), Market: cell("market"), Currency: strings.ToUpper(cell("currency")), Price: cell("price")}
		for name, n := range map[string]*int64{"tier_from": &p.TierFrom, "tier_to": &p.TierTo, "free_per_number": &p.FreePerNumber} {
			if v := cell(name); v != "" {
				if *n, err = strconv.ParseInt(v, 10, 64); err != nil {
					return nil, fmt.Errorf("rate card %s line %d: %s %q is not a whole number", path, line, name, v)
				}
			}
		}
		if card.Currency == "" {
			card.Currency = p.Currency
		}
		if p.Currency == card.Currency {
			p.Currency = ""
		}
		card.Prices = append(card.Prices, p)
	}
	var bad *store.RateCardError
	if err := card.Validate(); errors.As(err, &bad) {
		if bad.Price < 0 {
			if card.Currency == "" {
				return nil, fmt.Errorf("rate card %s: give its currency with --rate-card-currency or a currency column", path)
			}
			return nil, fmt.Errorf("--rate-card-currency: %s", bad.Reason)
		}
		return nil, fmt.Errorf("rate card %s line %d: %s", path, bad.Price+2, bad.Reason) // +1 for the header, +1 from 0-based
	}
	return card, nil
}

var dayNames = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// parseOpenHours reads "mon-fri 09:00-17:00; sat 10:00-14:00": day or day
// range, then periods separated by commas; groups separated by semicolons.
func parseOpenHours(text string) (map[string][]string, error) {
	open := map[string][]string{}
	for _, group := range strings.Split(text, ";") {
		fields := strings.Fields(group)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("%q: want days then periods, such as mon-fri 09:00-17:00", strings.TrimSpace(group))
		}
		first, last, isRange := strings.Cut(strings.ToLower(fields[0]), "-")
		i, j := indexOf(dayNames, first), indexOf(dayNames, last)
		if !isRange {
			j = i
		}
		if i < 0 || j < 0 || j < i {
			return nil, fmt.Errorf("%q: days are mon … sun, or a range such as mon-fri", fields[0])
		}
		for _, d := range dayNames[i : j+1] {
			open[d] = append(open[d], strings.Split(fields[1], ",")...)
		}
	}
	return open, nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
