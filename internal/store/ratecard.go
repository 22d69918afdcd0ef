package store

import (
	"cmp"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
)

// RateCard prices a channel's messages per delivered message, as Meta
// prices WhatsApp's since July 2025: by pricing category (marketing,
// utility, authentication, service…), pricing type and recipient country,
// with monthly volume tiers and a monthly free allowance per business
// phone number. Its rows carry the date they take effect: a card is the
// rows of one date, and a message is priced by the card in force when it
// was delivered, so a new card reprices nothing before its date. Messages
// of a free pricing type (free_customer_service, free_entry_point) cost
// nothing but are counted.
type RateCard struct {
	Currency string      `json:"currency"` // ISO 4217; a row without its own currency is in this one
	Prices   []RatePrice `json:"prices"`
}

// RatePrice is one row of a rate card.
type RatePrice struct {
	// From is the UTC date the row takes effect, as 2026-01-01; empty for
	// a card in force since always.
	From     string `json:"from,omitempty"`
	Category string `json:"category"`               // such as marketing
	Type     string `json:"pricing_type,omitempty"` // the pricing type it prices; empty for regular
	Country  string `json:"country,omitempty"`      // ISO 3166-1 alpha-2; empty for every country not listed
	// Market names the market whose monthly count decides a volume tier
	// (several countries' rows may share one); empty for the country
	// itself, or "other" for the row of every country not listed.
	Market   string `json:"market,omitempty"`
	Currency string `json:"currency,omitempty"` // ISO 4217; empty for the card's
	Price    string `json:"price"`              // per delivered message, a decimal in major units such as "0.0411"
	// TierFrom and TierTo bound a volume tier: the row prices the month's
	// messages of its category and market numbered TierFrom through TierTo
	// (from 1, in delivery order; TierTo 0 is no bound). Both 0: no tiers.
	TierFrom int64 `json:"tier_from,omitempty"`
	TierTo   int64 `json:"tier_to,omitempty"`
	// FreePerNumber is a monthly free allowance: each business phone
	// number's first FreePerNumber messages of the category in a month
	// cost nothing.
	FreePerNumber int64 `json:"free_per_number,omitempty"`
}

// Regular is the pricing type of a message that is charged.
const Regular = "regular"

// IsFreeType tells whether a pricing type costs nothing whatever the card:
// Meta's free_customer_service and free_entry_point, or "free".
func IsFreeType(t string) bool { return strings.HasPrefix(t, "free") }

// from is the time the row takes effect (the zero time for always).
func (p RatePrice) from() time.Time {
	t, _ := time.Parse(time.DateOnly, p.From)
	return t
}

func (p RatePrice) pricingType() string { return cmp.Or(p.Type, Regular) }

// tiered tells whether the row is one of a category's volume tiers.
func (p RatePrice) tiered() bool { return p.TierFrom > 0 || p.TierTo > 0 }

// market is the market the row's messages are counted in for its tiers.
func (p RatePrice) market() string { return cmp.Or(p.Market, p.Country, "other") }

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

// priceKey is what a row prices: a card's date, category, type and
// country; tiers of one key split it by count.
type priceKey struct{ from, category, typ, country string }

// Validate returns a *RateCardError for the first thing wrong.
func (rc RateCard) Validate() error {
	if !event.KnownCurrency(rc.Currency) {
		return &RateCardError{Price: -1, Reason: fmt.Sprintf("currency %q is not an ISO 4217 code", rc.Currency)}
	}
	tiers := map[priceKey][][2]int64{}
	for i, p := range rc.Prices {
		k := priceKey{p.From, p.Category, p.pricingType(), p.Country}
		reason := ""
		switch {
		case strings.TrimSpace(p.Category) == "":
			reason = "category is required"
		case p.From != "" && p.from().IsZero():
			reason = fmt.Sprintf("from %q must be a date such as 2026-01-01", p.From)
		case IsFreeType(p.pricingType()):
			reason = fmt.Sprintf("pricing type %s is free: messages of a free type cost nothing", p.Type)
		case p.Country != "" && !countryRE.MatchString(p.Country):
			reason = fmt.Sprintf("country %q must be an ISO 3166 code such as ID, or empty for any other country", p.Country)
		case p.Currency != "" && !event.KnownCurrency(p.Currency):
			reason = fmt.Sprintf("currency %q is not an ISO 4217 code", p.Currency)
		case !decimalRE.MatchString(p.Price):
			reason = fmt.Sprintf("price %q must be a decimal such as 0.0411", p.Price)
		case p.TierFrom < 0 || p.TierTo < 0 || p.FreePerNumber < 0:
			reason = "tier bounds and free_per_number must not be negative"
		case p.tiered() && p.TierFrom < 1:
			reason = "a tier starts at message 1 or later (tier_from)"
		case p.TierTo != 0 && p.TierTo < p.TierFrom:
			reason = fmt.Sprintf("tier_to %d is below tier_from %d", p.TierTo, p.TierFrom)
		}
		if reason == "" {
			for _, t := range tiers[k] {
				if !p.tiered() || t == [2]int64{} || p.TierFrom <= upper(t[1]) && t[0] <= upper(p.TierTo) {
					reason = fmt.Sprintf("%s is priced twice", k.describe())
					break
				}
			}
		}
		if reason != "" {
			return &RateCardError{Price: i, Reason: reason}
		}
		tiers[k] = append(tiers[k], [2]int64{p.TierFrom, p.TierTo})
	}
	return nil
}

func (k priceKey) describe() string {
	s := k.category + "/" + k.country
	if k.typ != Regular {
		s += " (" + k.typ + ")"
	}
	if k.from != "" {
		s += " from " + k.from
	}
	return s
}

// upper is a tier's last message number, unbounded for 0.
func upper(to int64) int64 {
	if to == 0 {
		return 1<<63 - 1
	}
	return to
}

// Dates lists the dates the card's versions take effect, the earliest
// first; "" stands for the version in force since always.
func (rc RateCard) Dates() []string {
	var out []string
	for _, p := range rc.Prices {
		if !slices.Contains(out, p.From) {
			out = append(out, p.From)
		}
	}
	slices.Sort(out)
	return out
}

// Merge returns the card with next's versions in place of its own of the
// same dates: a new quarter's card adds to the history, a corrected one
// replaces its date's rows only. next's currency becomes the card's; rows
// that relied on the old one keep it.
func (rc RateCard) Merge(next RateCard) RateCard {
	replaced := next.Dates()
	out := RateCard{Currency: next.Currency}
	for _, p := range rc.Prices {
		if slices.Contains(replaced, p.From) {
			continue
		}
		p.Currency = cmp.Or(p.Currency, rc.Currency)
		if p.Currency == next.Currency {
			p.Currency = ""
		}
		out.Prices = append(out.Prices, p)
	}
	out.Prices = append(out.Prices, next.Prices...)
	slices.SortStableFunc(out.Prices, func(a, b RatePrice) int { return strings.Compare(a.From, b.From) })
	return out
}

// NeedsOrdinals lists the categories some row prices by volume tier or
// with a free allowance: pricing their messages needs each message's
// number in its month.
func (rc RateCard) NeedsOrdinals() []string {
	var out []string
	for _, p := range rc.Prices {
		if (p.tiered() || p.FreePerNumber > 0) && !slices.Contains(out, p.Category) {
			out = append(out, p.Category)
		}
	}
	slices.Sort(out)
	return out
}

// inForce is the version of the card in force at t: the rows of the latest
// date on or before t.
func (rc RateCard) inForce(t time.Time) []RatePrice {
	latest, found := "", false
	for _, p := range rc.Prices {
		if !p.from().After(t) && (!found || p.From > latest) {
			latest, found = p.From, true
		}
	}
	var out []RatePrice
	for _, p := range rc.Prices {
		if found && p.From == latest {
			out = append(out, p)
		}
	}
	return out
}

// rowsFor are the rows of version that price category and type in
// country: the country's own, else those of every other country.
func rowsFor(version []RatePrice, category, typ, country string) []RatePrice {
	var own, other []RatePrice
	for _, p := range version {
		if p.Category != category || p.pricingType() != typ {
			continue
		}
		switch {
		case p.Country == country && country != "":
			own = append(own, p)
		case p.Country == "":
			other = append(other, p)
		}
	}
	if len(own) > 0 {
		return own
	}
	return other
}

// Delivered is a delivered message as a card prices it.
type Delivered struct {
	At                   time.Time
	Category, Type       string // pricing category and type; an empty type is regular
	Country, PhoneNumber string // the recipient's country, the business number that sent it
}

// Charge is what one message costs.
type Charge struct {
	Currency string
	Minor    *big.Rat // exact, in minor units of Currency; nil when the card does not price the message
	Free     bool     // a free type, or within a free allowance
}

// Pricer prices delivered messages in delivery order, counting each
// month's messages per category and market (for volume tiers) and per
// category and business phone number (for free allowances). Feed it every
// message of a month up to the last one to price, in delivery order, so
// that each message has its number in the month.
type Pricer struct {
	card     RateCard
	inMarket map[string]int64 // month, category, market → messages so far
	inNumber map[string]int64 // month, category, phone number → messages so far
}

// NewPricer returns a pricer of card with no message counted.
func NewPricer(card RateCard) *Pricer {
	return &Pricer{card: card, inMarket: map[string]int64{}, inNumber: map[string]int64{}}
}

// Price counts m in its month and returns its charge.
func (p *Pricer) Price(m Delivered) Charge {
	typ := cmp.Or(m.Type, Regular)
	if IsFreeType(typ) {
		return Charge{Currency: p.card.Currency, Minor: new(big.Rat), Free: true}
	}
	rows := rowsFor(p.card.inForce(m.At), m.Category, typ, m.Country)
	if len(rows) == 0 {
		return Charge{Currency: p.card.Currency}
	}
	month := m.At.UTC().Format("2006-01") + "\x00" + m.Category + "\x00"
	p.inMarket[month+rows[0].market()]++
	p.inNumber[month+m.PhoneNumber]++
	n, k := p.inMarket[month+rows[0].market()], p.inNumber[month+m.PhoneNumber]
	var row *RatePrice
	for i := range rows {
		r := &rows[i]
		if !r.tiered() || r.TierFrom <= n && n <= upper(r.TierTo) {
			row = r
			break
		}
	}
	if row == nil {
		return Charge{Currency: p.card.Currency} // no tier covers the message's number
	}
	c := Charge{Currency: cmp.Or(row.Currency, p.card.Currency)}
	if allowance := row.FreePerNumber; allowance > 0 && k <= allowance {
		c.Minor, c.Free = new(big.Rat), true
		return c
	}
	c.Minor = minor(row.Price, c.Currency)
	return c
}

// minor is a decimal price in major units as exact minor units.
func minor(price, currency string) *big.Rat {
	r, ok := new(big.Rat).SetString(price)
	if !ok {
		return new(big.Rat)
	}
	return r.Mul(r, event.MinorScale(currency))
}
