package web_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// dashboardLanguages are the dashboard's languages besides English, whose
// texts are in static/i18n/LANG.json (kpi.Languages).
var dashboardLanguages = []string{"id", "ms", "zh-HK"}

// translated finds the English texts the scripts pass to t(): string
// literals only, so every text the page can show is in the dictionaries.
var translated = regexp.MustCompile(`\bt\(\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|` + "`[^`]*`" + `)`)

var placeholder = regexp.MustCompile(`\{\w+\}`)

func scriptTexts(t *testing.T) map[string]string {
	t.Helper()
	texts := map[string]string{} // text → the first file that uses it
	err := filepath.WalkDir("static/js", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".js") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range translated.FindAllStringSubmatch(string(b), -1) {
			lit := m[1]
			if lit[0] == '`' {
				if strings.Contains(lit, "${") {
					t.Errorf("%s: t(%s) is built at run time: pass a fixed text with {placeholders}", path, lit)
					continue
				}
				lit = strconv.Quote(lit[1 : len(lit)-1])
			} else if lit[0] == '\'' {
				lit = `"` + strings.ReplaceAll(strings.ReplaceAll(lit[1:len(lit)-1], `\'`, `'`), `"`, `\"`) + `"`
			}
			s, err := strconv.Unquote(lit)
			if err != nil {
				t.Errorf("%s: t(%s): %v", path, m[1], err)
				continue
			}
			if _, ok := texts[s]; !ok {
				texts[s] = path
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return texts
}

// TestDictionaries_TranslateEveryText: each language's dictionary has a
// translation of every text the scripts show, with the same placeholders,
// and nothing the scripts no longer use.
func TestDictionaries_TranslateEveryText(t *testing.T) {
	texts := scriptTexts(t)
	if len(texts) < 100 {
		t.Fatalf("found only %d texts passed to t() in static/js", len(texts))
	}
	for _, lang := range dashboardLanguages {
		b, err := os.ReadFile(filepath.Join("static", "i18n", lang+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var dict map[string]string
		if err := json.Unmarshal(b, &dict); err != nil {
			t.Fatalf("%s.json: %v", lang, err)
		}
		var missing []string
		for text, file := range texts {
			tr, ok := dict[text]
			switch {
			case !ok || strings.TrimSpace(tr) == "":
				missing = append(missing, strconv.Quote(text)+" ("+file+")")
			default:
				want, got := placeholder.FindAllString(text, -1), placeholder.FindAllString(tr, -1)
				slices.Sort(want)
				slices.Sort(got)
				if !slices.Equal(want, got) {
					t.Errorf("%s.json: %q has placeholders %v, its translation %q has %v", lang, text, want, tr, got)
				}
			}
		}
		slices.Sort(missing)
		if len(missing) > 0 {
			t.Errorf("%s.json lacks %d texts:\n%s", lang, len(missing), strings.Join(missing, "\n"))
		}
		var unused []string
		for text := range dict {
			if _, ok := texts[text]; !ok {
				unused = append(unused, strconv.Quote(text))
			}
		}
		slices.Sort(unused)
		if len(unused) > 0 {
			t.Errorf("%s.json holds %d texts no script shows:\n%s", lang, len(unused), strings.Join(unused, "\n"))
		}
	}
}
