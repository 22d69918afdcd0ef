package event

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Money is an amount in integer minor units of an ISO 4217 currency, so that
// sums stay exact: €12.34 is {Minor: 1234, Currency: "EUR"}.
type Money struct {
	Minor    int64  `json:"minor"`
	Currency string `json:"currency"`
}

// String formats m in major units with its currency code, like "12.34 EUR".
func (m Money) String() string {
	return FormatMinor(m.Minor, m.Currency) + " " + m.Currency
}

// FormatMinor writes minor units of currency as a decimal in major units.
func FormatMinor(minor int64, currency string) string {
	exp := MinorDigits(currency)
	if exp == 0 {
		return strconv.FormatInt(minor, 10)
	}
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	s := strconv.FormatInt(minor, 10)
	for len(s) <= exp {
		s = "0" + s
	}
	return sign + s[:len(s)-exp] + "." + s[len(s)-exp:]
}

// ParseAmount turns a decimal text such as "12.5" into minor units of
// currency, exactly: no floating point on the way, and an error when the
// text has more decimals than the currency has minor digits.
func ParseAmount(text, currency string) (int64, error) {
	exp := MinorDigits(currency)
	s := strings.TrimSpace(text)
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	} else if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" && (frac == "" || !hasDot) {
		return 0, fmt.Errorf("%q is not a decimal amount", text)
	}
	if strings.ContainsAny(s, "eE") {
		return 0, fmt.Errorf("%q: write amounts as plain decimals, not in exponent form", text)
	}
	for _, part := range []string{intPart, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("%q is not a decimal amount", text)
			}
		}
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > exp {
		return 0, fmt.Errorf("%q has more decimals than %s allows (%d)", text, currency, exp)
	}
	frac += strings.Repeat("0", exp-len(frac))
	if intPart == "" {
		intPart = "0"
	}
	v, err := strconv.ParseInt(intPart+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range", text)
	}
	if neg {
		v = -v
	}
	return v, nil
}

// MinorDigits is the number of decimals of currency's minor unit (ISO 4217):
// 2 for most, 0 for the yen, 3 for the dinars.
func MinorDigits(currency string) int {
	if d, ok := minorDigits[currency]; ok {
		return d
	}
	return 2
}

// MinorScale is the number of minor units in one major unit of currency,
// exactly: 100 for the euro, 1 for the yen, 1000 for the dinars.
func MinorScale(currency string) *big.Rat {
	return new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(MinorDigits(currency))), nil))
}

// KnownCurrency reports whether code is an active ISO 4217 code.
func KnownCurrency(code string) bool {
	if _, ok := minorDigits[code]; ok {
		return true
	}
	return len(code) == 3 && strings.Contains(twoDigitCurrencies, " "+code+" ")
}

var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"CLF": 4, "UYW": 4,
}

// twoDigitCurrencies are the active ISO 4217 codes with two minor digits.
const twoDigitCurrencies = " AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD" +
	" BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD" +
	" FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK" +
	" LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR" +
	" NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC" +
	" SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG "
