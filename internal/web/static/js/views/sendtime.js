// The best send time: by local hour of the week, how the campaign messages
// sent in each hour fared (read rate, reply rate, median time to read), or
// the reads and customer messages as they happened, as a heat map with the
// best hours by the chosen metric outlined, from the sendtime view (GET
// /v1/sendtime?metric=…).

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { h, panel, table, message, chooser } from '../dom.js';
import { heatmap } from '../chart.js';
import { t, locale } from '../i18n.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

// weekdays names the days of the week (mon … sun) in the page's language,
// in full or short (style 'long' or 'short').
export function weekdays(style = 'long') {
  const f = new Intl.DateTimeFormat(locale(), { weekday: style, timeZone: 'UTC' });
  // 5 January 2026 is a Monday.
  return Object.fromEntries(DAYS.map((d, i) => [d, f.format(new Date(Date.UTC(2026, 0, 5 + i)))]));
}

// METRICS: the URL's metric, the API's metric, the cell's field, its unit
// and how it is named. Rates and the time to read are of the messages
// sent in the hour; reads and customer messages count when they happened.
const METRICS = {
  read_rate: { field: 'read_rate', unit: 'percent', name: () => t('read rate of the messages sent') },
  reply_rate: { field: 'reply_rate', unit: 'percent', name: () => t('reply rate of the messages sent') },
  time_to_read: { field: 'median_time_to_read', unit: 'seconds', name: () => t('median time to read (shortest best)') },
  reads: { field: 'reads', unit: 'count', name: () => t('reads of outbound messages') },
  replies: { field: 'replies', unit: 'count', name: () => t('customer messages') },
};

const clock = (hour) => String(hour).padStart(2, '0') + ':00';

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
  const dayNames = weekdays();
  const metricName = m.name();
  const tools = h('div', { class: 'toolbar' },
    names.length > 1 ? chooser(ctx, 'of', t('Channel'), names.map((n) => [n, n]), name, names.includes('whatsapp') ? 'whatsapp' : names[0]) : null,
    chooser(ctx, 'metric', t('Best by'), Object.entries(METRICS).map(([k, v]) => [k, v.name()]), metric, 'read_rate'));
  if (!ch) return [tools, message(t('No messages sent, read or received in this period.'))];
  const grid = {};
  for (const x of ch.hours) grid[x.day + ':' + x.hour] = x;
  const best = new Set((ch.best || []).map((b) => b.day + ':' + b.hour));
  const val = (x) => (x ? x[m.field] ?? null : null);
  const vals = ch.hours.map(val).filter((v) => v !== null);
  const max = Math.max(1, ...vals);
  const show = (v) => fmt.value(v, m.unit);
  // A cell holds a short figure: a whole percent, a duration without its
  // tenths (in either decimal mark) and no space.
  const cellText = (v) => (v === null || (m.unit === 'count' && !v) ? '' : m.unit === 'percent' ? fmt.number(v, 0)
    : m.unit === 'seconds' ? fmt.duration(v).replace(/[.,]\d(?!\d)/, '').replace(/\s/, '') : fmt.number(v, 0));
  const figures = (x) => t('{sent} sent: read rate {readRate}, reply rate {replyRate}, median time to read {timeToRead}; {reads} reads and {replies} customer messages in the hour', {
    sent: fmt.number(x.sent, 0), readRate: show(x.read_rate), replyRate: show(x.reply_rate),
    timeToRead: x.median_time_to_read === null ? '—' : fmt.duration(x.median_time_to_read),
    reads: fmt.number(x.reads, 0), replies: fmt.number(x.replies, 0),
  });
  const map = heatmap({
    rows: DAYS.map((d) => dayNames[d]),
    cols: Array.from({ length: 24 }, (_, i) => String(i).padStart(2, '0')),
    rowLabelWidth: 84, cellWidth: 30, colLabelEvery: 1, max,
    label: t('{channel}: {metric} by hour of the week', { channel: name, metric: metricName }),
    cell: (i, j) => {
      const x = grid[DAYS[i] + ':' + j];
      const v = val(x);
      return {
        // The quickest reads shade darkest, as the highest rates do.
        value: v === null ? null : m.unit === 'seconds' ? max - v + 1 : v, text: cellText(v), mark: best.has(DAYS[i] + ':' + j),
        title: t('{day} {from}–{to}: {figures}', { day: dayNames[DAYS[i]], from: clock(j), to: clock(j + 1), figures: x ? figures(x) : t('nothing') }),
        attrs: { 'data-row': DAYS[i], 'data-col': String(j), 'data-kpi': metric, 'data-value': v === null ? '' : String(v) },
      };
    },
  });
  const bestList = (ch.best || []).map((b) => h('li', { dataset: { best: b.day + ':' + b.hour, value: String(val(b)) } },
    h('strong', null, dayNames[b.day] + ' ' + clock(b.hour)), ' — ',
    m.unit === 'count' ? metricName + ' ' + show(val(b))
      : t('{metric} {value} ({sent} sent)', { metric: metricName, value: m.unit === 'seconds' ? fmt.duration(val(b)) : show(val(b)), sent: fmt.number(b.sent, 0) })));
  const normalised = m.unit !== 'count';
  const rows = ch.hours.filter((x) => x.sent || x.reads || x.replies).map((x) => Object.assign({ channel: name }, x));
  return [
    tools,
    panel('sendtime', t('Best time to send on {channel}', { channel: name }), {
      src, wide: true,
      note: t('Local hour of the week in {zone}; the outlined cells are the three best hours by {metric}.', { zone: ctx.tz, metric: metricName }) +
        (normalised ? ' ' + t('Rates and times are of the campaign messages sent in each hour, whenever they were read or answered; an hour needs {n} messages sent to be among the best. Empty cells sent nothing.', { n: fmt.number(res.min_sent, 0) }) : ''),
    },
    bestList.length ? h('ol', { class: 'best' }, bestList) : message(t('No hour sent {n} messages or more in this period.', { n: fmt.number(res.min_sent, 0) })),
    h('div', { class: 'scroll' }, map),
    h('details', null, h('summary', null, t('As a table')),
      table({
        id: 'sendtime', rows, rowKey: (r) => r.day + ':' + r.hour,
        columns: [
          { key: 'day', label: t('Day'), text: (v) => dayNames[v] },
          { key: 'hour', label: t('Hour'), num: true, text: (v) => clock(v) },
          { key: 'sent', label: t('Sent'), num: true, unit: 'count' },
          { key: 'read_rate', label: t('Read rate'), num: true, unit: 'percent' },
          { key: 'reply_rate', label: t('Reply rate'), num: true, unit: 'percent' },
          { key: 'median_time_to_read', label: t('Median time to read'), num: true, unit: 'seconds' },
          { key: 'reads', label: t('Reads'), num: true, unit: 'count' },
          { key: 'replies', label: t('Customer messages'), num: true, unit: 'count' },
        ],
      }))),
  ];
}
