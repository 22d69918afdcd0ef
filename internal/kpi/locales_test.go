package kpi

import (
	"strings"
	"testing"
)

// TestLocales_TranslateTheWholeCatalogue: every language's file has every
// KPI's name and formula, a band text exactly where the catalogue has a
// band, every platform's band, and nothing the catalogue lacks.
func TestLocales_TranslateTheWholeCatalogue(t *testing.T) {
	for _, lang := range Languages[1:] {
		missing, err := missingTexts(lang)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		if len(missing) > 0 {
			t.Errorf("locales/%s.json:\n%s", lang, strings.Join(missing, "\n"))
		}
		c, err := CatalogueIn(lang)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.KPIs) != len(catalogue) {
			t.Fatalf("%s: %d KPIs, want %d", lang, len(c.KPIs), len(catalogue))
		}
		for i, d := range c.KPIs {
			en := catalogue[i]
			if d.ID != en.ID || d.Unit != en.Unit || d.Direction != en.Direction {
				t.Errorf("%s: %s changed more than its texts: %+v", lang, en.ID, d)
			}
			if en.Band != nil && (d.Band == nil || d.Band.Low != en.Band.Low || d.Band.High != en.Band.High || c.BandSources[en.Band.Source] != d.Band.Source) {
				t.Errorf("%s: %s's band %+v, in English %+v", lang, en.ID, d.Band, en.Band)
			}
		}
		// The catalogue itself is untouched by a translation.
		if Catalogue()[0].Name != catalogue[0].Name {
			t.Fatalf("translating to %s changed the catalogue", lang)
		}
	}
	for _, bad := range []string{"", "fr", "zh"} {
		if _, err := CatalogueIn(bad); err == nil || !strings.Contains(err.Error(), "zh-HK") {
			t.Errorf("CatalogueIn(%q) = %v, want an error naming the languages", bad, err)
		}
	}
	if l, err := Language("ZH-hk"); err != nil || l != "zh-HK" {
		t.Errorf("Language(ZH-hk) = %q, %v", l, err)
	}
}
