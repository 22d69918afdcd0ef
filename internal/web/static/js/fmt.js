// Number, money, duration and date formatting. The page shows these; the
// raw value stays in each figure's data-value attribute.

const locale = 'en-GB';
const counts = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
const decimals = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
const moneyFormats = new Map();

function money(v, currency) {
  if (!currency) return decimals.format(v);
  // Large amounts drop the minor units: Rp 1,145,875 rather than
  // Rp 1,145,875.00.
  const whole = Math.abs(v) >= 10000;
  const key = currency + (whole ? ':whole' : '');
  let f = moneyFormats.get(key);
  if (!f) {
    try {
      const opts = { style: 'currency', currency, currencyDisplay: 'narrowSymbol' };
      if (whole) Object.assign(opts, { minimumFractionDigits: 0, maximumFractionDigits: 0 });
      f = new Intl.NumberFormat(locale, opts);
    } catch {
      f = { format: (x) => decimals.format(x) + ' ' + currency };
    }
    moneyFormats.set(key, f);
  }
  return f.format(v);
}

function percent(v) {
  const a = Math.abs(v);
  return (a !== 0 && a < 1 ? v.toFixed(2) : v.toFixed(1)) + ' %';
}

// hours reads a duration as the API writes it (7d, 36h, 90m, 45s; older
// answers 168h0m0s) as a number of hours, or NaN.
export function hours(d) {
  const m = /^(-?\d+(?:\.\d+)?)(d|h|m|s)/.exec(d || '');
  if (!m) return NaN;
  const n = parseFloat(m[1]);
  return { d: n * 24, h: n, m: n / 60, s: n / 3600 }[m[2]];
}

// duration formats seconds as s, min, h or d.
export function duration(v) {
  const a = Math.abs(v);
  if (a < 60) return (a < 10 ? v.toFixed(1) : v.toFixed(0)) + ' s';
  if (a < 3600) return (v / 60).toFixed(1) + ' min';
  if (a < 86400) return (v / 3600).toFixed(1) + ' h';
  return (v / 86400).toFixed(1) + ' d';
}

// value formats v in the KPI unit (count, percent, money, seconds, ratio,
// score).
export function value(v, unit, currency) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  switch (unit) {
    case 'count': return Number.isInteger(v) ? counts.format(v) : decimals.format(v);
    case 'percent': return percent(v);
    case 'money': return money(v, currency);
    case 'seconds': return duration(v);
    case 'ratio': return v.toFixed(1) + 'x';
    case 'score': return v.toFixed(1).replace('-', '−');
    default: return decimals.format(v);
  }
}

// change formats a change against an earlier period: points for rates and
// scores (the API's change_unit says which), percent for anything else.
export function change(v, unit) {
  if (v === null || v === undefined) return '—';
  const sign = v > 0 ? '+' : v < 0 ? '−' : '±';
  const a = Math.abs(v);
  return sign + (a < 10 ? a.toFixed(2) : a.toFixed(1)) + (unit === 'points' ? ' pts' : ' %');
}

// number formats a plain number.
export function number(v, digits = 2) {
  if (v === null || v === undefined) return '—';
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(v);
}

// dateTime formats an RFC 3339 time in the workspace's zone.
// The year is left out for times of the current year.
export function dateTime(s, timeZone) {
  if (!s) return '—';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  const year = (x) => new Intl.DateTimeFormat('en', { timeZone, year: 'numeric' }).format(x);
  return new Intl.DateTimeFormat(locale, {
    timeZone, year: year(d) === year(new Date()) ? undefined : 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  }).format(d);
}

// date formats an RFC 3339 time or a date as a day in the workspace's zone.
export function date(s, timeZone) {
  if (!s) return '—';
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(s) ? s + 'T12:00:00Z' : s);
  if (Number.isNaN(d.getTime())) return s;
  return new Intl.DateTimeFormat(locale, { timeZone, year: 'numeric', month: 'short', day: 'numeric' }).format(d);
}

// today is the date (YYYY-MM-DD) in timeZone.
export function today(timeZone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

// addDays adds n days to a YYYY-MM-DD date.
export function addDays(day, n) {
  const d = new Date(day + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// daysBetween counts the days from a to b (YYYY-MM-DD).
export function daysBetween(a, b) {
  return Math.round((Date.parse(b + 'T00:00:00Z') - Date.parse(a + 'T00:00:00Z')) / 86400000);
}
