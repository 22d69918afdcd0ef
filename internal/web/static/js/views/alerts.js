// Alert rules with their state, and the latest firings.

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { h, panel, table } from '../dom.js';

const CONDITIONS = {
  below: 'below', above: 'above', worse_than_band: 'worse than its band', better_than_band: 'better than its band',
  below_band: 'worse than its band', above_band: 'better than its band', // former names
  change_below: 'change below', change_above: 'change above',
};

// window formats a duration such as 7d, 36h or 90m.
function windowText(d) {
  const hours = fmt.hours(d);
  if (!(hours >= 1) || !Number.isInteger(hours)) return d || '—';
  return hours % 24 === 0 ? hours / 24 + ' d' : hours + ' h';
}

// Meta's states that call for attention: a number flagged, a template's
// quality yellow or red, a template paused, disabled or rejected.
const BAD = new Set(['FLAGGED', 'YELLOW', 'RED', 'PAUSED', 'DISABLED', 'REJECTED']);
const stateClass = (v) => (v ? (BAD.has(v) ? 'state firing' : 'state ok') : '');
const words = (v) => (v ? v.replaceAll('_', ' ').toLowerCase() : '—');
const QUALITY = { FLAGGED: 'flagged: low', UNFLAGGED: 'not flagged' };
// tier reads a messaging limit such as TIER_2K as "2K a day".
const tier = (v) => (!v ? '—' : v === 'TIER_UNLIMITED' ? 'unlimited' : v === 'TIER_NOT_SET' ? 'not set' : v.replace('TIER_', '') + ' a day');

// health is the WhatsApp account-health panel: each business number's
// quality and messaging limit, each template's status, quality and
// category, and the period's latest changes.
function health(ctx, src, rep) {
  const when = (v) => (v ? fmt.dateTime(v, ctx.tz) : '—');
  const numbers = table({
    id: 'health-numbers', rows: rep.phone_numbers || [], rowKey: (r) => r.display_phone_number, empty: 'No quality webhook of a business number yet.',
    columns: [
      { key: 'display_phone_number', label: 'Number', cls: 'name' },
      { key: 'quality', label: 'Quality', text: (v) => QUALITY[v] || '—', cls: (r) => stateClass(r.quality) },
      { key: 'messaging_limit', label: 'Messaging limit', text: tier },
      { key: 'updated', label: 'Updated', text: when },
    ],
  });
  const templates = table({
    id: 'health-templates', rows: rep.templates || [], rowKey: (r) => r.message_template_id || r.message_template_name, empty: 'No template webhook yet.',
    columns: [
      { key: 'message_template_name', label: 'Template', cls: 'name' },
      { key: 'message_template_language', label: 'Language' },
      { key: 'status', label: 'Status', text: words, cls: (r) => stateClass(r.status) },
      { key: 'quality_score', label: 'Quality', text: words, cls: (r) => stateClass(r.quality_score) },
      { key: 'category', label: 'Category', text: (v, r) => words(v) + (r.pending_category ? ' → ' + words(r.pending_category) : '') },
      { key: 'updated', label: 'Updated', text: when },
    ],
  });
  const changes = table({
    id: 'health-changes', rows: rep.changes || [], limit: 8, rowKey: (r) => r.at + '|' + r.field + '|' + r.subject, empty: 'No change in this period.',
    columns: [
      { key: 'at', label: 'When', text: when },
      { key: 'subject', label: 'Number or template', cls: 'name' },
      { key: 'event', label: 'What', get: (r) => [r.event, r.from && r.to ? r.from + ' → ' + r.to : r.to].filter(Boolean).join(' ') || null, text: words },
      { key: 'signal', label: 'Alert', text: words, cls: (r) => (r.signal ? 'state firing' : '') },
    ],
  });
  return panel('health', 'WhatsApp account health', { src, wide: true, note: 'As Meta’s webhooks left each number and template at the period’s end; switch on the built-in rules quality-drop, template-setback, messaging-limit-changed and frequency-capped with PUT /v1/alerts/{id}.' },
    h('div', { class: 'health' }, numbers, templates), h('h3', { class: 'group-title' }, 'Latest changes'), changes);
}

export default async function alerts(ctx) {
  const rulesSrc = '/v1/alerts';
  const firingsSrc = '/v1/alerts/firings';
  const healthSrc = api.url('/v1/whatsapp/health', ctx.q());
  const [rules, firings, healthRep] = await Promise.all([api.get(rulesSrc), api.get(firingsSrc), api.get(healthSrc)]);
  const unit = (id) => ctx.info(id).unit;
  const ruleCols = [
    { key: 'state', label: 'State', get: (r) => (r.firing ? 'firing' : 'ok'), text: (v) => (v === 'firing' ? '● Firing' : '○ OK'), cls: (r) => (r.firing ? 'state firing' : 'state ok') },
    { key: 'name', label: 'Rule', get: (r) => r.name || r.id, cls: 'name' },
    { key: 'kpi', label: 'KPI', text: (v) => ctx.info(v).name || v },
    {
      key: 'condition', label: 'Condition',
      text: (v, r) => (CONDITIONS[v] || v) + (v === 'below' || v === 'above' || v.startsWith('change') ? ' ' + fmt.value(r.value || 0, v.startsWith('change') ? '' : unit(r.kpi)) : ''),
    },
    { key: 'window', label: 'Window', text: windowText },
    { key: 'filters', label: 'Filters', get: (r) => Object.entries(r.filters || {}).map(([k, v]) => k + '=' + v).join(', ') },
    { key: 'value', label: 'Value now', num: true, get: (r) => (r.firing ? r.firing.value : null), text: (v, r) => fmt.value(v, unit(r.kpi)) },
    { key: 'since', label: 'Since', get: (r) => (r.firing ? r.firing.started : null), text: (v) => (v ? fmt.dateTime(v, ctx.tz) : '—') },
  ];
  const firingCols = [
    { key: 'rule', label: 'Rule', cls: 'name' },
    { key: 'kpi', label: 'KPI', text: (v) => ctx.info(v).name || v },
    { key: 'value', label: 'Value', num: true, text: (v, r) => fmt.value(v, unit(r.kpi)) },
    { key: 'started', label: 'Started', text: (v) => fmt.dateTime(v, ctx.tz) },
    { key: 'resolved', label: 'Resolved', text: (v) => (v ? fmt.dateTime(v, ctx.tz) : 'still firing') },
  ];
  const list = rules.alerts || [];
  const firingNow = list.filter((r) => r.firing).length;
  return [
    health(ctx, healthSrc, healthRep),
    panel('rules', `Rules (${firingNow} firing)`, { src: rulesSrc, wide: true, note: 'Each rule watches one KPI over a rolling window.' },
      table({ id: 'rules', columns: ruleCols, rows: list, rowKey: (r) => r.id, empty: 'No alert rules: add one with PUT /v1/alerts/{id}.' })),
    panel('firings', 'Latest firings', { src: firingsSrc, wide: true },
      table({ id: 'firings', columns: firingCols, rows: firings.firings || [], rowKey: (r) => r.rule + '@' + r.started, empty: 'Nothing has fired.' })),
  ];
}
