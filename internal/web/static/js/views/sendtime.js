// The best send time: by local hour of the week, how the campaign messages
// sent in each hour fared (read rate, reply rate, median time to read), or
// the reads and customer messages as they happened, as a heat map with the
// best hours by the chosen metric outlined, from the sendtime view (GET
// /v1/sendtime?metric=…).

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { h, panel, table, message, chooser } from '../dom.js';
import { heatmap } from '../chart.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_NAMES = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };

// METRICS: the URL's metric, the API's metric, the cell's field, its unit
// and how it is named. Rates and the time to read are of the messages
// sent in the hour; reads and customer messages count when they happened.
const METRICS = {
  read_rate: { field: 'read_rate', unit: 'percent', name: 'read rate of the messages sent' },
  reply_rate: { field: 'reply_rate', unit: 'percent', name: 'reply rate of the messages sent' },
  time_to_read: { field: 'median_time_to_read', unit: 'seconds', name: 'median time to read (shortest best)' },
  reads: { field: 'reads', unit: 'count', name: 'reads of outbound messages' },
  replies: { field: 'replies', unit: 'count', name: 'customer messages' },
};

const hourText = (x) => `${DAY_NAMES[x.day]} ${String(x.hour).padStart(2, '0')}:00`;

export default async function sendtime(ctx) {
  const p = ctx.params;
  const metric = METRICS[p.metric] ? p.metric : 'read_rate';
  const m = METRICS[metric];
  const src = api.url('/v1/sendtime', ctx.q({ metric }));
  const res = await api.get(src);
  const channels = res.channels || [];
  const names = channels.map((c) => c.channel);
  const name = names.includes(p.of) ? p.of : names.includes('whatsapp') ? 'whatsapp' : names[0];
  const ch = channels.find((c) => c.channel === name);
  const tools = h('div', { class: 'toolbar' },
    names.length > 1 ? chooser(ctx, 'of', 'Channel', names.map((n) => [n, n]), name, names.includes('whatsapp') ? 'whatsapp' : names[0]) : null,
    chooser(ctx, 'metric', 'Best by', Object.entries(METRICS).map(([k, v]) => [k, v.name]), metric, 'read_rate'));
  if (!ch) return [tools, message('No messages sent, read or received in this period.')];
  const grid = {};
  for (const x of ch.hours) grid[x.day + ':' + x.hour] = x;
  const best = new Set((ch.best || []).map((b) => b.day + ':' + b.hour));
  const val = (x) => (x ? x[m.field] ?? null : null);
  const vals = ch.hours.map(val).filter((v) => v !== null);
  const max = Math.max(1, ...vals);
  const show = (v) => fmt.value(v, m.unit);
  const cellText = (v) => (v === null || (m.unit === 'count' && !v) ? '' : m.unit === 'percent' ? String(Math.round(v)) : m.unit === 'seconds' ? fmt.duration(v).replace(/\.\d/, '').replace(' ', '') : String(v));
  const figures = (x) => `${x.sent} sent: read rate ${show(x.read_rate)}, reply rate ${show(x.reply_rate)}, ` +
    `median time to read ${x.median_time_to_read === null ? '—' : fmt.duration(x.median_time_to_read)}; ${x.reads} reads and ${x.replies} customer messages in the hour`;
  const map = heatmap({
    rows: DAYS.map((d) => DAY_NAMES[d]),
    cols: Array.from({ length: 24 }, (_, i) => String(i).padStart(2, '0')),
    rowLabelWidth: 84, cellWidth: 30, colLabelEvery: 1, max,
    label: `${name}: ${m.name} by hour of the week`,
    cell: (i, j) => {
      const x = grid[DAYS[i] + ':' + j];
      const v = val(x);
      return {
        // The quickest reads shade darkest, as the highest rates do.
        value: v === null ? null : m.unit === 'seconds' ? max - v + 1 : v, text: cellText(v), mark: best.has(DAYS[i] + ':' + j),
        title: `${DAY_NAMES[DAYS[i]]} ${String(j).padStart(2, '0')}:00–${String(j + 1).padStart(2, '0')}:00: ` + (x ? figures(x) : 'nothing'),
        attrs: { 'data-row': DAYS[i], 'data-col': String(j), 'data-kpi': metric, 'data-value': v === null ? '' : String(v) },
      };
    },
  });
  const bestList = (ch.best || []).map((b) => h('li', { dataset: { best: b.day + ':' + b.hour, value: String(val(b)) } },
    h('strong', null, hourText(b)), ` — ${m.name} ${m.unit === 'seconds' ? fmt.duration(val(b)) : show(val(b))}` +
    (m.unit === 'count' ? '' : ` (${fmt.number(b.sent, 0)} sent)`)));
  const normalised = m.unit !== 'count';
  const rows = ch.hours.filter((x) => x.sent || x.reads || x.replies).map((x) => Object.assign({ channel: name }, x));
  return [
    tools,
    panel('sendtime', `Best time to send on ${name}`, {
      src, wide: true,
      note: `Local hour of the week in ${ctx.tz}; the outlined cells are the three best hours by ${m.name}.` +
        (normalised ? ` Rates and times are of the campaign messages sent in each hour, whenever they were read or answered; an hour needs ${res.min_sent} messages sent to be among the best. Empty cells sent nothing.` : ''),
    },
    bestList.length ? h('ol', { class: 'best' }, bestList) : message(`No hour sent ${res.min_sent} messages or more in this period.`),
    h('div', { class: 'scroll' }, map),
    h('details', null, h('summary', null, 'As a table'),
      table({
        id: 'sendtime', rows, rowKey: (r) => r.day + ':' + r.hour,
        columns: [
          { key: 'day', label: 'Day', text: (v) => DAY_NAMES[v] },
          { key: 'hour', label: 'Hour', num: true, text: (v) => String(v).padStart(2, '0') + ':00' },
          { key: 'sent', label: 'Sent', num: true, unit: 'count' },
          { key: 'read_rate', label: 'Read rate', num: true, unit: 'percent' },
          { key: 'reply_rate', label: 'Reply rate', num: true, unit: 'percent' },
          { key: 'median_time_to_read', label: 'Median time to read', num: true, unit: 'seconds' },
          { key: 'reads', label: 'Reads', num: true, unit: 'count' },
          { key: 'replies', label: 'Customer messages', num: true, unit: 'count' },
        ],
      }))),
  ];
}
