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

export default async function alerts(ctx) {
  const rulesSrc = '/v1/alerts';
  const firingsSrc = '/v1/alerts/firings';
  const [rules, firings] = await Promise.all([api.get(rulesSrc), api.get(firingsSrc)]);
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
    panel('rules', `Rules (${firingNow} firing)`, { src: rulesSrc, wide: true, note: 'Each rule watches one KPI over a rolling window.' },
      table({ id: 'rules', columns: ruleCols, rows: list, rowKey: (r) => r.id, empty: 'No alert rules: add one with PUT /v1/alerts/{id}.' })),
    panel('firings', 'Latest firings', { src: firingsSrc, wide: true },
      table({ id: 'firings', columns: firingCols, rows: firings.firings || [], rowKey: (r) => r.rule + '@' + r.started, empty: 'Nothing has fired.' })),
  ];
}
