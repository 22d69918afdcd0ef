package kpi

import (
	"slices"
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

// englishTexts is the catalogue's own text, in the form of a language file:
// what a translation translates.
func englishTexts() (map[string]CatalogueText, map[string]map[string]string) {
	kpis := make(map[string]CatalogueText, len(catalogue))
	for _, e := range catalogue {
		t := CatalogueText{Name: e.Name, Formula: e.Formula}
		if e.Band != nil {
			t.Band = e.Band.Source
		}
		kpis[e.ID] = t
	}
	bands := make(map[string]map[string]string, len(channelBands))
	for id, byChannel := range channelBands {
		bands[id] = make(map[string]string, len(byChannel))
		for ch, b := range byChannel {
			bands[id][ch] = b.Source
		}
	}
	return kpis, bands
}

// missingTexts lists what lang's file lacks or holds beyond the catalogue,
// as "id.field" lines, sorted.
func missingTexts(lang string) ([]string, error) {
	loc, err := loadLocale(lang)
	if err != nil {
		return nil, err
	}
	kpis, bands := englishTexts()
	var out []string
	for id, en := range kpis {
		t, ok := loc.KPIs[id]
		switch {
		case !ok:
			out = append(out, id+": missing")
			continue
		case t.Name == "":
			out = append(out, id+".name: missing")
		case t.Formula == "":
			out = append(out, id+".formula: missing")
		}
		if (en.Band == "") != (t.Band == "") {
			out = append(out, id+".band: present in one language only")
		}
	}
	for id := range loc.KPIs {
		if _, ok := kpis[id]; !ok {
			out = append(out, id+": not in the catalogue")
		}
	}
	for id, byChannel := range bands {
		for ch := range byChannel {
			if loc.ChannelBands[id][ch] == "" {
				out = append(out, "channel_bands."+id+"."+ch+": missing")
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
