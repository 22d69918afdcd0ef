// Clicks per button and link, and the click-to-WhatsApp ads with what
// they brought: chats, free-entry-point messages, orders and revenue.

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { h, panel, table } from '../dom.js';
import { t } from '../i18n.js';

const count = (key, label, title) => ({ key, label, num: true, title: title || '', text: (v) => fmt.number(v, 0) });

export default async function ads(ctx) {
  const clicksSrc = api.url('/v1/clicks', ctx.q());
  const adsSrc = api.url('/v1/ads', ctx.q());
  const [clicks, report] = await Promise.all([api.get(clicksSrc), api.get(adsSrc)]);
  const within = fmt.span(report.window);

  const clickKey = (r) => [r.kind, r.label || '', r.payload || '', r.channel || '', r.campaign || '', r.template || ''].join('|');
  const clickCols = [
    {
      key: 'label', label: t('Button or link'), cls: 'name',
      text: (v, r) => [v || t('(no label)'), ' ', h('small', { class: 'sub' }, r.kind === 'link' ? t('link') : r.payload ? t('button · {payload}', { payload: r.payload }) : t('button'))],
    },
    { key: 'campaign', label: t('Campaign'), text: (v) => v || '—' },
    { key: 'template', label: t('Template'), text: (v) => v || '—' },
    { key: 'channel', label: t('Channel'), text: (v) => v || '—' },
    count('total', t('Clicks'), t('every click')),
    count('unique', t('Unique'), t('distinct customers who clicked')),
  ];

  // An ad's revenue in the currencies shown, the first of them as the
  // cell's value.
  const revenue = (a) => (a.revenue || []).filter((r) => ctx.currencyOK(r.currency));
  const adCols = [
    { key: 'headline', label: t('Ad'), cls: 'name', text: (v, a) => [v || t('(no headline)'), ' ', h('small', { class: 'sub' }, [a.source_type, a.ad_id].filter(Boolean).join(' · '))] },
    count('leads', t('Chats'), t('chats opened from the ad (leads)')),
    count('conversations', t('Conversations'), t('conversations the ad\'s chat started')),
    count('free_entry_point_messages', t('Free entry'), t('messages Meta priced as free entry point')),
    count('orders', t('Orders'), t('orders within {window} of the customer\'s latest chat from the ad', { window: within })),
    {
      key: 'revenue', label: t('Revenue'), num: true, get: (a) => (revenue(a).length ? revenue(a)[0].revenue : null),
      currency: (a) => (revenue(a).length ? revenue(a)[0].currency : undefined),
      text: (v, a) => (revenue(a).length ? revenue(a).map((r) => fmt.value(r.revenue, 'money', r.currency)).join(' · ') : '—'),
    },
  ];

  return [
    panel('ads', t('Click-to-WhatsApp ads'), {
      src: adsSrc, wide: true,
      note: t('Each order is credited to the ad of the customer\'s latest chat from a click-to-WhatsApp ad within {window} before it.', { window: within }),
    },
    table({ id: 'ads', columns: adCols, rows: report.ads || [], rowKey: (a) => a.ad_id || '', empty: t('No chats from ads in this period.') })),
    panel('clicks', t('Clicks per button and link'), { src: clicksSrc, wide: true, note: t('Quick replies, buttons and links tapped in the period.') },
      table({ id: 'clicks', columns: clickCols, rows: clicks.rows || [], rowKey: clickKey, limit: 50, empty: t('No clicks in this period.') })),
  ];
}
