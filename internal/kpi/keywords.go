package kpi

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// Keywords of inbound customer text (KPIS.md §3, top_keywords): words and
// two-word phrases of alphabetic scripts without stop words (English,
// Indonesian, Malay), and for Chinese, written without spaces, character
// pairs (bigrams) without function words. A term counts once per message,
// so one long message cannot dominate.

var stopWordText = `
a about above after again against all am an and any are as at be because been before being below between both but by
can could did do does doing down during each few for from further had has have having he her here hers herself him
himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other
our ours ourselves out over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which while who whom why will
with would you your yours yourself yourselves hi hello hey ok okay thanks thank please yes yeah im i'm it's dont don't
can't cant pls thx u ur also get got one
ada adalah agar akan aku anda apa apakah atau bagaimana banyak belum bisa boleh dalam dan dari dengan di dia ini itu
ia ialah jika juga kalau kami kamu kan karena ke kepada kita lagi lah mana masih mau mereka nya oleh pada saja
sama saya sedang sudah supaya tapi tetapi tidak untuk yang ya dong deh sih nih kok gak nggak ga tak udah mohon tolong
terima kasih halo selamat pagi siang sore malam kak kakak gan sis min
akan anda awak bagi beliau belum boleh cuma dah dalam dapat dekat dengan di hendak itu kamu kami kena lagi macam
mahu nak pun sahaja saya sudah tu ni tidak untuk yang encik puan cik
`

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(stopWordText) {
		m[w] = true
	}
	return m
}()

// hanFunction are Chinese function characters and words: a bigram holding
// one of the characters, or equal to one of the words, is no keyword.
var (
	hanFunctionChars = "的了吗呢吧啊呀哦嗯是在我你他她它们这那就也都还和与及或"
	hanFunctionWords = map[string]bool{"可以": true, "什么": true, "怎么": true, "没有": true, "一个": true, "因为": true,
		"所以": true, "如果": true, "但是": true, "请问": true, "谢谢": true, "你好": true, "您好": true, "现在": true, "已经": true}
)

// Terms returns the keywords of one message, each once.
func Terms(text string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	var word strings.Builder
	var han []rune
	var prev string // the previous kept word, for phrases
	flushWord := func() {
		w := word.String()
		word.Reset()
		if w == "" {
			return
		}
		if stopWords[w] || len([]rune(w)) < 2 || isNumber(w) {
			prev = ""
			return
		}
		add(w)
		if prev != "" {
			add(prev + " " + w)
		}
		prev = w
	}
	flushHan := func() {
		for i := 0; i+1 < len(han); i++ {
			pair := string(han[i : i+2])
			if !hanFunctionWords[pair] && !strings.ContainsAny(pair, hanFunctionChars) {
				add(pair)
			}
		}
		han = han[:0]
	}
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.Is(unicode.Han, r):
			flushWord()
			prev = ""
			han = append(han, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r) || (r == '\'' && word.Len() > 0):
			flushHan()
			word.WriteRune(r)
		default:
			flushWord()
			flushHan()
			if !unicode.IsSpace(r) {
				prev = "" // punctuation ends a phrase
			}
		}
	}
	flushWord()
	flushHan()
	return out
}

func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// Keyword is a term and the number of messages that used it.
type Keyword struct {
	Term     string `json:"term"`
	Messages int    `json:"messages"`
}

// runKeywords counts the terms of the period's inbound text by group.
func (e *Engine) runKeywords(ctx context.Context, res *resolved, groups map[string]*groupData) error {
	return e.eachTextRow(ctx, res, "inbound-text", groups, func(g *groupData, text string) {
		for _, t := range Terms(text) {
			g.comps.count("keywords", t, 1)
		}
	})
}

// runFeedback counts the period's feedback by tag.
func (e *Engine) runFeedback(ctx context.Context, res *resolved, groups map[string]*groupData) error {
	return e.eachTextRow(ctx, res, "feedback-tags", groups, func(g *groupData, tags string) {
		g.comps.plain["feedback_n"]++
		for _, tag := range strings.Split(tags, "\n") {
			if tag = strings.TrimSpace(tag); tag != "" {
				g.comps.count("feedback_tags", tag, 1)
			}
		}
	})
}

// eachTextRow runs a query whose rows are the group cells and one text.
func (e *Engine) eachTextRow(ctx context.Context, res *resolved, query string, groups map[string]*groupData, each func(*groupData, string)) error {
	rows, err := e.query(ctx, res, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		cells := make([]*string, len(res.GroupBy))
		var bucket, text *string
		dest := make([]any, 0, len(cells)+2)
		for i := range cells {
			dest = append(dest, &cells[i])
		}
		if res.Bucket != "" {
			dest = append(dest, &bucket)
		}
		dest = append(dest, &text)
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("read %s: %w", query, err)
		}
		g, err := groupFor(groups, cells, bucket, res.Location)
		if err != nil {
			return err
		}
		each(g, deref(text))
	}
	return rows.Err()
}

// KeywordReport lists a period's most used terms.
type KeywordReport struct {
	Workspace string    `json:"workspace"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	TimeZone  string    `json:"time_zone"`
	Keywords  []Keyword `json:"keywords"`
}

// Keywords lists the period's most used terms of inbound customer text,
// at most limit, most used first.
func (e *Engine) Keywords(ctx context.Context, r Request, limit int) (KeywordReport, error) {
	r.GroupBy, r.Bucket = nil, ""
	res, err := e.prepare(ctx, r)
	if err != nil {
		return KeywordReport{}, err
	}
	groups := map[string]*groupData{}
	if err := e.runKeywords(ctx, res, groups); err != nil {
		return KeywordReport{}, err
	}
	out := []Keyword{}
	for _, g := range groups {
		for term, n := range g.comps.labels["keywords"] {
			out = append(out, Keyword{Term: term, Messages: int(n)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Messages != out[j].Messages {
			return out[i].Messages > out[j].Messages
		}
		return out[i].Term < out[j].Term
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return KeywordReport{Workspace: res.Workspace, From: res.fromText(),
		To: res.toText(), TimeZone: res.Location.String(), Keywords: out}, nil
}

var _ = register(View{
	Name: "keywords", Path: "/v1/keywords", Schema: "KeywordReport", Request: true,
	Summary: "Most used terms of inbound customer text",
	Params:  []Param{{Name: "limit", Type: "integer", Min: 1, Max: 1000, Default: "50", Doc: "At most this many terms (1–1000, default 50)"}},
	Columns: keywordColumns,
	Run: func(ctx context.Context, e *Engine, r Request, p Params) (Result, error) {
		return e.Keywords(ctx, r, p.Int("limit"))
	},
	New: func(Params) Result { return &KeywordReport{} },
})

var keywordColumns = []Column{{Name: "term", Type: TypeString}, {Name: "messages", Type: TypeInteger, Unit: Count, Doc: "inbound messages using the term"}}

// Table is a row per term, most used first.
func (rep KeywordReport) Table() Table {
	t := Table{Title: fmt.Sprintf("Top keywords of workspace %s, %s to %s (%s)", rep.Workspace, rep.From, rep.To, rep.TimeZone), Columns: keywordColumns}
	for _, k := range rep.Keywords {
		t.Rows = append(t.Rows, []any{k.Term, k.Messages})
	}
	return t
}
