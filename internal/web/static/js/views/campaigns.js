// Campaigns and templates, their recipients and failures.

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { compose, h, message, panel, table } from '../dom.js';
import { bars } from '../chart.js';
import { explain } from '../whatsapp.js';
import { t } from '../i18n.js';

const none = () => t('(none)');

// kpiColumns are table columns for report KPIs, read from a row's k map.
export function kpiColumns(ctx, ids) {
  return ids.map((id) => {
    const info = ctx.info(id);
    return {
      key: id, kpi: id, label: info.name || id, title: info.formula, num: true, unit: info.unit,
      get: (r) => (r.k[id] ? r.k[id].value : null),
      currency: (r) => (r.k[id] ? r.k[id].currency : undefined),
      cls: (r) => (r.k[id] && r.k[id].rating ? 'rated rated-' + r.k[id].rating : ''),
    };
  });
}

// reportRows turns report rows into {group, k: {id: entry}} rows; money
// entries of other currencies than the filter's are left out.
export function reportRows(ctx, rep) {
  return rep.rows.map((r) => {
    const k = {};
    for (const e of r.kpis) {
      if (e.label || !ctx.currencyOK(e.currency) || k[e.id]) continue;
      k[e.id] = e;
    }
    return Object.assign({ k }, r.group);
  });
}

export async function campaigns(ctx) {
  const ids = Object.values(ctx.catalogue).filter((k) => k.section === 'messages').map((k) => k.id);
  const src = api.url('/v1/kpis', ctx.q({ kpi: ids.join(','), group_by: 'campaign,template' }));
  const econSrc = api.url('/v1/kpis', ctx.q({ kpi: ECONOMICS.join(','), group_by: 'campaign' }));
  const daysSrc = api.url('/v1/kpis', ctx.q({ kpi: 'messages_sent', group_by: 'campaign', bucket: 'day' }));
  const costSrc = api.url('/v1/costs/messaging', ctx.q());
  const mismatchSrc = api.url('/v1/costs/mismatches', ctx.q());
  const [rep, econ, days, costs, mismatches] = await Promise.all([api.get(src), api.get(econSrc), api.get(daysSrc).catch(() => ({ rows: [] })),
    load(costSrc), load(mismatchSrc)]);
  const rows = reportRows(ctx, rep);
  const drill = (r) => ctx.href({ view: 'recipients', campaign: r.campaign, template: r.template || '', status: '' });
  const cols = [
    {
      key: 'campaign', label: t('Campaign'), cls: 'name',
      link: (r, text) => (r.campaign ? h('a', { href: drill(r), title: t('Recipients and failures'), dataset: { drill: '' } }, text) : text),
      text: (v) => v || none(),
    },
    { key: 'template', label: t('Template'), text: (v) => v || none() },
    ...kpiColumns(ctx, ids),
  ];
  const named = rows.filter((r) => r.campaign);
  // campaignBars lists each campaign's figure of one percent KPI, highest first.
  const campaignBars = (id) => named.map((r) => ({
    label: r.campaign + (r.template && r.template !== r.campaign ? ' · ' + r.template : ''),
    value: r.k[id] ? r.k[id].value : 0,
    text: r.k[id] ? fmt.value(r.k[id].value, 'percent') : '—',
    cls: r.k[id] && r.k[id].rating ? 'rated-' + r.k[id].rating : '',
  })).sort((a, b) => b.value - a.value);
  const ctr = campaignBars('ctr');
  const open = campaignBars('open_rate');
  return [
    h('div', { class: 'split' },
      panel('ctr', ctx.info('ctr').name, { note: t('By campaign and template; the colour is the rating against the 15–25 % band.') },
        ctr.length ? bars(ctr, { max: 100, label: t('Click-through rate by campaign'), labelWidth: 190 }) : message(t('No campaign messages in this period.'))),
      panel('open', ctx.info('open_rate').name, { note: t('Read ÷ sent, against the 85–90 % band.') },
        open.length ? bars(open, { max: 100, label: t('Open rate by campaign'), labelWidth: 190 }) : message(t('No campaign messages in this period.')))),
    economics(ctx, econ, days, econSrc),
    messagingCosts(ctx, costs, costSrc, mismatches, mismatchSrc),
    panel('campaigns', t('Campaigns and templates'), {
      src, wide: true,
      note: t('Every message KPI per campaign and template; click a column to sort, a campaign for its recipients and failures. Messages sent by agents and bots have no campaign.'),
    },
    table({ id: 'campaigns', columns: cols, rows, rowKey: (r) => (r.campaign || '') + '/' + (r.template || ''), empty: t('No messages in this period.') })),
  ];
}

// The KPIs whose terms make a campaign's economics: the message funnel's
// counts, and spend and revenue per currency (the terms of ROCS).
const ECONOMICS = ['messages_sent', 'messages_read', 'ctr', 'campaign_conversion_rate', 'rocs', 'messaging_cost', 'paid_messages', 'free_messages'];

// economics is a campaign's send dates, message funnel and money: spend and
// attributed revenue (ROCS's denominator and numerator, per currency),
// ROCS, and cost per conversion (spend ÷ converted messages).
function economics(ctx, econ, days, src) {
  const sentOn = {};
  for (const r of days.rows) {
    const c = r.group.campaign, k = r.kpis.find((x) => x.id === 'messages_sent');
    if (!c || !k || !k.value) continue;
    const d = sentOn[c] || (sentOn[c] = { first: r.group.bucket, last: r.group.bucket });
    if (r.group.bucket < d.first) d.first = r.group.bucket;
    if (r.group.bucket > d.last) d.last = r.group.bucket;
  }
  const rows = [];
  for (const r of econ.rows) {
    const campaign = r.group.campaign;
    if (!campaign) continue;
    const one = (id) => r.kpis.find((k) => k.id === id && !k.label) || {};
    const base = {
      campaign, sent: one('messages_sent').value ?? null, read: one('messages_read').value ?? null,
      clicked: one('ctr').numerator ?? null, converted: one('campaign_conversion_rate').numerator ?? null,
      paid: one('paid_messages').value ?? null, free: one('free_messages').value ?? null,
      first: (sentOn[campaign] || {}).first, last: (sentOn[campaign] || {}).last,
    };
    const terms = r.kpis.filter((k) => k.id === 'rocs' && !k.label && k.currency && ctx.currencyOK(k.currency));
    if (!terms.length) rows.push(Object.assign({ currency: '', messaging: null, spend: null, revenue: null, rocs: null, cpc: null }, base));
    for (const k of terms) {
      const messaging = r.kpis.find((x) => x.id === 'messaging_cost' && x.currency === k.currency);
      rows.push(Object.assign({}, base, {
        messaging: messaging ? messaging.value : null,
        // No spend recorded reads as none, not as a free campaign.
        currency: k.currency, spend: k.denominator || null, revenue: k.numerator, rocs: k.value ?? null,
        cpc: base.converted && k.denominator ? k.denominator / base.converted : null,
      }));
    }
  }
  const when = (r) => (!r.first ? '—' : r.first === r.last ? fmt.date(r.first, ctx.tz)
    : t('{from} – {to}', { from: fmt.date(r.first, ctx.tz), to: fmt.date(r.last, ctx.tz) }));
  const money = (key, label) => ({ key, label, num: true, unit: 'money', currency: (r) => r.currency || undefined });
  const cols = [
    { key: 'campaign', label: t('Campaign'), cls: 'name' },
    { key: 'first', label: t('Sent on'), text: (v, r) => when(r), cls: 'date', title: t('The days of the period on which the campaign sent messages') },
    { key: 'sent', label: t('Sent'), num: true, unit: 'count' },
    { key: 'read', label: t('Read'), num: true, unit: 'count' },
    { key: 'clicked', label: t('Clicked'), num: true, unit: 'count' },
    { key: 'converted', label: t('Converted'), num: true, unit: 'count', title: t('Messages followed by an order or goal within the conversion window') },
    { key: 'paid', label: t('Paid'), num: true, unit: 'count', title: ctx.info('paid_messages').formula },
    { key: 'free', label: t('Free'), num: true, unit: 'count', title: ctx.info('free_messages').formula },
    { key: 'currency', label: t('Currency'), text: (v) => v || '—' },
    Object.assign(money('messaging', ctx.info('messaging_cost').name), { title: ctx.info('messaging_cost').formula }),
    Object.assign(money('spend', t('Spend')), { title: t('Campaign cost: the messaging cost and the campaign_cost events') }),
    money('revenue', t('Revenue')),
    { key: 'rocs', label: t('ROCS'), num: true, unit: 'ratio', title: ctx.info('rocs').formula },
    money('cpc', t('Cost per conversion')),
  ];
  return panel('economics', t('Campaign economics'), {
    src, wide: true,
    note: t('Each campaign\'s send days and message funnel beside its spend (the messaging cost from the rate card and other campaign costs) and the revenue attributed to it, per currency: ROCS is revenue ÷ spend, cost per conversion spend ÷ converted messages.'),
  },
  table({ id: 'economics', columns: cols, rows, rowKey: (r) => r.campaign + '|' + r.currency, empty: t('No campaign messages in this period.') }));
}

// messagingCosts breaks the messaging cost down by campaign, template,
// pricing category, type and country, and lists the templates billed in
// another category than they were sent as.
function messagingCosts(ctx, costs, src, mismatches, mismatchSrc) {
  if (costs.error) return panel('costs', ctx.info('messaging_cost').name, { src, wide: true }, message(costs.error.message, 'error'));
  const money = (key, label) => ({ key, label, num: true, unit: 'money', currency: (r) => r.currency || undefined });
  const dash = (v) => v || '—';
  const rows = costs.data.rows || [];
  const found = (mismatches.data && mismatches.data.mismatches) || [];
  return panel('costs', ctx.info('messaging_cost').name, {
    src, wide: true,
    note: t('Delivered messages priced by the rate card in force at delivery, by pricing category, type and recipient country. Free types (customer service, entry point) and free allowances cost nothing.'),
  },
  table({
    id: 'costs', rows, rowKey: (r) => [r.campaign, r.template, r.category, r.pricing_type, r.country, r.currency].join('|'),
    empty: t('No delivered message carries pricing in this period.'),
    columns: [
      { key: 'campaign', label: t('Campaign'), cls: 'name', text: (v) => v || none() },
      { key: 'template', label: t('Template'), text: (v) => v || none() },
      { key: 'category', label: t('Category') },
      { key: 'pricing_type', label: t('Pricing type') },
      { key: 'country', label: t('Country'), text: dash },
      { key: 'delivered', label: t('Delivered'), num: true, unit: 'count' },
      { key: 'paid', label: t('Paid'), num: true, unit: 'count' },
      { key: 'free', label: t('Free'), num: true, unit: 'count' },
      money('cost', t('Cost')),
      money('cost_per_delivered', t('Per delivered')),
    ],
  }),
  found.length ? h('div', { class: 'mismatches' },
    h('h3', {}, t('Billed in another category than sent as')),
    h('p', { class: 'note' }, h('a', { href: mismatchSrc }, 'JSON'), ' · ', t('templates whose messages Meta billed in another category, priced both ways by the rate card.')),
    table({
      id: 'mismatches', rows: found, rowKey: (r) => [r.template, r.sent_as, r.billed_as, r.currency].join('|'),
      columns: [
        { key: 'template', label: t('Template'), cls: 'name', text: (v) => v || none() },
        { key: 'sent_as', label: t('Sent as') },
        { key: 'billed_as', label: t('Billed as') },
        { key: 'messages', label: t('Messages'), num: true, unit: 'count' },
        money('billed', t('Billed')),
        money('as_sent', t('As sent')),
        money('difference', t('Difference')),
      ],
    })) : null);
}

async function load(src) {
  try {
    return { data: await api.get(src) };
  } catch (e) {
    return { error: e };
  }
}

// recipientStatuses are what the recipients can be narrowed to (the API's
// status parameter) and their buttons' texts; '' shows them all.
const recipientStatuses = () => [['', t('All')], ['failed', t('Failed')], ['delivered', t('Delivered')], ['read', t('Read')], ['clicked', t('Clicked')], ['replied', t('Replied')]];

const STATUS = { clicked: 'rated-best', read: 'rated-better', delivered: '', sent: '', failed: 'rated-worse' };

// statusText words the furthest status a message got (the API's word
// when it is none of these).
const statusText = (v) => ({ clicked: t('clicked'), read: t('read'), delivered: t('delivered'), sent: t('sent'), failed: t('failed') })[v] || (v ?? '—');

export async function recipients(ctx) {
  const p = ctx.params;
  const back = h('p', { class: 'back' }, h('a', { href: ctx.href({ view: 'campaigns' }) }, t('← All campaigns')));
  if (!p.campaign) return [back, message(t('Choose a campaign in the filters, or click one in the campaigns table.'))];
  const failSrc = api.url('/v1/failures', ctx.q());
  const statuses = recipientStatuses();
  const status = statuses.some(([v]) => v === p.status) ? p.status : '';
  const recSrc = api.url('/v1/campaigns/recipients', ctx.q({ limit: 100, status }));
  const [fails, recs] = await Promise.all([load(failSrc), load(recSrc)]);
  const title = p.campaign + (p.template ? ' · ' + p.template : '');
  const reasonText = (r) => [r.code, r.reason || (explain(r.code) || {}).title].filter((x) => x).join(' · ') || t('no reason given');
  const failPanel = () => {
    const f = fails.data;
    const reasons = f.reasons || [];
    const rate = f.sent ? (100 * f.failed) / f.sent : null;
    const figures = {
      failed: h('span', { dataset: { kpi: 'failed', value: String(f.failed) } }, fmt.number(f.failed, 0)),
      sent: h('span', { dataset: { kpi: 'sent', value: String(f.sent) } }, fmt.number(f.sent, 0)),
      rate: rate !== null ? fmt.value(rate, 'percent') : null,
    };
    return [
      h('p', { class: 'summary' },
        compose(rate !== null ? t('{failed} of {sent} messages failed ({rate}).') : t('{failed} of {sent} messages failed.'), figures)),
      reasons.length ? bars(reasons.map((r) => ({ label: reasonText(r), value: r.messages, text: fmt.number(r.messages, 0) })), { label: t('Failures by reason'), labelWidth: 230 }) : null,
      table({
        id: 'failures', rows: reasons, rowKey: (r) => r.code || '', empty: t('No message failed.'),
        columns: [
          { key: 'code', label: t('Code'), text: (v) => v || '—' },
          { key: 'reason', label: t('Reason'), get: (r) => r.reason || (explain(r.code) || {}).title || null, text: (v) => v || '—', cls: 'reason' },
          { key: 'messages', label: t('Messages'), num: true, unit: 'count' },
          // WhatsApp's codes, explained: Meta's list in whatsapp.js.
          { key: 'meaning', label: t('What it means'), get: (r) => (explain(r.code) || {}).meaning || null, text: (v) => v || '—', cls: 'reason' },
          { key: 'action', label: t('What to do'), get: (r) => (explain(r.code) || {}).action || null, text: (v) => v || '—', cls: 'reason' },
        ],
      }),
    ];
  };
  const time = (v) => (v ? fmt.dateTime(v, ctx.tz) : '—');
  const recPanel = () => {
    const r = recs.data;
    return [
      r.truncated ? h('p', { class: 'note' }, t('Showing the first {n} of {total} messages; the CSV has them all.', { n: fmt.number(r.recipients.length, 0), total: fmt.number(r.total, 0) })) : null,
      table({
        id: 'recipients', rows: r.recipients || [], rowKey: (x) => x.message, empty: t('No message of this campaign in the period.'),
        columns: [
          { key: 'customer', label: t('Customer'), cls: 'name' },
          { key: 'message', label: t('Message') },
          { key: 'channel', label: t('Channel') },
          { key: 'template', label: t('Template'), text: (v) => v || '—' },
          { key: 'variant', label: t('Variant'), text: (v) => v || '—' },
          { key: 'status', label: t('Furthest status'), text: statusText, cls: (x) => 'rated ' + (STATUS[x.status] || '') },
          { key: 'sent', label: t('Sent'), text: time },
          { key: 'delivered', label: t('Delivered'), text: time },
          { key: 'read', label: t('Read'), text: time },
          { key: 'clicked', label: t('Clicked'), text: time },
          { key: 'failed', label: t('Failed'), text: time },
          { key: 'replied', label: t('Replied'), text: time, title: t('The customer\'s first message within the reply window') },
          { key: 'failure_code', label: t('Failure'), get: (x) => [x.failure_code, x.failure_reason || (explain(x.failure_code) || {}).title].filter((y) => y).join(' · ') || null, text: (v) => v || '' },
        ],
      }),
    ];
  };
  const unavailable = (e) => message(e.message, 'error');
  return [
    back,
    h('h2', { class: 'drill-title', dataset: { campaign: p.campaign } }, title),
    panel('failures', t('Failure reasons'), { src: failSrc, csv: !!fails.data, note: t('Failed messages by the channel\'s error code.') },
      fails.error ? unavailable(fails.error) : failPanel()),
    panel('recipients', t('Recipients'), {
      src: recSrc, csvSrc: api.url('/v1/campaigns/recipients', ctx.q({ limit: 100000, status })), csv: !!recs.data, wide: true,
      note: t('One row per message of the campaign: how far it got, when, whether the customer wrote back, and why it failed.'),
      actions: h('div', { class: 'presets', role: 'group', 'aria-label': t('Show') }, statuses.map(([v, label]) =>
        h('button', { type: 'button', dataset: { status: v }, 'aria-pressed': v === status ? 'true' : 'false', onclick: () => ctx.navigate({ status: v }) }, label))),
    },
    recs.error ? unavailable(recs.error) : recPanel()),
  ];
}
