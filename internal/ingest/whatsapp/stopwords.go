package whatsapp

import (
	"strings"
	"sync"
	"unicode"
)

// DefaultStopWordList holds the replies that mean "stop sending me
// messages" in the languages of this product's first markets: English,
// Indonesian, Malay and Chinese (simplified and traditional), and the text
// of WhatsApp's own marketing opt-out button.
var DefaultStopWordList = []string{
	// English
	"stop", "stop all", "stopall", "unsubscribe", "opt out", "optout", "opt-out", "end", "quit",
	"stop promotions", "stop messages",
	// Indonesian
	"berhenti", "berhenti langganan", "stop langganan", "henti langganan", "jangan kirim lagi",
	// Malay
	"henti", "hentikan", "berhenti melanggan", "henti langganan", "nyahlanggan",
	// Chinese
	"停止", "退订", "退訂", "取消订阅", "取消訂閱", "取消订閱", "不要再发", "不要再發",
}

// StopWords recognises an opt-out reply: the whole message, once lower-cased
// and stripped of punctuation and extra spaces, equals one of the words.
// A stop word inside a longer message ("don't stop now") is not an opt-out.
type StopWords struct{ words map[string]bool }

// NewStopWords makes a matcher for words.
func NewStopWords(words []string) *StopWords {
	s := &StopWords{words: map[string]bool{}}
	for _, w := range words {
		if n := normalise(w); n != "" {
			s.words[n] = true
		}
	}
	return s
}

// DefaultStopWords matches DefaultStopWordList. The matcher is built once:
// it is read-only.
var DefaultStopWords = sync.OnceValue(func() *StopWords { return NewStopWords(DefaultStopWordList) })

// Match reports whether text is an opt-out.
func (s *StopWords) Match(text string) bool {
	if s == nil || text == "" || len(text) > 100 {
		return false
	}
	return s.words[normalise(text)]
}

func normalise(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsPunct(r) || unicode.IsSymbol(r):
			b.WriteRune(' ')
		default:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
