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
