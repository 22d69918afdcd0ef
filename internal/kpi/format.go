package kpi

import (
	"strconv"
	"strings"

	"github.com/omnikpi/omnikpi/internal/event"
)

// FormatValue writes v for people: "15.0 %", "20.00 EUR", "5.0x", "—".
func FormatValue(v Value) string {
	if v.Value == nil {
		return "—"
	}
	return formatNumber(*v.Value, v.Unit, v.Currency)
}

func formatNumber(x float64, u Unit, currency string) string {
	switch u {
	case Percent:
		return strconv.FormatFloat(x, 'f', precision(x), 64) + " %"
	case Money:
		return group(strconv.FormatFloat(x, 'f', event.MinorDigits(currency), 64)) + " " + currency
	case Ratio:
		return strconv.FormatFloat(x, 'f', 1, 64) + "x"
	case Seconds:
		return duration(x)
	case Score:
		return strconv.FormatFloat(x, 'f', 1, 64)
	default:
		if x == float64(int64(x)) {
			return group(strconv.FormatInt(int64(x), 10))
		}
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
}

// duration writes seconds in the unit that reads best.
func duration(sec float64) string {
	switch {
	case sec < 120:
		return strconv.FormatFloat(sec, 'f', 1, 64) + " s"
	case sec < 2*3600:
		return strconv.FormatFloat(sec/60, 'f', 1, 64) + " min"
	case sec < 48*3600:
		return strconv.FormatFloat(sec/3600, 'f', 1, 64) + " h"
	}
	return strconv.FormatFloat(sec/86400, 'f', 1, 64) + " d"
}

// secondsPer are the seconds in each unit duration writes.
var secondsPer = map[string]float64{"s": 1, "min": 60, "h": 3600, "d": 86400}

// precision keeps small rates such as opt-outs (0.25 %) readable.
func precision(x float64) int {
	if x != 0 && x < 1 && x > -1 {
		return 2
	}
	return 1
}

// group puts thousands separators into a decimal number.
func group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}

// FormatRating writes a rating for people: "worse than band", "within
// band", "better than band", "best"; "" for none.
func FormatRating(r Rating) string {
	switch r {
	case Worse, Better:
		return string(r) + " than band"
	case Within:
		return "within band"
	}
	return string(r)
}

// FormatBand writes a band like "85–90 %, best ≥ 95 %".
func FormatBand(b *Band, u Unit, dir Direction) string {
	if b == nil {
		return ""
	}
	num := func(x float64) string { return formatNumber(x, u, b.Currency) }
	var parts []string
	switch {
	case b.Low != nil && b.High != nil:
		high := num(*b.High)
		low, dash := strings.TrimSuffix(num(*b.Low), unitSuffix(u, b.Currency)), "–"
		if u == Seconds { // in the high end's unit, "1.0–5.0 min" rather than "60.0–5.0 min", unless too small for it
			_, unit, _ := strings.Cut(high, " ")
			if in := *b.Low / secondsPer[unit]; in >= 0.1 {
				low = strconv.FormatFloat(in, 'f', 1, 64)
			} else {
				low, dash = num(*b.Low), " – "
			}
		}
		parts = append(parts, low+dash+high)
	case b.Low != nil:
		parts = append(parts, "≥ "+num(*b.Low))
	case b.High != nil:
		parts = append(parts, "≤ "+num(*b.High))
	}
	if b.Best != nil {
		op := "≥"
		if dir == LowerIsBetter {
			op = "≤"
		}
		parts = append(parts, "best "+op+" "+num(*b.Best))
	}
	return strings.Join(parts, ", ")
}

func unitSuffix(u Unit, currency string) string {
	switch u {
	case Percent:
		return " %"
	case Money:
		return " " + currency
	case Ratio:
		return "x"
	case Seconds:
		return " s"
	}
	return ""
}

// DefinitionOf returns the catalogue entry for id.
func DefinitionOf(id string) (Definition, bool) {
	e, ok := byID[id]
	return e.Definition, ok
}
