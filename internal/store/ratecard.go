package store

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/omnikpi/omnikpi/internal/event"
)

// RateCard prices a channel's billable messages: a price per message for
// each pricing category (WhatsApp's marketing, utility, authentication,
// service…) and recipient country. The KPIs add the priced messages of a
// period to its messaging cost, which feeds rocs, roi and cost per
// recipient. Prices apply at query time, so a corrected card reprices
// history.
type RateCard struct {
	Currency string      `json:"currency"` // ISO 4217
	Prices   []RatePrice `json:"prices"`
}

// RatePrice is one line of a rate card.
type RatePrice struct {
	Category string `json:"category"`          // such as marketing
	Country  string `json:"country,omitempty"` // ISO 3166-1 alpha-2; empty for every country not listed
	Price    string `json:"price"`             // per billable message, a decimal in major units such as "0.0411"
}

var (
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
	decimalRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
)

// RateCardError names what is wrong in a rate card: the currency, or the
// price at index Price of Prices.
type RateCardError struct {
	Price  int // -1 for the currency
	Reason string
}

func (e *RateCardError) Error() string {
	if e.Price < 0 {
		return "rate card: " + e.Reason
	}
	return fmt.Sprintf("rate card price %d: %s", e.Price+1, e.Reason)
}

// Validate returns a *RateCardError for the first thing wrong.
func (rc RateCard) Validate() error {
	if !event.KnownCurrency(rc.Currency) {
		return &RateCardError{Price: -1, Reason: fmt.Sprintf("currency %q is not an ISO 4217 code", rc.Currency)}
	}
	seen := map[[2]string]bool{}
	for i, p := range rc.Prices {
		reason := ""
		switch {
		case strings.TrimSpace(p.Category) == "":
			reason = "category is required"
		case p.Country != "" && !countryRE.MatchString(p.Country):
			reason = fmt.Sprintf("country %q must be an ISO 3166 code such as ID, or empty for any other country", p.Country)
		case !decimalRE.MatchString(p.Price):
			reason = fmt.Sprintf("price %q must be a decimal such as 0.0411", p.Price)
		case seen[[2]string{p.Category, p.Country}]:
			reason = fmt.Sprintf("%s/%s is priced twice", p.Category, p.Country)
		}
		if reason != "" {
			return &RateCardError{Price: i, Reason: reason}
		}
		seen[[2]string{p.Category, p.Country}] = true
	}
	return nil
}

// PriceMinor is the price of one message of category to country in minor
// units of the card's currency, exactly (a fraction when the price is finer
// than a cent); false when the card prices neither the country nor the
// category's other countries.
func (rc RateCard) PriceMinor(category, country string) (*big.Rat, bool) {
	var fallback *RatePrice
	for i := range rc.Prices {
		p := &rc.Prices[i]
		if p.Category != category {
			continue
		}
		if p.Country == country && country != "" {
			return rc.minor(p.Price), true
		}
		if p.Country == "" {
			fallback = p
		}
	}
	if fallback != nil {
		return rc.minor(fallback.Price), true
	}
	return nil, false
}

func (rc RateCard) minor(price string) *big.Rat {
	r, ok := new(big.Rat).SetString(price)
	if !ok {
		return new(big.Rat)
	}
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(event.MinorDigits(rc.Currency))), nil))
	return r.Mul(r, scale)
}
