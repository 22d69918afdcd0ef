// Cohorts and best send time, both as heat maps.

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { h, panel, table, message } from '../dom.js';
import { heatmap } from '../chart.js';

function chooser(ctx, name, label, options, current, fallback) {
  return h('label', { class: 'field inline' }, h('span', null, label),
    h('select', { dataset: { [name]: '' }, onchange: (e) => ctx.navigate({ [name]: e.target.value === fallback ? '' : e.target.value }) },
      options.map(([v, text]) => h('option', { value: v, selected: v === current }, text))));
}

const COHORT_METRICS = [
  ['retained', 'Active (% of cohort)'], ['bought', 'Bought (% of cohort)'], ['revenue', 'Revenue per customer, cumulative'],
];

export async function cohorts(ctx) {
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

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_NAMES = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };

export async function sendtime(ctx) {
  const p = ctx.params;
  const metric = p.metric === 'replies' ? 'replies' : 'reads';
  const src = api.url('/v1/sendtime', ctx.q());
  const res = await api.get(src);
  const channels = res.channels || [];
  const names = channels.map((c) => c.channel);
  const name = names.includes(p.of) ? p.of : names.includes('whatsapp') ? 'whatsapp' : names[0];
  const ch = channels.find((c) => c.channel === name);
  const tools = h('div', { class: 'toolbar' },
    names.length > 1 ? chooser(ctx, 'of', 'Channel', names.map((n) => [n, n]), name, names.includes('whatsapp') ? 'whatsapp' : names[0]) : null,
    chooser(ctx, 'metric', 'Count', [['reads', 'reads of outbound messages'], ['replies', 'customer messages']], metric, 'reads'));
  if (!ch) return [tools, message('No reads or customer messages in this period.')];
  const grid = {};
  for (const x of ch.hours) grid[x.day + ':' + x.hour] = x;
  const best = new Set((ch.best || []).map((b) => b.day + ':' + b.hour));
  const max = Math.max(1, ...ch.hours.map((x) => x[metric]));
  const map = heatmap({
    rows: DAYS.map((d) => DAY_NAMES[d]),
    cols: Array.from({ length: 24 }, (_, i) => String(i).padStart(2, '0')),
    rowLabelWidth: 84, cellWidth: 30, colLabelEvery: 1, max,
    label: `${name}: ${metric} by hour of the week`,
    cell: (i, j) => {
      const x = grid[DAYS[i] + ':' + j] || { reads: 0, replies: 0 };
      const v = x[metric];
      return {
        value: v, text: v ? String(v) : '', mark: best.has(DAYS[i] + ':' + j),
        title: `${DAY_NAMES[DAYS[i]]} ${String(j).padStart(2, '0')}:00–${String(j + 1).padStart(2, '0')}:00: ${x.reads} reads, ${x.replies} customer messages`,
        attrs: { 'data-row': DAYS[i], 'data-col': String(j), 'data-kpi': metric, 'data-value': String(v) },
      };
    },
  });
  const bestList = (ch.best || []).map((b, i) => h('li', { dataset: { best: b.day + ':' + b.hour } },
    h('strong', null, `${DAY_NAMES[b.day]} ${String(b.hour).padStart(2, '0')}:00`), ` — ${b.reads} reads, ${b.replies} customer messages`));
  const rows = ch.hours.map((x) => Object.assign({ channel: name }, x));
  return [
    tools,
    panel('sendtime', `Best time to send on ${name}`, {
      src, wide: true,
      note: `Local hour of the week in ${ctx.tz}; the outlined cells are the three best hours.`,
    },
    h('ol', { class: 'best' }, bestList),
    h('div', { class: 'scroll' }, map),
    h('details', null, h('summary', null, 'As a table'),
      table({
        id: 'sendtime', rows, rowKey: (r) => r.day + ':' + r.hour,
        columns: [
          { key: 'day', label: 'Day', text: (v) => DAY_NAMES[v] },
          { key: 'hour', label: 'Hour', num: true, text: (v) => String(v).padStart(2, '0') + ':00' },
          { key: 'reads', label: 'Reads', num: true, unit: 'count' },
          { key: 'replies', label: 'Customer messages', num: true, unit: 'count' },
        ],
      }))),
  ];
}
