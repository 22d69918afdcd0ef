// Number, money, duration and date formatting in the page's language. The
// page shows these; the raw value stays in each figure's data-value
// attribute.

import { locale, t } from './i18n.js';

// Formats are made for the current language's locale, once each.
const formats = new Map();

function numberFormat(opts) {
  const key = locale() + JSON.stringify(opts);
  let f = formats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale(), opts);
    formats.set(key, f);
  }
  return f;
}

const fixed = (v, digits) => numberFormat({ minimumFractionDigits: digits, maximumFractionDigits: digits }).format(v);

function money(v, currency) {
  if (!currency) return numberFormat({ maximumFractionDigits: 2 }).format(v);
  // Large amounts drop the minor units: Rp 1,145,875 rather than
  // Rp 1,145,875.00.
  const opts = { style: 'currency', currency, currencyDisplay: 'narrowSymbol' };
  if (Math.abs(v) >= 10000) Object.assign(opts, { minimumFractionDigits: 0, maximumFractionDigits: 0 });
  try {
    return numberFormat(opts).format(v);
  } catch {
    return numberFormat({ maximumFractionDigits: 2 }).format(v) + ' ' + currency;
  }
}

function percent(v) {
  const a = Math.abs(v);
  return fixed(v, a !== 0 && a < 1 ? 2 : 1) + ' %';
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
  if (a < 60) return t('{n} s', { n: fixed(v, a < 10 ? 1 : 0) });
  if (a < 3600) return t('{n} min', { n: fixed(v / 60, 1) });
  if (a < 86400) return t('{n} h', { n: fixed(v / 3600, 1) });
  return t('{n} d', { n: fixed(v / 86400, 1) });
}

// span words a duration as the API writes it (72h, 7d, 30m): whole days
// or hours as such (3 d, 36 h), anything else as duration does it; a text
// that is no duration stays as it is.
export function span(d) {
  const h = hours(d);
  if (Number.isNaN(h)) return d || '—';
  if (h >= 24 && h % 24 === 0) return t('{n} d', { n: number(h / 24, 0) });
  if (h >= 1 && Number.isInteger(h)) return t('{n} h', { n: number(h, 0) });
  return duration(h * 3600);
}

// value formats v in the KPI unit (count, percent, money, seconds, ratio,
// score).
export function value(v, unit, currency) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  switch (unit) {
    case 'count': return numberFormat({ maximumFractionDigits: Number.isInteger(v) ? 0 : 2 }).format(v);
    case 'percent': return percent(v);
    case 'money': return money(v, currency);
    case 'seconds': return duration(v);
    case 'ratio': return fixed(v, 1) + 'x';
    case 'score': return fixed(v, 1).replace('-', '−');
    default: return numberFormat({ maximumFractionDigits: 2 }).format(v);
  }
}

// change formats a change against an earlier period: points for rates and
// scores (the API's change_unit says which), percent for anything else.
export function change(v, unit) {
  if (v === null || v === undefined) return '—';
  const sign = v > 0 ? '+' : v < 0 ? '−' : '±';
  const a = Math.abs(v);
  const n = fixed(a, a < 10 ? 2 : 1);
  return sign + (unit === 'points' ? t('{n} pts', { n }) : n + ' %');
}

// number formats a plain number.
export function number(v, digits = 2) {
  if (v === null || v === undefined) return '—';
  return numberFormat({ maximumFractionDigits: digits }).format(v);
}

// The one date format of the page, the date inputs' included: the
// locale's numeric day, month and year (30/11/2026 in each of the four).
const DAY = { year: 'numeric', month: '2-digit', day: '2-digit' };

function dateFormat(timeZone, extra) {
  const key = 'date' + locale() + timeZone + JSON.stringify(extra || {});
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale(), Object.assign({ timeZone }, DAY, extra));
    formats.set(key, f);
  }
  return f;
}

// dateTime formats an RFC 3339 time in the workspace's zone: its date and
// time of day.
export function dateTime(s, timeZone) {
  if (!s) return '—';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return dateFormat(timeZone, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
}

// date formats an RFC 3339 time or a date as a day in the workspace's zone.
export function date(s, timeZone) {
  if (!s) return '—';
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(s) ? s + 'T12:00:00Z' : s);
  if (Number.isNaN(d.getTime())) return s;
  return dateFormat(timeZone).format(d);
}

// dayPattern describes the date format for a date input's placeholder:
// DD/MM/YYYY, in the locale's order.
export function dayPattern() {
  const names = { day: 'DD', month: 'MM', year: 'YYYY' };
  return dateFormat('UTC').formatToParts(new Date(Date.UTC(2026, 10, 30)))
    .map((p) => names[p.type] || p.value).join('');
}

// parseDay reads a date typed in the page's date format as YYYY-MM-DD, or
// returns '' when it is not a date.
export function parseDay(text) {
  const order = dateFormat('UTC').formatToParts(new Date(Date.UTC(2026, 10, 30)))
    .map((p) => p.type).filter((type) => type === 'day' || type === 'month' || type === 'year');
  const nums = String(text || '').trim().match(/\d+/g);
  if (!nums || nums.length !== 3) return '';
  const v = {};
  // A date written as 2026-11-30 reads so in any locale.
  if (nums[0].length === 4) [order[0], order[1], order[2]] = ['year', 'month', 'day'];
  order.forEach((part, i) => { v[part] = parseInt(nums[i], 10); });
  if (!(v.year >= 1000 && v.year <= 9999)) return '';
  const d = new Date(Date.UTC(v.year, v.month - 1, v.day));
  if (d.getUTCFullYear() !== v.year || d.getUTCMonth() !== v.month - 1 || d.getUTCDate() !== v.day) return '';
  return d.toISOString().slice(0, 10);
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
