// The dashboard's language: English, Bahasa Indonesia, Bahasa Melayu or
// Chinese as written in Hong Kong. Texts are written in English in the
// code and looked up in the language's dictionary (static/i18n/LANG.json,
// keyed by the English text); KPI names and band texts come from the
// catalogue in that language.

export const LANGUAGES = [
  { id: 'en', name: 'English', locale: 'en-GB' },
  { id: 'id', name: 'Bahasa Indonesia', locale: 'id-ID' },
  { id: 'ms', name: 'Bahasa Melayu', locale: 'ms-MY' },
  { id: 'zh-HK', name: '中文（香港）', locale: 'zh-HK' },
];

const STORED = 'omnikpi.language';
let current = LANGUAGES[0];
let dictionary = {};
let bandSources = {};

// t translates an English text, filling {name} placeholders from vars.
export function t(text, vars) {
  const s = dictionary[text] || text;
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

// language is the current language's id; locale its number and date
// locale.
export function language() { return current.id; }
export function locale() { return current.locale; }

function find(id) {
  if (!id) return null;
  const lower = String(id).toLowerCase();
  return LANGUAGES.find((l) => l.id.toLowerCase() === lower) ||
    // A browser's zh-Hant-HK, zh-TW or zh-Hant reads Traditional Chinese;
    // id-ID and ms-MY read as their language.
    (/^zh-(hant|hk|tw|mo)/.test(lower) ? LANGUAGES[3] : null) ||
    LANGUAGES.find((l) => l.id !== 'zh-HK' && lower.split('-')[0] === l.id) || null;
}

// choose picks the language: the user's own choice (kept with the user on
// the server), else the one this browser chose before, else the browser's
// first supported language, else English.
export function choose(userChoice) {
  let saved = null;
  try { saved = localStorage.getItem(STORED); } catch { /* no storage */ }
  for (const id of [userChoice, saved, ...(navigator.languages || [navigator.language])]) {
    const l = find(id);
    if (l) return l.id;
  }
  return 'en';
}

// remember keeps the choice in this browser (a key's session has no user
// to keep it with).
export function remember(id) {
  try { localStorage.setItem(STORED, id); } catch { /* no storage */ }
}

// use loads the dictionary of language id and makes it current.
export async function use(id) {
  const l = find(id) || LANGUAGES[0];
  let words = {};
  if (l.id !== 'en') {
    const res = await fetch(new URL(`../i18n/${l.id}.json`, import.meta.url));
    if (!res.ok) throw new Error(`the ${l.name} texts did not load (HTTP ${res.status})`);
    words = await res.json();
  }
  current = l;
  dictionary = words;
  document.documentElement.lang = l.id;
}

// setBandSources takes the catalogue's band texts in the language, by
// their English text (the catalogue's band_sources).
export function setBandSources(m) { bandSources = m || {}; }

// bandSource is a band's text, as answers carry it, in the language.
export function bandSource(text) { return bandSources[text] || text; }
