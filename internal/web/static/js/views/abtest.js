// A/B tests: every test of the workspace (GET /v1/abtests, whatever the
// period), and the chosen one's variants with their revenue, verdicts,
// p-values and chances to beat the control (GET /v1/abtest).

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { compose, h, message, panel, table } from '../dom.js';
import { bars } from '../chart.js';
import { t } from '../i18n.js';

// metrics names the compared rates; the open rate by its KPI name.
const metrics = (ctx) => ({ open_rate: ctx.info('open_rate').name, ctr: t('CTR'), campaign_conversion_rate: t('Conversion') });

// verdictText says what a comparison found, in the page's language: the
// API's verdict, built from its figures (kpi.verdict words it the same in
// English).
function verdictText(c, confidence) {
  const names = { open_rate: t('open rate'), ctr: t('CTR'), campaign_conversion_rate: t('conversion') };
  const v = { variant: c.variant, control: c.control, metric: names[c.metric] || c.metric, confidence: fmt.number(confidence, 0) };
  if (c.rate === null || c.rate === undefined || c.control_rate === null || c.control_rate === undefined) return t('no data on {metric} yet', v);
  if (c.significant && c.difference > 0) return t('{variant} beats {control} on {metric} ({confidence} % confidence)', v);
  if (c.significant) return t('{variant} loses to {control} on {metric} ({confidence} % confidence)', v);
  if (c.difference === 0) return t('no difference between {variant} and {control} on {metric} so far', v);
  if (c.more_recipients_per_variant !== undefined && c.more_recipients_per_variant !== null) {
    return t('not enough data yet: about {n} more recipients per variant to detect the observed difference on {metric}',
      Object.assign(v, { n: fmt.number(c.more_recipients_per_variant, 0) }));
  }
  return t('no significant difference between {variant} and {control} on {metric}', v);
}

// A test is named by its campaign, or by its template when it has none.
const nameOf = (test) => test.campaign || test.template;
const keyOf = (test) => (test.campaign ? 'campaign:' + test.campaign : 'template:' + test.template);

// testFilters open a test over its whole run: from the day of its first
// send to the day after its last, in the workspace's zone, in which the API
// writes the times.
const testFilters = (test) => ({
  campaign: test.campaign || '', template: test.campaign ? '' : test.template,
  from: test.first_sent.slice(0, 10), to: fmt.addDays(test.last_sent.slice(0, 10), 1), days: '',
});
const testHref = (ctx, test) => ctx.href(testFilters(test));

export default async function abtest(ctx) {
  const p = ctx.params;
  const METRICS = metrics(ctx);
  const listSrc = api.url('/v1/abtests');
  const list = await api.get(listSrc);
  const tests = list.tests || [];
  if (!tests.length) return [message(t('No A/B test yet: no campaign or template has sent two variants or more.'))];
  // The test the filters name, else the latest; a campaign filter that is
  // no test (one carried from a drill-down) leaves the choice to the list.
  const named = p.campaign ? tests.find((x) => x.campaign === p.campaign)
    : p.template ? tests.find((x) => !x.campaign && x.template === p.template) : tests[0];
  const stateText = (test) => (test.state === 'running' ? t('running') : t('finished'));
  const chooser = h('label', { class: 'field inline' }, h('span', null, t('Test')),
    h('select', {
      dataset: { abtest: '' },
      onchange: (e) => { const test = tests.find((x) => keyOf(x) === e.target.value); if (test) ctx.navigate(testFilters(test)); },
    },
    named ? null : h('option', { value: '', selected: true }, t('Choose a test')),
    tests.map((test) => h('option', { value: keyOf(test), selected: test === named },
      t('{name} ({n} variants, {state})', { name: nameOf(test), n: fmt.number(test.variants.length, 0), state: stateText(test) })))));
  const listPanel = panel('abtests', t('Every A/B test ({n})', { n: fmt.number(tests.length, 0) }), {
    src: listSrc, wide: true,
    note: t('Whatever the period: a campaign or template that sent two variants or more. Running: it sent within the last {span}. Opening a test sets the period to its dates.', { span: fmt.span(list.running_for) }),
  },
  table({
    id: 'abtests', rows: tests, rowKey: keyOf,
    columns: [
      { key: 'name', label: t('Test'), get: nameOf, cls: 'name', link: (test, text) => h('a', { href: testHref(ctx, test), dataset: { test: keyOf(test) } }, text) },
      { key: 'kind', label: t('Of'), get: (test) => (test.campaign ? t('campaign') : t('template')) },
      { key: 'variants', label: t('Variants'), text: (v) => v.join(', ') },
      { key: 'sent', label: t('Sent'), num: true, unit: 'count' },
      { key: 'first_sent', label: t('First send'), text: (v) => fmt.dateTime(v, ctx.tz) },
      { key: 'last_sent', label: t('Last send'), text: (v) => fmt.dateTime(v, ctx.tz) },
      { key: 'state', label: t('State'), text: (v) => (v === 'running' ? t('running') : v === 'finished' ? t('finished') : v), cls: (test) => 'state ' + (test.state === 'running' ? 'ok' : '') },
    ],
  }));
  if (!named) {
    const chosen = p.campaign || p.template;
    return [h('div', { class: 'toolbar' }, chooser),
      message(p.campaign ? t('{name}, the chosen campaign, is no A/B test: choose one of the tests below.', { name: chosen })
        : t('{name}, the chosen template, is no A/B test: choose one of the tests below.', { name: chosen })),
      listPanel];
  }
  const filter = named.campaign ? { campaign: named.campaign } : { template: named.template, campaign: '' };
  const src = api.url('/v1/abtest', Object.assign(ctx.q(), filter));
  let res;
  try {
    res = await api.get(src);
  } catch (e) {
    // Fewer than two variants in the period: offer the test's own dates.
    const whole = h('a', { href: testHref(ctx, named), dataset: { whole: '' } },
      t('see the whole test, {from} – {to}', { from: fmt.date(named.first_sent, ctx.tz), to: fmt.date(named.last_sent, ctx.tz) }));
    return [h('div', { class: 'toolbar' }, chooser),
      message(compose(t('{name} sent no two variants between {period}: {link}.'), { name: nameOf(named), period: ctx.periodText, link: whole }),
        e.status >= 500 ? 'error' : undefined),
      listPanel];
  }
  const variants = res.variants || [];
  const comps = res.comparisons || [];
  const currencies = [...new Set(variants.flatMap((v) => Object.keys(v.revenue || {})))].filter((c) => ctx.currencyOK(c)).sort();
  const verdicts = comps.map((c) => h('li', { class: c.significant ? 'win' : 'wait', dataset: { verdict: c.metric + ':' + c.variant } },
    h('strong', null, (METRICS[c.metric] || c.metric) + ': '), verdictText(c, res.confidence)));
  const vcols = [
    { key: 'variant', label: t('Variant'), text: (v) => (v === res.control ? t('{variant} (control)', { variant: v }) : v) },
    { key: 'sent', label: t('Sent'), num: true, unit: 'count', kpi: 'sent' },
    ...Object.entries(METRICS).map(([id, label]) => ({ key: id, kpi: id, label, num: true, unit: 'percent', get: (r) => (r.rates ? r.rates[id] : null) })),
    ...currencies.flatMap((cur) => [
      { key: 'revenue.' + cur, kpi: 'revenue.' + cur, label: t('Revenue {currency}', { currency: cur }), title: t('Revenue attributed to the variant\'s messages'), num: true, unit: 'money',
        get: (r) => (r.revenue || {})[cur] ?? 0, currency: () => cur },
      { key: 'rpr.' + cur, kpi: 'revenue_per_recipient.' + cur, label: t('Per message {currency}', { currency: cur }), title: t('Attributed revenue ÷ messages sent'), num: true, unit: 'money',
        get: (r) => (r.revenue_per_recipient || {})[cur] ?? null, currency: () => cur },
    ]),
  ];
  const ccols = [
    { key: 'metric', label: t('Metric'), text: (v) => METRICS[v] || v },
    { key: 'variant', label: t('Variant') },
    { key: 'control_rate', label: t('Control'), num: true, unit: 'percent' },
    { key: 'rate', label: t('Variant rate'), num: true, unit: 'percent' },
    { key: 'difference', label: t('Difference'), num: true, text: (v, r) => fmt.change(v, 'points') + (r.interval ? ` [${fmt.change(r.interval[0], 'points')}, ${fmt.change(r.interval[1], 'points')}]` : '') },
    { key: 'p_value', label: t('p-value'), num: true, text: (v) => (v === null || v === undefined ? '—' : v < 0.0001 ? '< ' + fmt.number(0.0001, 4) : fmt.number(v, 4)) },
    { key: 'chance_to_beat_control', label: t('Chance to beat control'), num: true, unit: 'percent' },
    { key: 'verdict', label: t('Verdict'), cls: 'verdict', text: (v, r) => verdictText(r, res.confidence) },
  ];
  const chance = comps.map((c) => ({
    label: (METRICS[c.metric] || c.metric) + ' ' + c.variant, value: c.chance_to_beat_control,
    text: fmt.value(c.chance_to_beat_control, 'percent'), cls: c.significant ? 'rated-best' : '',
  }));
  return [
    h('div', { class: 'toolbar' }, chooser),
    h('div', { class: 'split' },
      panel('verdict', t('Verdict: {name} ({state})', { name: nameOf(named), state: stateText(named) }), { note: t('Holm–Bonferroni over {n} comparisons at {confidence} % confidence', { n: fmt.number(comps.length, 0), confidence: fmt.number(res.confidence, 0) }) },
        h('ul', { class: 'verdicts' }, verdicts.length ? verdicts : h('li', null, t('Only one variant was sent.')))),
      panel('chance', t('Chance to beat the control'), { note: t('Bayesian, from Beta posteriors of each rate.') },
        chance.length ? bars(chance, { max: 100, label: t('Chance to beat the control'), labelWidth: 150 }) : message(t('No comparison.')))),
    panel('variants', t('Variants'), { src, wide: true, note: currencies.length ? t('Revenue is attributed to a variant\'s messages as on Campaigns (ROCS\'s numerator), per currency.') : t('No revenue attributed to the variants in this period.') },
      table({ id: 'variants', columns: vcols, rows: variants, rowKey: (r) => r.variant })),
    panel('comparisons', t('Comparisons'), { src, wide: true, note: t('Two-proportion z-tests with 95 % intervals for the difference.') },
      table({ id: 'comparisons', columns: ccols, rows: comps, rowKey: (r) => r.metric + ':' + r.variant })),
    listPanel,
  ];
}
