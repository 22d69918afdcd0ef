package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
)

func runWorkspace(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "workspace", "--workspace W [--timezone ZONE] [--keep-phone-numbers=true|false] [--stop-words W1,W2] [--rate-card FILE.csv --rate-card-currency USD]")
	db := fs.String("db", DefaultDB, dbUsage)
	workspace := fs.String("workspace", "", "workspace to show or change (required)")
	zone := fs.String("timezone", "", "IANA time zone for reports, such as Europe/Berlin")
	keepPhones := fs.String("keep-phone-numbers", "", "true to store phone-number customer ids as they are, false to hash them")
	stopWords := fs.String("stop-words", "", "comma-separated replies that opt a customer out, replacing the defaults; \"default\" restores them")
	rateCard := fs.String("rate-card", "", "CSV file with columns category,country,price: the price of a billable message; \"none\" removes the card")
	rateCurrency := fs.String("rate-card-currency", "", "ISO 4217 currency of the rate card's prices")
	hours := fs.String("business-hours", "", `opening hours for response times in business time, such as "mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00"; "none" removes them`)
	holidays := fs.String("holidays", "", "comma-separated closed dates (2026-12-25), replacing the list")
	sessionGap := fs.Duration("session-gap", 0, "silence after which a customer's messages that name no conversation start a new one (default 24h)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	s, ws, err := openWorkspace(ctx, *db, *workspace)
	if err != nil {
		return err
	}
	defer s.Close()
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
	switch *stopWords {
	case "":
	case "default":
		ws.StopWords, changed = nil, true
	default:
		ws.StopWords, changed = nil, true
		for _, w := range strings.Split(*stopWords, ",") {
			if w = strings.TrimSpace(w); w != "" {
				ws.StopWords = append(ws.StopWords, w)
			}
		}
	}
	switch {
	case *rateCard == "none":
		ws.RateCard, changed = nil, true
	case *rateCard != "":
		card, err := readRateCard(*rateCard, *rateCurrency)
		if err != nil {
			return err
		}
		ws.RateCard, changed = card, true
	case *rateCurrency != "":
		return fmt.Errorf("--rate-card-currency needs --rate-card")
	}
	switch *hours {
	case "":
	case "none":
		ws.BusinessHours, changed = nil, true
	default:
		open, err := parseOpenHours(*hours)
		if err != nil {
			return fmt.Errorf("--business-hours: %w", err)
		}
		if ws.BusinessHours == nil {
			ws.BusinessHours = &store.BusinessHours{}
		}
		ws.BusinessHours.Open, changed = open, true
	}
	if *holidays != "" {
		if ws.BusinessHours == nil {
			return fmt.Errorf("--holidays needs --business-hours")
		}
		ws.BusinessHours.Holidays, changed = strings.Split(strings.ReplaceAll(*holidays, " ", ""), ","), true
	}
	if ws.BusinessHours != nil {
		if err := kpi.ValidateBusinessHours(*ws.BusinessHours); err != nil {
			return err
		}
	}
	if *sessionGap < 0 {
		return fmt.Errorf("--session-gap must not be negative")
	} else if *sessionGap > 0 {
		ws.Windows.Session, changed = store.Duration(*sessionGap), true
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

// readRateCard reads a rate card from CSV: a header naming the columns
// category, country and price (in any order), then one price per line.
func readRateCard(path, currency string) (*store.RateCard, error) {
	if currency == "" {
		return nil, fmt.Errorf("--rate-card needs --rate-card-currency")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read rate card: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("rate card %s: no header line (category,country,price)", path)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, name := range []string{"category", "country", "price"} {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("rate card %s: the header has no %q column", path, name)
		}
	}
	card := &store.RateCard{Currency: strings.ToUpper(currency)}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("rate card %s: %w", path, err)
		}
		cell := func(name string) string {
			if i := col[name]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		card.Prices = append(card.Prices, store.RatePrice{Category: cell("category"), Country: strings.ToUpper(cell("country")), Price: cell("price")})
	}
	var bad *store.RateCardError
	if err := card.Validate(); errors.As(err, &bad) {
		if bad.Price < 0 {
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
