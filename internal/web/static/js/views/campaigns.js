// Campaigns and templates, their recipients and failures.

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { h, panel, table, message } from '../dom.js';
import { bars } from '../chart.js';
import { explain } from '../whatsapp.js';

const none = '(none)';

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
      key: 'campaign', label: 'Campaign', cls: 'name',
      link: (r, text) => (r.campaign ? h('a', { href: drill(r), title: 'Recipients and failures', dataset: { drill: '' } }, text) : text),
      text: (v) => v || none,
    },
    { key: 'template', label: 'Template', text: (v) => v || none },
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
      panel('ctr', 'Click-through rate', { note: 'By campaign and template; the colour is the rating against the 15–25 % band.' },
        ctr.length ? bars(ctr, { max: 100, label: 'Click-through rate by campaign', labelWidth: 190 }) : message('No campaign messages in this period.')),
      panel('open', 'Open rate', { note: 'Read ÷ sent, against the 85–90 % band.' },
        open.length ? bars(open, { max: 100, label: 'Open rate by campaign', labelWidth: 190 }) : message('No campaign messages in this period.'))),
    economics(ctx, econ, days, econSrc),
    messagingCosts(ctx, costs, costSrc, mismatches, mismatchSrc),
    panel('campaigns', 'Campaigns and templates', {
      src, wide: true,
      note: 'Every message KPI per campaign and template; click a column to sort, a campaign for its recipients and failures. Messages sent by agents and bots have no campaign.',
    },
    table({ id: 'campaigns', columns: cols, rows, rowKey: (r) => (r.campaign || '') + '/' + (r.template || ''), empty: 'No messages in this period.' })),
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
  const when = (r) => (!r.first ? '—' : r.first === r.last ? fmt.date(r.first, ctx.tz) : fmt.date(r.first, ctx.tz) + ' – ' + fmt.date(r.last, ctx.tz));
  const money = (key, label) => ({ key, label, num: true, unit: 'money', currency: (r) => r.currency || undefined });
  const cols = [
    { key: 'campaign', label: 'Campaign', cls: 'name' },
    { key: 'first', label: 'Sent on', text: (v, r) => when(r), cls: 'date', title: 'The days of the period on which the campaign sent messages' },
    { key: 'sent', label: 'Sent', num: true, unit: 'count' },
    { key: 'read', label: 'Read', num: true, unit: 'count' },
    { key: 'clicked', label: 'Clicked', num: true, unit: 'count' },
    { key: 'converted', label: 'Converted', num: true, unit: 'count', title: 'Messages followed by an order or goal within the conversion window' },
    { key: 'paid', label: 'Paid', num: true, unit: 'count', title: ctx.info('paid_messages').formula },
    { key: 'free', label: 'Free', num: true, unit: 'count', title: ctx.info('free_messages').formula },
    { key: 'currency', label: 'Currency', text: (v) => v || '—' },
    Object.assign(money('messaging', 'Messaging cost'), { title: ctx.info('messaging_cost').formula }),
    Object.assign(money('spend', 'Spend'), { title: 'Campaign cost: the messaging cost and the campaign_cost events' }),
    money('revenue', 'Revenue'),
    { key: 'rocs', label: 'ROCS', num: true, unit: 'ratio', title: ctx.info('rocs').formula },
    money('cpc', 'Cost per conversion'),
  ];
  return panel('economics', 'Campaign economics', {
    src, wide: true,
    note: 'Each campaign\'s send days and message funnel beside its spend (the messaging cost from the rate card and other campaign costs) and the revenue attributed to it, per currency: ROCS is revenue ÷ spend, cost per conversion spend ÷ converted messages.',
  },
  table({ id: 'economics', columns: cols, rows, rowKey: (r) => r.campaign + '|' + r.currency, empty: 'No campaign messages in this period.' }));
}

// messagingCosts breaks the messaging cost down by campaign, template,
// pricing category, type and country, and lists the templates billed in
// another category than they were sent as.
function messagingCosts(ctx, costs, src, mismatches, mismatchSrc) {
  if (costs.error) return panel('costs', 'Messaging cost', { src, wide: true }, message(costs.error.message, 'error'));
  const money = (key, label) => ({ key, label, num: true, unit: 'money', currency: (r) => r.currency || undefined });
  const dash = (v) => v || '—';
  const rows = costs.data.rows || [];
  const found = (mismatches.data && mismatches.data.mismatches) || [];
  return panel('costs', 'Messaging cost', {
    src, wide: true,
    note: 'Delivered messages priced by the rate card in force at delivery, by pricing category, type and recipient country. Free types (customer service, entry point) and free allowances cost nothing.',
  },
  table({
    id: 'costs', rows, rowKey: (r) => [r.campaign, r.template, r.category, r.pricing_type, r.country, r.currency].join('|'),
    empty: 'No delivered message carries pricing in this period.',
    columns: [
      { key: 'campaign', label: 'Campaign', cls: 'name', text: (v) => v || none },
      { key: 'template', label: 'Template', text: (v) => v || none },
      { key: 'category', label: 'Category' },
      { key: 'pricing_type', label: 'Pricing type' },
      { key: 'country', label: 'Country', text: dash },
      { key: 'delivered', label: 'Delivered', num: true, unit: 'count' },
      { key: 'paid', label: 'Paid', num: true, unit: 'count' },
      { key: 'free', label: 'Free', num: true, unit: 'count' },
      money('cost', 'Cost'),
      money('cost_per_delivered', 'Per delivered'),
    ],
  }),
  found.length ? h('div', { class: 'mismatches' },
    h('h3', {}, 'Billed in another category than sent as'),
    h('p', { class: 'note' }, h('a', { href: mismatchSrc }, 'JSON'), ' · templates whose messages Meta billed in another category, priced both ways by the rate card.'),
    table({
      id: 'mismatches', rows: found, rowKey: (r) => [r.template, r.sent_as, r.billed_as, r.currency].join('|'),
      columns: [
        { key: 'template', label: 'Template', cls: 'name', text: (v) => v || none },
        { key: 'sent_as', label: 'Sent as' },
        { key: 'billed_as', label: 'Billed as' },
        { key: 'messages', label: 'Messages', num: true, unit: 'count' },
        money('billed', 'Billed'),
        money('as_sent', 'As sent'),
        money('difference', 'Difference'),
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

// RECIPIENT_STATUSES are what the recipients can be narrowed to (the
// API's status parameter); '' shows them all.
const RECIPIENT_STATUSES = [['', 'All'], ['failed', 'Failed'], ['delivered', 'Delivered'], ['read', 'Read'], ['clicked', 'Clicked'], ['replied', 'Replied']];

const STATUS = { clicked: 'rated-best', read: 'rated-better', delivered: '', sent: '', failed: 'rated-worse' };

export async function recipients(ctx) {
  const p = ctx.params;
  const back = h('p', { class: 'back' }, h('a', { href: ctx.href({ view: 'campaigns' }) }, '← All campaigns'));
  if (!p.campaign) return [back, message('Choose a campaign in the filters, or click one in the campaigns table.')];
  const failSrc = api.url('/v1/failures', ctx.q());
  const status = RECIPIENT_STATUSES.some(([v]) => v === p.status) ? p.status : '';
  const recSrc = api.url('/v1/campaigns/recipients', ctx.q({ limit: 100, status }));
  const [fails, recs] = await Promise.all([load(failSrc), load(recSrc)]);
  const title = p.campaign + (p.template ? ' · ' + p.template : '');
  const reasonText = (r) => [r.code, r.reason || (explain(r.code) || {}).title].filter((x) => x).join(' · ') || 'no reason given';
  const failPanel = () => {
    const f = fails.data;
    const reasons = f.reasons || [];
    const rate = f.sent ? (100 * f.failed) / f.sent : null;
    return [
      h('p', { class: 'summary' },
        h('span', { dataset: { kpi: 'failed', value: String(f.failed) } }, fmt.number(f.failed, 0)), ' of ',
        h('span', { dataset: { kpi: 'sent', value: String(f.sent) } }, fmt.number(f.sent, 0)), ' messages failed',
        rate !== null ? ` (${fmt.value(rate, 'percent')})` : '', '.'),
      reasons.length ? bars(reasons.map((r) => ({ label: reasonText(r), value: r.messages, text: fmt.number(r.messages, 0) })), { label: 'Failures by reason', labelWidth: 230 }) : null,
      table({
        id: 'failures', rows: reasons, rowKey: (r) => r.code || '', empty: 'No message failed.',
        columns: [
          { key: 'code', label: 'Code', text: (v) => v || '—' },
          { key: 'reason', label: 'Reason', get: (r) => r.reason || (explain(r.code) || {}).title || null, text: (v) => v || '—', cls: 'reason' },
          { key: 'messages', label: 'Messages', num: true, unit: 'count' },
          // WhatsApp's codes, explained: Meta's list in whatsapp.js.
          { key: 'meaning', label: 'What it means', get: (r) => (explain(r.code) || {}).meaning || null, text: (v) => v || '—', cls: 'reason' },
          { key: 'action', label: 'What to do', get: (r) => (explain(r.code) || {}).action || null, text: (v) => v || '—', cls: 'reason' },
        ],
      }),
    ];
  };
  const time = (v) => (v ? fmt.dateTime(v, ctx.tz) : '—');
  const recPanel = () => {
    const r = recs.data;
    return [
      r.truncated ? h('p', { class: 'note' }, `Showing the first ${fmt.number(r.recipients.length, 0)} of ${fmt.number(r.total, 0)} messages; the CSV has them all.`) : null,
      table({
        id: 'recipients', rows: r.recipients || [], rowKey: (x) => x.message, empty: 'No message of this campaign in the period.',
        columns: [
          { key: 'customer', label: 'Customer', cls: 'name' },
          { key: 'message', label: 'Message' },
          { key: 'channel', label: 'Channel' },
          { key: 'template', label: 'Template', text: (v) => v || '—' },
          { key: 'variant', label: 'Variant', text: (v) => v || '—' },
          { key: 'status', label: 'Furthest status', cls: (x) => 'rated ' + (STATUS[x.status] || '') },
          { key: 'sent', label: 'Sent', text: time },
          { key: 'delivered', label: 'Delivered', text: time },
          { key: 'read', label: 'Read', text: time },
          { key: 'clicked', label: 'Clicked', text: time },
          { key: 'failed', label: 'Failed', text: time },
          { key: 'replied', label: 'Replied', text: time, title: 'The customer\'s first message within the reply window' },
          { key: 'failure_code', label: 'Failure', get: (x) => [x.failure_code, x.failure_reason || (explain(x.failure_code) || {}).title].filter((y) => y).join(' · ') || null, text: (v) => v || '' },
        ],
      }),
    ];
  };
  const unavailable = (e) => message(e.message, 'error');
  return [
    back,
    h('h2', { class: 'drill-title', dataset: { campaign: p.campaign } }, title),
    panel('failures', 'Failure reasons', { src: failSrc, csv: !!fails.data, note: 'Failed messages by the channel\'s error code.' },
      fails.error ? unavailable(fails.error) : failPanel()),
    panel('recipients', 'Recipients', {
      src: recSrc, csvSrc: api.url('/v1/campaigns/recipients', ctx.q({ limit: 100000, status })), csv: !!recs.data, wide: true,
      note: 'One row per message of the campaign: how far it got, when, whether the customer wrote back, and why it failed.',
      actions: h('div', { class: 'presets', role: 'group', 'aria-label': 'Show' }, RECIPIENT_STATUSES.map(([v, label]) =>
        h('button', { type: 'button', dataset: { status: v }, 'aria-pressed': v === status ? 'true' : 'false', onclick: () => ctx.navigate({ status: v }) }, label))),
    },
    recs.error ? unavailable(recs.error) : recPanel()),
  ];
}
