// The omnichannel funnel beside the attribution models.

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { h, panel, table, message, raw } from '../dom.js';
import { bars } from '../chart.js';
import { t } from '../i18n.js';

const STAGES = ['awareness', 'engagement', 'conversion', 'advocacy'];
const STEPS = 'message_read,button_clicked,order_placed';
const MODELS = ['first_touch', 'last_touch', 'linear', 'time_decay', 'position_based'];
const BY = ['channel', 'campaign', 'source'];
const TRACKER_SRC = '/v1/tracker';

// The names of the stages, journey steps, attribution models and
// groupings, in the page's language: made when the view is drawn.
const names = () => ({
  stage: { awareness: t('Awareness'), engagement: t('Engagement'), conversion: t('Conversion'), advocacy: t('Advocacy') },
  step: { message_read: t('message read'), button_clicked: t('button clicked'), order_placed: t('order placed') },
  model: {
    first_touch: t('First touch'), last_touch: t('Last touch'), linear: t('Linear'),
    time_decay: t('Time decay'), position_based: t('Position based'),
  },
  column: { channel: t('Channel'), campaign: t('Campaign'), source: t('Source') },
  by: { channel: t('channel'), campaign: t('campaign'), source: t('source') },
});

// trackerPanel shows the site tracker's tag, with the address the
// dashboard is reached at, and the call that links a visitor to a customer.
function trackerPanel(tracker) {
  const snippet = `<script defer src="${location.origin}/t.js" data-tracker="${tracker.id}"></script>`;
  const code = (id, text) => h('pre', { class: 'snippet', id }, h('code', null, text));
  const copy = navigator.clipboard ? h('button', {
    type: 'button', class: 'copy', dataset: { copy: 'tracker' },
    onclick: (e) => navigator.clipboard.writeText(snippet).then(() => { e.target.textContent = t('Copied'); }, () => {}),
  }, t('Copy the tag')) : null;
  return panel('tracker', t('Site tracker'), {
    src: TRACKER_SRC, csv: false, wide: true, actions: copy,
    note: t('Site visits with their UTM source, referrer and ad click id, for the funnel and attribution above.'),
  },
  h('p', null, t('Paste this tag into every page of the shop, before </head>:')),
  code('tracker-snippet', snippet),
  h('p', null, t('After a sign-in or a checkout, link the visitor to the customer id the chats and orders carry (a phone number, an e-mail), so the visit counts in the customer\'s journey:')),
  code('tracker-identify', 'omnikpi(\'identify\', CUSTOMER_ID);'),
  h('p', { class: 'note' }, t('No cookie: a visitor is an anonymous id of the day. A visit ends after {gap} without a page view, and counts from then on.', { gap: fmt.span(tracker.session_gap) })));
}

export default async function funnel(ctx) {
  const by = BY.includes(ctx.params.by) ? ctx.params.by : 'channel';
  const stagesSrc = api.url('/v1/funnel', ctx.q());
  const stepsSrc = api.url('/v1/funnel', ctx.q({ steps: STEPS, within: '7d' }));
  const attrSrc = api.url('/v1/attribution', ctx.q({ by }));
  // The tracker's id is made the first time it is asked for; a session
  // that may not read it gets the rest of the view.
  const [stages, steps, attr, tracker] = await Promise.all([api.get(stagesSrc), api.get(stepsSrc), api.get(attrSrc),
    api.get(TRACKER_SRC).catch(() => null)]);

  const name = names();
  const total = (stages.stages || []).find((s) => s.total) || {};
  const stageBars = STAGES.map((s) => ({
    label: name.stage[s], value: total[s] || 0,
    text: fmt.number(total[s], 0) + (total[s + '_rate'] !== undefined && total[s + '_rate'] !== null ? ` · ${fmt.value(total[s + '_rate'], 'percent')}` : ''),
    attrs: { 'data-kpi': s, 'data-value': String(total[s]) },
  }));
  // Each stage's count, with its rate from the stage before beneath it.
  const stageCols = [
    { key: 'channel', label: t('Channel'), get: (r) => (r.total ? 'total' : r.channel), text: (v) => (v === 'total' ? t('All channels') : v || t('(none)')), cls: 'name' },
    ...STAGES.map((s) => ({
      key: s, kpi: s, label: name.stage[s], num: true, title: s === 'awareness' ? '' : t('and its rate from the stage before'),
      text: (v, r) => [fmt.number(v, 0), s === 'awareness' ? null : h('small', { class: 'sub', dataset: { kpi: s + '_rate', value: raw(r[s + '_rate']) } }, fmt.value(r[s + '_rate'], 'percent'))],
    })),
  ];
  const stepList = steps.steps || [];
  const stepBars = stepList.map((s) => ({
    label: name.step[s.kind] || s.kind.replace(/_/g, ' '), value: s.customers,
    text: fmt.number(s.customers, 0) + (s.rate_from_first !== null && s.rate_from_first !== undefined ? ` · ${fmt.value(s.rate_from_first, 'percent')}` : ''),
    attrs: { 'data-kpi': 'step.' + s.kind, 'data-value': String(s.customers) },
  }));

  // Rows of one currency together, in the API's order within it.
  const attrRows = (attr.rows || []).filter((r) => ctx.currencyOK(r.currency))
    .map((r, i) => [r, i]).sort((a, b) => String(a[0].currency).localeCompare(String(b[0].currency)) || a[1] - b[1]).map(([r]) => r);
  const keyOf = (r) => (by.split(',').map((b) => r[b] || '').join('/')) + '|' + (r.currency || '');
  const attrCols = [
    { key: by, label: name.column[by], text: (v) => v || t('(no touchpoint)'), cls: 'name' },
    { key: 'currency', label: t('Currency') },
    ...MODELS.map((m) => ({
      key: m, kpi: m, label: name.model[m], num: true, unit: 'money',
      get: (r) => (r.credits && r.credits[m] ? r.credits[m].revenue : null), currency: (r) => r.currency,
    })),
  ];
  // The revenue of each model by group, for the first currency shown.
  const currency = attrRows.length ? attrRows[0].currency : '';
  const lead = attrRows.filter((r) => r.currency === currency);
  const top = Math.max(1, ...lead.flatMap((r) => MODELS.map((m) => (r.credits[m] ? r.credits[m].revenue : 0))));
  const chart = lead.slice(0, 6).map((r) => h('div', { class: 'model-group' },
    h('h4', null, r[by] || t('(no touchpoint)')),
    bars(MODELS.map((m) => ({ label: name.model[m], value: r.credits[m] ? r.credits[m].revenue : 0, text: fmt.value(r.credits[m] ? r.credits[m].revenue : null, 'money', currency) })),
      { max: top, label: t('Revenue by model for {group}', { group: r[by] || t('no touchpoint') }), labelWidth: 110, row: 20 })));

  const byChooser = h('label', { class: 'field inline' }, h('span', null, t('Credit by')),
    h('select', { dataset: { by: '' }, onchange: (e) => ctx.navigate({ by: e.target.value === 'channel' ? '' : e.target.value }) },
      BY.map((b) => h('option', { value: b, selected: b === by }, name.by[b]))));

  return [
    h('div', { class: 'split' },
      panel('stages', t('Funnel'), { src: stagesSrc, note: t('Awareness → engagement → conversion → advocacy, all channels.') },
        bars(stageBars, { label: t('Funnel stages'), labelWidth: 110 }),
        table({ id: 'stages', columns: stageCols, rows: stages.stages || [], rowKey: (r) => (r.total ? 'total' : r.channel || '') })),
      panel('steps', t('Customer journey'), {
        src: stepsSrc,
        note: t('Customers who read a campaign message, then clicked, then ordered within 7 days. Median time to convert: {median}.', {
          median: steps.median_seconds_to_convert ? fmt.duration(steps.median_seconds_to_convert) : '—',
        }),
      },
      stepList.length ? bars(stepBars, { label: t('Customer journey'), labelWidth: 120 }) : message(t('No journeys in this period.')))),
    // Full width: a column per model and one for the currency fit at 1440 px.
    panel('attribution', t('Attribution models'), {
      src: attrSrc, actions: byChooser, wide: true,
      note: t('Revenue of the period\'s {orders} orders credited to touchpoints in the {days} days before each, under every model.', {
        orders: fmt.number(attr.orders, 0), days: fmt.number(Math.round((fmt.hours(attr.lookback) || 720) / 24), 0),
      }),
    },
    table({ id: 'attribution', columns: attrCols, rows: attrRows, rowKey: keyOf, empty: t('No orders in this period.') }),
    currency ? h('div', { class: 'models' }, chart) : null),
    tracker ? trackerPanel(tracker) : null,
  ];
}
