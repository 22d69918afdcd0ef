// Cohorts as a heat map.

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { chooser, compose, h, message, panel, table } from '../dom.js';
import { heatmap } from '../chart.js';
import { t } from '../i18n.js';

const COHORT_METRICS = ['retained', 'bought', 'revenue'];

// metricNames names the metrics in the page's language.
const metricNames = () => ({
  retained: t('Active (% of cohort)'), bought: t('Bought (% of cohort)'), revenue: t('Revenue per customer, cumulative'),
});

export default async function cohorts(ctx) {
  const p = ctx.params;
  const per = p.period === 'month' ? 'month' : 'week';
  const metric = COHORT_METRICS.includes(p.metric) ? p.metric : 'retained';
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
  // A cell's money drops its minor units, in the locale's decimal mark.
  const decimal = fmt.number(1.5, 1).replace(/\d/g, '');
  const minor = new RegExp('\\' + decimal + '\\d+$');
  const text = (v) => (v === null ? '' : metric === 'revenue' ? fmt.value(v, 'money', currency).replace(minor, '') : fmt.number(v, 0) + '%');
  const label = (c) => fmt.date(c.start, ctx.tz) + ' · ' + fmt.number(c.customers, 0);
  const names = metricNames();
  // The periods after a cohort's first: W0, W1, … or M0, M1, …
  const periodLabel = (j) => (per === 'week' ? t('W{n}', { n: fmt.number(j, 0) }) : t('M{n}', { n: fmt.number(j, 0) }));
  // A cell's tooltip: the cohort, the period and its figures.
  const cellTitle = (c, j, x, v) => {
    const vars = {
      date: fmt.date(c.start, ctx.tz), customers: fmt.number(c.customers, 0), n: fmt.number(j, 0),
      active: fmt.number(x.active, 0), buyers: fmt.number(x.buyers, 0), revenue: fmt.value(v, 'money', currency),
    };
    if (metric === 'revenue' && v !== null) {
      return per === 'week'
        ? t('{date} cohort ({customers} customers), week {n}: {active} active, {buyers} bought, {revenue} per customer', vars)
        : t('{date} cohort ({customers} customers), month {n}: {active} active, {buyers} bought, {revenue} per customer', vars);
    }
    return per === 'week'
      ? t('{date} cohort ({customers} customers), week {n}: {active} active, {buyers} bought', vars)
      : t('{date} cohort ({customers} customers), month {n}: {active} active, {buyers} bought', vars);
  };
  const map = list.length ? heatmap({
    rows: list.map(label),
    cols: Array.from({ length: width }, (_, i) => periodLabel(i)),
    rowLabelWidth: 130, cellWidth: metric === 'revenue' ? 56 : 40, max,
    label: per === 'week' ? t('Cohorts by week: {metric}', { metric: names[metric] }) : t('Cohorts by month: {metric}', { metric: names[metric] }),
    cell: (i, j) => {
      const x = list[i].periods[j];
      if (!x) return null;
      const v = val(x);
      return {
        value: v, text: text(v),
        title: cellTitle(list[i], j, x, v),
        attrs: { 'data-row': list[i].start, 'data-col': String(j), 'data-kpi': metric, 'data-value': v === null ? '' : String(v) },
      };
    },
  }) : null;
  const cols = [
    { key: 'start', label: t('Cohort'), text: (v) => fmt.date(v, ctx.tz) },
    { key: 'customers', label: t('Customers'), num: true, unit: 'count' },
    ...Array.from({ length: Math.min(width, 12) }, (_, j) => ({
      key: 'p' + j, label: periodLabel(j), num: true, kpi: metric + '.' + j,
      get: (c) => (c.periods[j] ? val(c.periods[j]) : null),
      text: (v) => (v === null || v === undefined ? '' : metric === 'revenue' ? fmt.value(v, 'money', currency) : fmt.value(v, 'percent')),
    })),
  ];
  // A cohort needs later periods to follow: a short range shows little.
  const short = ctx.period.days < 60 ? h('p', { class: 'hint' }, compose(t('Cohorts need time to show retention: {link}.'), {
    link: h('a', { href: ctx.href({ days: 90, from: '', to: '' }), dataset: { widen: '' } }, t('show the last 90 days')),
  })) : null;
  return [
    short,
    h('div', { class: 'toolbar' },
      chooser(ctx, 'period', t('Cohorts by'), [['week', t('week')], ['month', t('month')]], per, 'week'),
      chooser(ctx, 'metric', t('Show'), COHORT_METRICS.map((m) => [m, names[m]]), metric, 'retained')),
    panel('cohorts', t('Cohorts'), {
      src, wide: true,
      note: (per === 'week'
        ? t('Customers whose first event falls in the period, by week of that event, followed week by week.')
        : t('Customers whose first event falls in the period, by month of that event, followed month by month.')) + ' ' +
        (metric === 'revenue' ? t('In {currency}.', { currency: currency || t('the shop\'s currency') }) : t('Shares of each cohort.')),
    },
    map ? h('div', { class: 'scroll' }, map) : message(t('No new customers in this period.')),
    list.length ? h('details', null, h('summary', null, t('As a table')),
      table({ id: 'cohorts', columns: cols, rows: list, rowKey: (c) => c.start })) : null),
  ];
}
