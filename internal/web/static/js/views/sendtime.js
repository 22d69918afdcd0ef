// The best send time: reads and customer messages by local hour of the
// week as a heat map, from the sendtime view (GET /v1/sendtime).

import * as api from '../api.js';
import { h, panel, table, message, chooser } from '../dom.js';
import { heatmap } from '../chart.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_NAMES = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };

export default async function sendtime(ctx) {
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
