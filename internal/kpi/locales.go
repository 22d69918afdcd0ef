package kpi

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
)

// Languages are the languages the catalogue and the dashboard speak:
// English, Bahasa Indonesia, Bahasa Melayu and Chinese as written in Hong
// Kong. English is the catalogue itself; the others are in locales/.
var Languages = []string{"en", "id", "ms", "zh-HK"}

// CatalogueText is a KPI's text in one language: its name, its formula in
// words and its band's source.
type CatalogueText struct {
	Name    string `json:"name"`
	Formula string `json:"formula"`
	Band    string `json:"band,omitempty"`
}

// catalogueLocale is one language's file: every KPI's text, and the
// per-platform bands' sources by KPI and channel.
type catalogueLocale struct {
	KPIs         map[string]CatalogueText     `json:"kpis"`
	ChannelBands map[string]map[string]string `json:"channel_bands"`
}

//go:embed locales/*.json
var localeFiles embed.FS

// Language returns the supported language lang names (case-insensitive,
// "zh-hk" is "zh-HK"), or an error that lists the supported ones.
func Language(lang string) (string, error) {
	for _, l := range Languages {
		if strings.EqualFold(l, lang) {
			return l, nil
		}
	}
	return "", fmt.Errorf("unknown language %q: want one of %s", lang, strings.Join(Languages, ", "))
}

func loadLocale(lang string) (catalogueLocale, error) {
	var c catalogueLocale
	b, err := localeFiles.ReadFile("locales/" + lang + ".json")
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("locales/%s.json: %w", lang, err)
	}
	return c, nil
}

// LocalCatalogue is the catalogue in one language: every definition with
// its name, formula and band source translated, and the band sources the
// answers' values carry (a default band's or a platform's), from English to
// that language, so a client can show the band of any value in it.
type LocalCatalogue struct {
	Language    string            `json:"language"`
	KPIs        []Definition      `json:"kpis"`
	Headline    []string          `json:"headline"` // the overview's KPIs (Headline)
	BandSources map[string]string `json:"band_sources,omitempty"`
}

// CatalogueIn returns the catalogue in lang, one of Languages. A text
// missing from a language's file stays in English.
func CatalogueIn(lang string) (LocalCatalogue, error) {
	lang, err := Language(lang)
	if err != nil {
		return LocalCatalogue{}, err
	}
	out := LocalCatalogue{Language: lang, KPIs: Catalogue(), Headline: Headline}
	if lang == "en" {
		return out, nil
	}
	loc, err := loadLocale(lang)
	if err != nil {
		return LocalCatalogue{}, err
	}
	out.BandSources = map[string]string{}
	for i, d := range out.KPIs {
		t, ok := loc.KPIs[d.ID]
		if !ok {
			continue
		}
		if t.Name != "" {
			d.Name = t.Name
		}
		if t.Formula != "" {
			d.Formula = t.Formula
		}
		if d.Band != nil && t.Band != "" {
			b := *d.Band
			out.BandSources[b.Source] = t.Band
			b.Source = t.Band
			d.Band = &b
		}
		out.KPIs[i] = d
	}
	for id, byChannel := range channelBands {
		for ch, b := range byChannel {
			if t := loc.ChannelBands[id][ch]; t != "" {
				out.BandSources[b.Source] = t
			}
		}
	}
	return out, nil
}
