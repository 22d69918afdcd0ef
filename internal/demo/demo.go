// Package demo generates a realistic, seeded data set in the generic event
// format: campaigns with an A/B test, conversations with bots and agents,
// shoppers who buy, refund and opt out, costs, leads, surveys and social
// activity. The same options always give the same bytes.
package demo

import (
	"bufio"
	"context"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Options of a data set; zero values take the defaults.
type Options struct {
	Seed   int64     // default 1
	Events int       // about how many events, default 1,000,000
	End    time.Time // exclusive end of the data, default today 00:00 UTC
	// Days is the span, default 120 (one season). The data is a run of
	// seasons of 120 days that ends at End, the earliest cut short: each
	// season has the same campaigns on the same days of it, and customers
	// are as active on any day, so a longer span at Events in proportion
	// keeps the same daily volume and the same last 30 days.
	Days int
}

// SeasonDays is the length of the demo's season: its calendar of eight
// campaigns, with the A/B test and the sales peak. The season's last
// 30 days (the dashboard's default period) hold four campaigns on two
// channels, the A/B test among them, still sending on the data's last day.
const SeasonDays = 120

// ABCampaign is the campaign whose variants A and B make the demo's A/B
// test, in the last season.
const ABCampaign = "spring_sale"

// HasABTest reports whether data of days days holds the last season's A/B
// test, which sends through the season's last seventh.
func HasABTest(days int) bool {
	if days <= 0 {
		days = SeasonDays
	}
	for _, c := range campaigns(days) {
		if c.name == ABCampaign {
			return true
		}
	}
	return false
}

// Stats describes what was generated.
type Stats struct {
	Events, Customers, Messages, Orders, Conversations int
}

// Rates that shape the data. Click-through differs by A/B variant so the
// test has a real winner.
const (
	audienceShare   = 0.45  // share of customers each campaign reaches
	failRate        = 0.03  // sends that fail (and are never delivered)
	deliverRate     = 0.96  // of the rest
	readRate        = 0.86  // of delivered
	replyRate       = 0.09  // recipients who write back within hours
	buyAfterClick   = 0.22  // clickers who order within days
	refundRate      = 0.05  // orders refunded
	returnRate      = 0.03  // cash-on-delivery orders returned to origin
	optOutRate      = 0.004 // per campaign message
	optOutSpikeRate = 0.05  // on the campaign that annoyed people
	duplicateRate   = 0.005 // lines delivered twice (retries)
	earlyStatusRate = 0.03  // statuses written before their message_sent
	idrShare        = 0.08  // customers who pay in rupiah
)

var agents = []struct{ name, team string }{
	{"ana", "sales"}, {"budi", "sales"}, {"chen", "support"}, {"dewi", "support"}, {"eko", "support"},
}

type campaign struct {
	name, channel string
	templates     []string
	variants      []string
	ctr           []float64 // per variant
	day           int       // first send day from the start
	days          int       // sends spread over this many days from day (a drip), at least 1
	spike         bool      // the opt-out spike
}

// campaigns is the calendar of data of days days: each season's campaigns
// on their days from the start, oldest first, those before the start left
// out. The last season's campaigns have their plain names; an earlier
// season's are suffixed with how many seasons back it lies (spring_sale-1),
// so each season's campaigns, and its A/B test, stay apart.
func campaigns(days int) []campaign {
	var out []campaign
	length := seasonLength(days)
	for back := (days - 1) / length; back >= 0; back-- {
		start := days - (back+1)*length
		for _, c := range season(length) {
			if c.day += start; c.day < 0 {
				continue
			}
			if back > 0 {
				c.name += "-" + strconv.Itoa(back)
			}
			out = append(out, c)
		}
	}
	return out
}

// seasonLength is the length of the seasons of data of days days: one
// season over the whole span when it is shorter than SeasonDays, so a
// short demo still has every campaign, its A/B test and its sales peak.
func seasonLength(days int) int { return min(days, SeasonDays) }

// season is one season's campaigns, their days from its start.
func season(days int) []campaign {
	at := func(frac float64) int { return int(frac * float64(days)) }
	// The A/B test is a drip from six sevenths of the season to its end.
	abFrom := at(6.0 / 7)
	return []campaign{
		{"welcome", "whatsapp", []string{"welcome_v1"}, []string{""}, []float64{0.18}, at(0.05), 1, false},
		{"sms_flash", "sms", []string{"flash_sms"}, []string{""}, []float64{0.06}, at(0.2), 1, false},
		{"insta_drop", "instagram", []string{"drop_story"}, []string{""}, []float64{0.12}, at(0.35), 1, false},
		{"mid_season", "whatsapp", []string{"mid_season_a", "mid_season_b"}, []string{""}, []float64{0.2}, at(0.55), 1, false},
		{"newsletter", "email", []string{"monthly_news"}, []string{""}, []float64{0.04}, at(0.77), 1, false},
		{"restock", "whatsapp", []string{"restock_alert"}, []string{""}, []float64{0.17}, at(0.8), 1, false},
		{ABCampaign, "whatsapp", []string{"spring_offer"}, []string{"A", "B"}, []float64{0.15, 0.22}, abFrom, max(1, days-abFrom), false},
		{"daily_deals", "whatsapp", []string{"deal_blast"}, []string{""}, []float64{0.08}, at(0.97), 1, true},
	}
}

// Generate writes the data set to w as JSON Lines.
func Generate(ctx context.Context, w io.Writer, opts Options) (Stats, error) {
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Events <= 0 {
		opts.Events = 1_000_000
	}
	if opts.Days <= 0 {
		opts.Days = 120
	}
	if opts.End.IsZero() {
		opts.End = time.Now().UTC().Truncate(24 * time.Hour)
	}
	g := &gen{
		rng:    rand.New(rand.NewPCG(uint64(opts.Seed), 0x6f6d6e69)),
		out:    bufio.NewWriterSize(w, 1<<20),
		start:  opts.End.AddDate(0, 0, -opts.Days),
		endAt:  opts.End,
		days:   opts.Days,
		camps:  campaigns(opts.Days),
		season: float64(seasonLength(opts.Days)),
		scale:  float64(opts.Days) / float64(seasonLength(opts.Days)),
		// The first season starts this many days before the data (0 or
		// less), so each season ends a multiple of its length before End.
		offset: float64(opts.Days - (opts.Days+seasonLength(opts.Days)-1)/seasonLength(opts.Days)*seasonLength(opts.Days)),
	}
	g.shared()
	for g.stats.Events < opts.Events {
		if g.stats.Customers%2000 == 0 {
			if err := ctx.Err(); err != nil {
				return g.stats, err
			}
		}
		g.customer()
	}
	if g.err != nil {
		return g.stats, g.err
	}
	return g.stats, g.out.Flush()
}

type gen struct {
	rng   *rand.Rand
	out   *bufio.Writer
	err   error
	start time.Time
	endAt time.Time // no event at or after it
	ts    time.Time // the time of the line being written
	days  int
	camps []campaign
	// scale is the span in seasons: a customer's activity over the span
	// grows with it, so the daily volume stays the same.
	scale  float64
	season float64 // the length of a season, in days
	offset float64 // the first season's start, in days from the start
	stats  Stats
	ids    int
	buf    []byte
	last   []byte // the previous line, for duplicate deliveries

	// per customer
	cust     string
	channel  string
	currency string
	country  string   // ISO 3166 code of the customer's number
	pending  [][]byte // lines of the current message, to reorder
}

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

// at returns the time day days (fractional) after the start.
func (g *gen) at(day float64) time.Time {
	return g.start.Add(time.Duration(day * 24 * float64(time.Hour)))
}

// busyTime picks a time of activity: weekdays and evenings are busier, and
// a sales peak sits at 60 % of each season.
func (g *gen) busyTime() time.Time {
	for {
		day := g.rng.Float64() * float64(g.days)
		peak := math.Exp(-math.Pow((math.Mod(day-g.offset, g.season)/g.season-0.6)/0.06, 2))
		t := g.at(math.Floor(day))
		hour := 7 + g.rng.NormFloat64()*3 + 6*g.rng.Float64()
		if hour < 0 || hour >= 24 {
			continue
		}
		t = t.Add(time.Duration(hour * float64(time.Hour)))
		weight := 0.55 + 0.45*peak
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			weight *= 0.6
		}
		if g.chance(weight) {
			return t
		}
	}
}

func (g *gen) nextID() string {
	g.ids++
	return "e" + strconv.Itoa(g.ids)
}

// ev starts an event line; finish it with end.
func (g *gen) ev(ts time.Time, kind string) *gen {
	g.ts = ts
	g.buf = append(g.buf[:0], `{"id":"`...)
	g.buf = append(g.buf, g.nextID()...)
	g.buf = append(g.buf, `","ts":"`...)
	g.buf = ts.UTC().AppendFormat(g.buf, "2006-01-02T15:04:05.000Z")
	g.buf = append(g.buf, `","kind":"`...)
	g.buf = append(g.buf, kind...)
	g.buf = append(g.buf, '"')
	return g
}

func (g *gen) s(key, value string) *gen {
	if value == "" {
		return g
	}
	g.buf = append(g.buf, ',', '"')
	g.buf = append(g.buf, key...)
	g.buf = append(g.buf, '"', ':')
	g.buf = strconv.AppendQuote(g.buf, value)
	return g
}

func (g *gen) n(key string, value int64) *gen {
	g.buf = append(g.buf, ',', '"')
	g.buf = append(g.buf, key...)
	g.buf = append(g.buf, '"', ':')
	g.buf = strconv.AppendInt(g.buf, value, 10)
	return g
}

// raw appends a JSON value as is (props, tags).
func (g *gen) raw(key, json string) *gen {
	g.buf = append(g.buf, ',', '"')
	g.buf = append(g.buf, key...)
	g.buf = append(g.buf, '"', ':')
	g.buf = append(g.buf, json...)
	return g
}

// end writes the line, or holds it when a message's lines are collected.
// What would happen after the data's end (a reply, an order, a refund
// that follows a late message) is left out: the data ends at End.
func (g *gen) end() {
	if !g.ts.Before(g.endAt) {
		return
	}
	g.buf = append(g.buf, '}', '\n')
	if g.pending != nil {
		g.pending = append(g.pending, append([]byte(nil), g.buf...))
		return
	}
	g.write(g.buf)
}

func (g *gen) write(line []byte) {
	if g.err != nil {
		return
	}
	if _, err := g.out.Write(line); err != nil {
		g.err = err
	}
	g.stats.Events++
	if g.chance(duplicateRate) {
		g.out.Write(line)
		g.stats.Events++
	}
}

// flushMessage writes a message's lines, sometimes a status before its send.
func (g *gen) flushMessage() {
	lines := g.pending
	g.pending = nil
	if len(lines) > 1 && g.chance(earlyStatusRate) {
		i := 1 + g.rng.IntN(len(lines)-1)
		lines[0], lines[i] = lines[i], lines[0]
	}
	for _, l := range lines {
		g.write(l)
	}
}

// amount writes minor units of a currency as the decimal text events carry.
func amount(minor int64, currency string) string {
	if currency == "IDR" { // rupiah prices have no cents in practice
		return strconv.FormatInt(minor/100, 10)
	}
	return strconv.FormatInt(minor/100, 10) + "." + strconv.FormatInt(100+minor%100, 10)[1:]
}
