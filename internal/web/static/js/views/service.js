// Conversations and agents: response and resolution times (wall clock or
// business hours), unclosed conversations, CSAT and NPS, per agent.

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { h, panel, table, message } from '../dom.js';
import { bars } from '../chart.js';
import { card } from './overview.js';
import { kpiColumns, reportRows } from './campaigns.js';

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

// hoursText sums up open hours: mon 09:00-17:00, …
function hoursText(bh) {
  const days = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
  return days.filter((d) => (bh.open || {})[d]).map((d) => d + ' ' + bh.open[d].join(', ')).join('; ');
}

export default async function service(ctx) {
  const business = ctx.params.hours === 'business' && ctx.businessHours;
  const have = (ids) => ids.filter((id) => ctx.catalogue[id]);
  const totalsSrc = api.url('/v1/kpis', ctx.q({ kpi: have(TOTALS).join(','), compare: 'previous' }));
  const distSrc = api.url('/v1/kpis', ctx.q({ kpi: 'frt_distribution' }));
  const npsSrc = api.url('/v1/kpis', ctx.q({ kpi: NPS.join(',') }));
  const agentSrc = api.url('/v1/kpis', ctx.q({ kpi: have(AGENT).join(','), group_by: 'agent' }));
  const unclosedSrc = api.url('/v1/conversations/unclosed', ctx.q());
  const keywordSrc = api.url('/v1/keywords', ctx.q({ limit: 15 }));
  const [totals, distRep, npsRep, agents, unclosed, keywords] = await Promise.all([
    api.get(totalsSrc), api.get(distSrc), api.get(npsSrc), api.get(agentSrc), api.get(unclosedSrc), api.get(keywordSrc).catch(() => null),
  ]);

  const entries = ((totals.rows[0] || {}).kpis || []);
  const byId = {};
  for (const k of entries) if (!k.label) byId[k.id] = byId[k.id] || k;
  const label = `vs previous ${ctx.period.days} days`;
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
  const agentCols = [{ key: 'agent', label: 'Agent', text: (v) => v || '(no agent)', cls: 'name' }, ...kpiColumns(ctx, have(AGENT))];
  const list = unclosed.conversations || [];
  const unclosedCols = [
    { key: 'customer', label: 'Customer' },
    { key: 'channel', label: 'Channel' },
    { key: 'agent', label: 'Agent', text: (v) => v || '—' },
    { key: 'started', label: 'Started', text: (v) => fmt.dateTime(v, ctx.tz) },
    { key: 'last_message_at', label: 'Last message', text: (v) => fmt.dateTime(v, ctx.tz) },
    { key: 'last_message_by', label: 'By' },
    { key: 'reason', label: 'Why it is open', cls: 'reason' },
  ];
  const words = keywords ? (keywords.keywords || []).map((k) => ({ label: k.term, value: k.messages, text: fmt.number(k.messages, 0), attrs: { 'data-term': k.term, 'data-value': String(k.messages) } })) : [];

  return [
    h('div', { class: 'toolbar' }, h('p', { class: 'note' }, !ctx.businessHours
      ? h('span', null, 'The workspace has no business hours: set them with ', h('code', null, 'omnikpi workspace --business-hours'), '.')
      : business ? `Times count only the workspace's open hours (${hoursText(ctx.workspace.business_hours)}).` : 'Times count every hour of the clock; the filters\' Times switch to business hours.')),
    panel('service', 'Responsiveness and satisfaction', { src: totalsSrc },
      cards.length ? h('div', { class: 'cards' }, cards) : message('No conversations in this period.')),
    h('div', { class: 'split' },
      panel('frt', 'First response time distribution', { src: distSrc, note: 'Conversations by the time to the first reply.' },
        dist.length ? bars(dist, { label: 'Conversations by first response time', labelWidth: 110 }) : message('No conversations.')),
      panel('nps', 'NPS answers', { src: npsSrc, note: 'Promoters 9–10, passives 7–8, detractors 0–6.' },
        nps.length && nps.some((x) => x.value) ? bars(nps, { label: 'NPS answers', labelWidth: 110 }) : message('No NPS answers in this period.'))),
    panel('agents', 'Agents', { src: agentSrc, wide: true, note: 'A reply counts for whoever sent it; a conversation and its resolution for its agent.' },
      table({ id: 'agents', columns: agentCols, rows: agentRows, rowKey: (r) => r.agent || '', empty: 'No conversations in this period.' })),
    panel('unclosed', `Unclosed conversations (${fmt.number(list.length, 0)})`, { src: unclosedSrc, wide: true },
      table({ id: 'unclosed', columns: unclosedCols, rows: list, rowKey: (r) => r.conversation, limit: 25, empty: 'Every conversation of the period was closed.' })),
    keywords ? panel('keywords', 'What customers ask about', { src: keywordSrc, note: 'Most used terms of inbound messages.' },
      words.length ? bars(words, { label: 'Top keywords', labelWidth: 150 }) : message('No inbound text in this period.')) : null,
  ];
}
