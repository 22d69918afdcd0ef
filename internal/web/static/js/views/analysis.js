// Cohorts as a heat map.

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { h, panel, table, message, chooser } from '../dom.js';
import { heatmap } from '../chart.js';

const COHORT_METRICS = [
  ['retained', 'Active (% of cohort)'], ['bought', 'Bought (% of cohort)'], ['revenue', 'Revenue per customer, cumulative'],
];

export default async function cohorts(ctx) {
  const p = ctx.params;
  const per = p.period === 'month' ? 'month' : 'week';
  const metric = COHORT_METRICS.some(([m]) => m === p.metric) ? p.metric : 'retained';
  const src = api.url('/v1/cohorts', ctx.q({ period: per }));
  const res = await api.get(src);
  const list = (res.cohorts || []).slice().sort((a, b) => a.start.localeCompare(b.start));
  const width = Math.max(0, ...list.map((c) => c.periods.length));
  // Revenue per customer comes per currency: show the filter's, or the
  // first that appears.
  let currency = p.currency;
  if (!currency) for (const c of list) for (const x of c.periods) for (const cur of Object.keys(x.revenue_per_customer || {})) currency = currency || cur;
  const val = (x) => (metric === 'revenue' ? (x.revenue_per_customer || {})[currency] ?? null : x[metric]);
  const max = metric === 'revenue' ? Math.max(1, ...list.flatMap((c) => c.periods.map((x) => val(x) || 0))) : 100;
  const text = (v) => (v === null ? '' : metric === 'revenue' ? fmt.value(v, 'money', currency).replace(/\.\d+$/, '') : Math.round(v) + '%');
  const label = (c) => fmt.date(c.start, ctx.tz) + ' · ' + c.customers;
  const map = list.length ? heatmap({
    rows: list.map(label),
    cols: Array.from({ length: width }, (_, i) => (per === 'week' ? 'W' : 'M') + i),
    rowLabelWidth: 130, cellWidth: metric === 'revenue' ? 56 : 40, max,
    label: 'Cohorts by ' + per + ': ' + COHORT_METRICS.find(([m]) => m === metric)[1],
    cell: (i, j) => {
      const x = list[i].periods[j];
      if (!x) return null;
      const v = val(x);
      return {
        value: v, text: text(v),
        title: `${fmt.date(list[i].start, ctx.tz)} cohort (${list[i].customers} customers), ${per} ${j}: ${x.active} active, ${x.buyers} bought` +
          (metric === 'revenue' && v !== null ? ', ' + fmt.value(v, 'money', currency) + ' per customer' : ''),
        attrs: { 'data-row': list[i].start, 'data-col': String(j), 'data-kpi': metric, 'data-value': v === null ? '' : String(v) },
      };
    },
  }) : null;
  const cols = [
    { key: 'start', label: 'Cohort', text: (v) => fmt.date(v, ctx.tz) },
    { key: 'customers', label: 'Customers', num: true, unit: 'count' },
    ...Array.from({ length: Math.min(width, 12) }, (_, j) => ({
      key: 'p' + j, label: (per === 'week' ? 'W' : 'M') + j, num: true, kpi: metric + '.' + j,
      get: (c) => (c.periods[j] ? val(c.periods[j]) : null),
      text: (v) => (v === null || v === undefined ? '' : metric === 'revenue' ? fmt.value(v, 'money', currency) : fmt.value(v, 'percent')),
    })),
  ];
  // A cohort needs later periods to follow: a short range shows little.
  const short = ctx.period.days < 60 ? h('p', { class: 'hint' }, `Cohorts need time to show retention: `,
    h('a', { href: ctx.href({ days: 90, from: '', to: '' }), dataset: { widen: '' } }, 'show the last 90 days'), '.') : null;
  return [
    short,
    h('div', { class: 'toolbar' },
      chooser(ctx, 'period', 'Cohorts by', [['week', 'week'], ['month', 'month']], per, 'week'),
      chooser(ctx, 'metric', 'Show', COHORT_METRICS, metric, 'retained')),
    panel('cohorts', 'Cohorts', {
      src, wide: true,
      note: `Customers whose first event falls in the period, by ${per} of that event, followed ${per} by ${per}. ` +
        (metric === 'revenue' ? `In ${currency || 'the shop\'s currency'}.` : 'Shares of each cohort.'),
    },
    map ? h('div', { class: 'scroll' }, map) : message('No new customers in this period.'),
    list.length ? h('details', null, h('summary', null, 'As a table'),
      table({ id: 'cohorts', columns: cols, rows: list, rowKey: (c) => c.start })) : null),
  ];
}
