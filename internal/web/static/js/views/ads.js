// Clicks per button and link, and the click-to-WhatsApp ads with what
// they brought: chats, free-entry-point messages, orders and revenue.

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { h, panel, table } from '../dom.js';

const count = (key, label, title) => ({ key, label, num: true, title: title || '', text: (v) => fmt.number(v, 0) });

export default async function ads(ctx) {
  const clicksSrc = api.url('/v1/clicks', ctx.q());
  const adsSrc = api.url('/v1/ads', ctx.q());
  const [clicks, report] = await Promise.all([api.get(clicksSrc), api.get(adsSrc)]);

  const clickKey = (r) => [r.kind, r.label || '', r.payload || '', r.channel || '', r.campaign || '', r.template || ''].join('|');
  const clickCols = [
    { key: 'label', label: 'Button or link', cls: 'name', text: (v, r) => [v || '(no label)', ' ', h('small', { class: 'sub' }, r.kind === 'link' ? 'link' : r.payload ? 'button · ' + r.payload : 'button')] },
    { key: 'campaign', label: 'Campaign', text: (v) => v || '—' },
    { key: 'template', label: 'Template', text: (v) => v || '—' },
    { key: 'channel', label: 'Channel', text: (v) => v || '—' },
    count('total', 'Clicks', 'every click'),
    count('unique', 'Unique', 'distinct customers who clicked'),
  ];

  // An ad's revenue in the currencies shown, the first of them as the
  // cell's value.
  const revenue = (a) => (a.revenue || []).filter((r) => ctx.currencyOK(r.currency));
  const adCols = [
    { key: 'headline', label: 'Ad', cls: 'name', text: (v, a) => [v || '(no headline)', ' ', h('small', { class: 'sub' }, [a.source_type, a.ad_id].filter(Boolean).join(' · '))] },
    count('leads', 'Chats', 'chats opened from the ad (leads)'),
    count('conversations', 'Conversations', 'conversations the ad\'s chat started'),
    count('free_entry_point_messages', 'Free entry', 'messages Meta priced as free entry point'),
    count('orders', 'Orders', `orders within ${report.window} of the customer's latest chat from the ad`),
    {
      key: 'revenue', label: 'Revenue', num: true, get: (a) => (revenue(a).length ? revenue(a)[0].revenue : null),
      currency: (a) => (revenue(a).length ? revenue(a)[0].currency : undefined),
      text: (v, a) => (revenue(a).length ? revenue(a).map((r) => fmt.value(r.revenue, 'money', r.currency)).join(' · ') : '—'),
    },
  ];

  return [
    panel('ads', 'Click-to-WhatsApp ads', {
      src: adsSrc, wide: true,
      note: `Each order is credited to the ad of the customer's latest chat from a click-to-WhatsApp ad within ${report.window} before it.`,
    },
    table({ id: 'ads', columns: adCols, rows: report.ads || [], rowKey: (a) => a.ad_id || '', empty: 'No chats from ads in this period.' })),
    panel('clicks', 'Clicks per button and link', { src: clicksSrc, wide: true, note: 'Quick replies, buttons and links tapped in the period.' },
      table({ id: 'clicks', columns: clickCols, rows: clicks.rows || [], rowKey: clickKey, limit: 50, empty: 'No clicks in this period.' })),
  ];
}
