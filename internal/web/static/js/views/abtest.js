// A/B tests: every test of the workspace (GET /v1/abtests, whatever the
// period), and the chosen one's variants with their revenue, verdicts,
// p-values and chances to beat the control (GET /v1/abtest).

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { h, panel, table, message } from '../dom.js';
import { bars } from '../chart.js';

const METRICS = { open_rate: 'Open rate', ctr: 'CTR', campaign_conversion_rate: 'Conversion' };

// A test is named by its campaign, or by its template when it has none.
const nameOf = (t) => t.campaign || t.template;
const keyOf = (t) => (t.campaign ? 'campaign:' + t.campaign : 'template:' + t.template);

// testFilters open a test over its whole run: from the day of its first
// send to the day after its last, in the workspace's zone, in which the API
// writes the times.
const testFilters = (t) => ({
  campaign: t.campaign || '', template: t.campaign ? '' : t.template,
  from: t.first_sent.slice(0, 10), to: fmt.addDays(t.last_sent.slice(0, 10), 1), days: '',
});
const testHref = (ctx, t) => ctx.href(testFilters(t));

export default async function abtest(ctx) {
  const p = ctx.params;
  const listSrc = api.url('/v1/abtests');
  const list = await api.get(listSrc);
  const tests = list.tests || [];
  if (!tests.length) return [message('No A/B test yet: no campaign or template has sent two variants or more.')];
  // The test the filters name, else the latest; a campaign filter that is
  // no test (one carried from a drill-down) leaves the choice to the list.
  const named = p.campaign ? tests.find((t) => t.campaign === p.campaign)
    : p.template ? tests.find((t) => !t.campaign && t.template === p.template) : tests[0];
  const stateText = (t) => (t.state === 'running' ? 'running' : 'finished');
  const chooser = h('label', { class: 'field inline' }, h('span', null, 'Test'),
    h('select', {
      dataset: { abtest: '' },
      onchange: (e) => { const t = tests.find((x) => keyOf(x) === e.target.value); if (t) ctx.navigate(testFilters(t)); },
    },
    named ? null : h('option', { value: '', selected: true }, 'Choose a test'),
    tests.map((t) => h('option', { value: keyOf(t), selected: t === named }, `${nameOf(t)} (${t.variants.length} variants, ${stateText(t)})`))));
  const listPanel = panel('abtests', `Every A/B test (${tests.length})`, {
    src: listSrc, wide: true,
    note: `Whatever the period: a campaign or template that sent two variants or more. Running: it sent within the last ${list.running_for.replace(/(\d)([a-z]+)$/, '$1 $2')}. Opening a test sets the period to its dates.`,
  },
  table({
    id: 'abtests', rows: tests, rowKey: keyOf,
    columns: [
      { key: 'name', label: 'Test', get: nameOf, cls: 'name', link: (t, text) => h('a', { href: testHref(ctx, t), dataset: { test: keyOf(t) } }, text) },
      { key: 'kind', label: 'Of', get: (t) => (t.campaign ? 'campaign' : 'template') },
      { key: 'variants', label: 'Variants', text: (v) => v.join(', ') },
      { key: 'sent', label: 'Sent', num: true, unit: 'count' },
      { key: 'first_sent', label: 'First send', text: (v) => fmt.dateTime(v, ctx.tz) },
      { key: 'last_sent', label: 'Last send', text: (v) => fmt.dateTime(v, ctx.tz) },
      { key: 'state', label: 'State', cls: (t) => 'state ' + (t.state === 'running' ? 'ok' : '') },
    ],
  }));
  if (!named) {
    return [h('div', { class: 'toolbar' }, chooser),
      message(`${p.campaign || p.template}, the chosen ${p.campaign ? 'campaign' : 'template'}, is no A/B test: choose one of the tests below.`),
      listPanel];
  }
  const filter = named.campaign ? { campaign: named.campaign } : { template: named.template, campaign: '' };
  const src = api.url('/v1/abtest', Object.assign(ctx.q(), filter));
  let res;
  try {
    res = await api.get(src);
  } catch (e) {
    // Fewer than two variants in the period: offer the test's own dates.
    return [h('div', { class: 'toolbar' }, chooser),
      message([`${nameOf(named)} sent no two variants between ${ctx.periodText}: `,
        h('a', { href: testHref(ctx, named), dataset: { whole: '' } },
          `see the whole test, ${fmt.date(named.first_sent, ctx.tz)} – ${fmt.date(named.last_sent, ctx.tz)}`), '.'], e.status >= 500 ? 'error' : undefined),
      listPanel];
  }
  const variants = res.variants || [];
  const comps = res.comparisons || [];
  const currencies = [...new Set(variants.flatMap((v) => Object.keys(v.revenue || {})))].filter((c) => ctx.currencyOK(c)).sort();
  const verdicts = comps.map((c) => h('li', { class: c.significant ? 'win' : 'wait', dataset: { verdict: c.metric + ':' + c.variant } },
    h('strong', null, (METRICS[c.metric] || c.metric) + ': '), c.verdict));
  const vcols = [
    { key: 'variant', label: 'Variant', text: (v) => v + (v === res.control ? ' (control)' : '') },
    { key: 'sent', label: 'Sent', num: true, unit: 'count', kpi: 'sent' },
    ...Object.entries(METRICS).map(([id, label]) => ({ key: id, kpi: id, label, num: true, unit: 'percent', get: (r) => (r.rates ? r.rates[id] : null) })),
    ...currencies.flatMap((cur) => [
      { key: 'revenue.' + cur, kpi: 'revenue.' + cur, label: 'Revenue ' + cur, title: 'Revenue attributed to the variant\'s messages', num: true, unit: 'money',
        get: (r) => (r.revenue || {})[cur] ?? 0, currency: () => cur },
      { key: 'rpr.' + cur, kpi: 'revenue_per_recipient.' + cur, label: 'Per message ' + cur, title: 'Attributed revenue ÷ messages sent', num: true, unit: 'money',
        get: (r) => (r.revenue_per_recipient || {})[cur] ?? null, currency: () => cur },
    ]),
  ];
  const ccols = [
    { key: 'metric', label: 'Metric', text: (v) => METRICS[v] || v },
    { key: 'variant', label: 'Variant' },
    { key: 'control_rate', label: 'Control', num: true, unit: 'percent' },
    { key: 'rate', label: 'Variant rate', num: true, unit: 'percent' },
    { key: 'difference', label: 'Difference', num: true, text: (v, r) => fmt.change(v, 'points') + (r.interval ? ` [${fmt.change(r.interval[0], 'points')}, ${fmt.change(r.interval[1], 'points')}]` : '') },
    { key: 'p_value', label: 'p-value', num: true, text: (v) => (v === null || v === undefined ? '—' : v < 0.0001 ? '< 0.0001' : v.toFixed(4)) },
    { key: 'chance_to_beat_control', label: 'Chance to beat control', num: true, unit: 'percent' },
    { key: 'verdict', label: 'Verdict', cls: 'verdict' },
  ];
  const chance = comps.map((c) => ({
    label: (METRICS[c.metric] || c.metric) + ' ' + c.variant, value: c.chance_to_beat_control,
    text: fmt.value(c.chance_to_beat_control, 'percent'), cls: c.significant ? 'rated-best' : '',
  }));
  return [
    h('div', { class: 'toolbar' }, chooser),
    h('div', { class: 'split' },
      panel('verdict', `Verdict: ${nameOf(named)} (${stateText(named)})`, { note: res.correction },
        h('ul', { class: 'verdicts' }, verdicts.length ? verdicts : h('li', null, 'Only one variant was sent.'))),
      panel('chance', 'Chance to beat the control', { note: 'Bayesian, from Beta posteriors of each rate.' },
        chance.length ? bars(chance, { max: 100, label: 'Chance to beat the control', labelWidth: 150 }) : message('No comparison.'))),
    panel('variants', 'Variants', { src, wide: true, note: currencies.length ? 'Revenue is attributed to a variant\'s messages as on Campaigns (ROCS\'s numerator), per currency.' : 'No revenue attributed to the variants in this period.' },
      table({ id: 'variants', columns: vcols, rows: variants, rowKey: (r) => r.variant })),
    panel('comparisons', 'Comparisons', { src, wide: true, note: 'Two-proportion z-tests with 95 % intervals for the difference.' },
      table({ id: 'comparisons', columns: ccols, rows: comps, rowKey: (r) => r.metric + ':' + r.variant })),
    listPanel,
  ];
}
