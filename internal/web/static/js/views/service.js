// Conversations and agents: response and resolution times (wall clock or
// business hours), conversations by day and by hour of the day, the
// unclosed ones with how long they wait (a page at a time), CSAT and NPS,
// per agent.

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { actorText, compose, h, message, panel, reasonText, table } from '../dom.js';
import { bars, columns } from '../chart.js';
import { card } from './overview.js';
import { kpiColumns, reportRows } from './campaigns.js';
import { weekdays } from './sendtime.js';
import { t } from '../i18n.js';

const TOTALS = [
  'conversations', 'first_response_time', 'first_response_time_median', 'first_response_time_p90',
  'first_human_response_time', 'avg_response_time', 'resolution_time', 'resolution_time_median',
  'resolution_time_p90', 'unclosed_conversations', 'conversation_conversion_rate',
  'csat', 'csat_mean', 'csat_response_rate', 'nps',
];
const NPS = ['nps_promoters', 'nps_passives', 'nps_detractors'];
const AGENT = [
  'conversations', 'first_response_time', 'first_response_time_median', 'first_human_response_time',
  'avg_response_time', 'resolution_time', 'resolution_time_median', 'unclosed_conversations',
  'conversation_conversion_rate', 'csat', 'csat_mean', 'nps',
];

// hoursText sums up open hours: Mon 09:00-17:00, …
function hoursText(bh) {
  const names = weekdays('short');
  return Object.keys(names).filter((d) => (bh.open || {})[d]).map((d) => names[d] + ' ' + bh.open[d].join(', ')).join('; ');
}

const PAGE = 25;

export default async function service(ctx) {
  const business = ctx.params.hours === 'business' && ctx.businessHours;
  const have = (ids) => ids.filter((id) => ctx.catalogue[id]);
  const totalsSrc = api.url('/v1/kpis', ctx.q({ kpi: have(TOTALS).join(','), compare: 'previous' }));
  const distSrc = api.url('/v1/kpis', ctx.q({ kpi: 'frt_distribution' }));
  const npsSrc = api.url('/v1/kpis', ctx.q({ kpi: NPS.join(',') }));
  const agentSrc = api.url('/v1/kpis', ctx.q({ kpi: have(AGENT).join(','), group_by: 'agent' }));
  // The unclosed conversations come a page at a time, the longest
  // waiting first; the page's offset lives in the address.
  const offset = Math.max(0, parseInt(ctx.params.open_from, 10) || 0);
  const unclosedSrc = api.url('/v1/conversations/unclosed', ctx.q({ limit: PAGE, offset }));
  const dailySrc = api.url('/v1/kpis', ctx.q({ kpi: 'conversations', bucket: 'day' }));
  const hoursSrc = api.url('/v1/conversations/hours', ctx.q());
  const keywordSrc = api.url('/v1/keywords', ctx.q({ limit: 15 }));
  const [totals, distRep, npsRep, agents, unclosed, daily, byHour, keywords] = await Promise.all([
    api.get(totalsSrc), api.get(distSrc), api.get(npsSrc), api.get(agentSrc), api.get(unclosedSrc),
    api.get(dailySrc), api.get(hoursSrc), api.get(keywordSrc).catch(() => null),
  ]);

  const entries = ((totals.rows[0] || {}).kpis || []);
  const byId = {};
  for (const k of entries) if (!k.label) byId[k.id] = byId[k.id] || k;
  const label = t('vs previous {n} days', { n: fmt.number(ctx.period.days, 0) });
  const cards = TOTALS.filter((id) => byId[id]).map((id) => card(ctx, byId[id], { previousLabel: label }));
  const dist = ((distRep.rows[0] || {}).kpis || []).filter((k) => k.id === 'frt_distribution').map((k) => ({
    label: k.label, value: k.value || 0, text: fmt.number(k.value, 0), attrs: { 'data-kpi': 'frt_distribution', 'data-label': k.label, 'data-value': String(k.value) },
  }));
  const npsById = {};
  for (const k of ((npsRep.rows[0] || {}).kpis || [])) npsById[k.id] = k;
  const nps = NPS.filter((id) => npsById[id]).map((id) => ({
    label: ctx.info(id).name.replace(/^NPS /, ''), value: npsById[id].value || 0, text: fmt.number(npsById[id].value, 0),
    cls: id === 'nps_promoters' ? 'rated-best' : id === 'nps_detractors' ? 'rated-worse' : '',
    attrs: { 'data-kpi': id, 'data-value': String(npsById[id].value) },
  }));

  const agentRows = reportRows(ctx, agents);
  const agentCols = [{ key: 'agent', label: t('Agent'), text: (v) => v || t('(no agent)'), cls: 'name' }, ...kpiColumns(ctx, have(AGENT))];
  const list = unclosed.conversations || [];
  const total = unclosed.total || 0;
  const unclosedCols = [
    {
      key: 'age_seconds', label: t('Waiting'), num: true, text: (v) => t('waiting {duration}', { duration: fmt.duration(v) }),
      title: t('Since the customer\'s unanswered message, else since the start, until {time}', { time: fmt.dateTime(unclosed.at, ctx.tz) }),
    },
    { key: 'customer', label: t('Customer') },
    { key: 'channel', label: t('Channel') },
    { key: 'agent', label: t('Agent'), text: (v) => v || '—' },
    { key: 'started', label: t('Started'), text: (v) => fmt.dateTime(v, ctx.tz) },
    { key: 'last_message_at', label: t('Last message'), text: (v) => fmt.dateTime(v, ctx.tz) },
    { key: 'last_message_by', label: t('By'), text: (v) => actorText(v) },
    { key: 'reason', label: t('Why it is open'), cls: 'reason', text: (v) => reasonText(v) },
  ];
  const pager = total > PAGE || offset ? h('p', { class: 'pager', dataset: { pager: '' } },
    offset > 0 ? h('a', { href: ctx.href({ open_from: Math.max(0, offset - PAGE) || '' }), dataset: { page: 'previous' } }, t('← Longer waiting')) : null,
    h('span', null, ' ', list.length
      ? t('{first}–{last} of {total}', { first: fmt.number(offset + 1, 0), last: fmt.number(offset + list.length, 0), total: fmt.number(total, 0) })
      : t('none past {total}', { total: fmt.number(total, 0) }), ' '),
    offset + PAGE < total ? h('a', { href: ctx.href({ open_from: offset + PAGE }), dataset: { page: 'next' } }, t('Shorter waiting →')) : null) : null;

  // Conversations by day, every day of the period, none where no row.
  const perDay = {};
  for (const r of daily.rows || []) {
    const k = (r.kpis || []).find((x) => x.id === 'conversations' && !x.label);
    if (r.group && r.group.bucket && k) perDay[String(r.group.bucket).slice(0, 10)] = k.value || 0;
  }
  const days = [];
  for (let d = ctx.period.from; d < ctx.period.to; d = fmt.addDays(d, 1)) days.push(d);
  const dayBars = days.map((d) => ({
    label: fmt.date(d, 'UTC'), value: perDay[d] || 0, text: fmt.number(perDay[d] || 0, 0),
    attrs: { 'data-day': d, 'data-value': String(perDay[d] || 0) },
  }));
  const hours = byHour.hours || [];
  const hourBars = hours.map((x) => ({
    label: String(x.hour).padStart(2, '0'), value: x.average || 0,
    text: t('{average} a day ({n} in all)', { average: fmt.number(x.average, 2), n: fmt.number(x.conversations, 0) }),
    attrs: { 'data-hour': String(x.hour), 'data-value': String(x.average), 'data-count': String(x.conversations) },
  }));
  const anyHour = hours.some((x) => x.conversations);
  const words = keywords ? (keywords.keywords || []).map((k) => ({ label: k.term, value: k.messages, text: fmt.number(k.messages, 0), attrs: { 'data-term': k.term, 'data-value': String(k.messages) } })) : [];

  return [
    h('div', { class: 'toolbar' }, h('p', { class: 'note' }, !ctx.businessHours
      ? h('span', null, compose(t('The workspace has no business hours: set them with {command}.'), { command: h('code', null, 'omnikpi workspace --business-hours') }))
      : business ? t('Times count only the workspace\'s open hours ({hours}).', { hours: hoursText(ctx.workspace.business_hours) })
        : t('Times count every hour of the clock; the filters\' Times switch to business hours.'))),
    panel('service', t('Responsiveness and satisfaction'), { src: totalsSrc },
      cards.length ? h('div', { class: 'cards' }, cards) : message(t('No conversations in this period.'))),
    h('div', { class: 'split' },
      panel('frt', t('First response time distribution'), { src: distSrc, note: t('Conversations by the time to the first reply.') },
        dist.length ? bars(dist, { label: t('Conversations by first response time'), labelWidth: 110 }) : message(t('No conversations.'))),
      panel('nps', t('NPS answers'), { src: npsSrc, note: t('Promoters 9–10, passives 7–8, detractors 0–6.') },
        nps.length && nps.some((x) => x.value) ? bars(nps, { label: t('NPS answers'), labelWidth: 110 }) : message(t('No NPS answers in this period.')))),
    panel('agents', t('Agents'), { src: agentSrc, wide: true, note: t('A reply counts for whoever sent it; a conversation and its resolution for its agent.') },
      table({ id: 'agents', columns: agentCols, rows: agentRows, rowKey: (r) => r.agent || '', empty: t('No conversations in this period.') })),
    h('div', { class: 'split' },
      panel('daily', t('Conversations by day'), { src: dailySrc, note: t('Conversations that started each day.') },
        // A label is a whole date: one under every seventh of the days.
        days.length ? columns(dayBars, { label: t('Conversations by day'), labelEvery: Math.ceil(days.length / 7) }) : message(t('No days.'))),
      panel('hours', t('Conversations by hour of the day'), { src: hoursSrc, note: t('On an average day, by the hour they started, in {zone}: for staffing.', { zone: ctx.tz }) },
        anyHour ? columns(hourBars, { label: t('Conversations by hour of the day'), labelEvery: 3 }) : message(t('No conversations in this period.')))),
    panel('unclosed', t('Unclosed conversations ({n})', { n: fmt.number(total, 0) }), {
      src: unclosedSrc, csvSrc: api.url('/v1/conversations/unclosed', ctx.q()), wide: true,
      note: t('The longest waiting first: since the customer\'s unanswered message, or since the start when the business spoke last.'),
    },
    table({ id: 'unclosed', columns: unclosedCols, rows: list, rowKey: (r) => r.conversation, empty: offset ? t('No more unclosed conversations.') : t('Every conversation of the period was closed.') }),
    pager, h('p', { class: 'note', dataset: { at: unclosed.at } }, t('Waiting times as of {time}.', { time: fmt.dateTime(unclosed.at, ctx.tz) }))),
    keywords ? panel('keywords', t('What customers ask about'), { src: keywordSrc, note: t('Most used terms of inbound messages.') },
      words.length ? bars(words, { label: t('Top keywords'), labelWidth: 150 }) : message(t('No inbound text in this period.'))) : null,
  ];
}
