// Overview: a card per headline KPI with its value, benchmark rating,
// change against the previous period and a daily sparkline.

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { changeMark, h, message, panel, rating, raw, reasonText } from '../dom.js';
import { sparkline } from '../chart.js';
import { t } from '../i18n.js';

// The sections' titles are in the page's language, so they are made when
// the view is drawn.
const SECTIONS = () => [
  ['messages', t('Messages')], ['revenue', t('Revenue')], ['service', t('Service')], ['funnel', t('Funnel')],
];

// card shows one KPI entry of a report (k) with its catalogue info.
export function card(ctx, k, { series, previousLabel } = {}) {
  const info = ctx.info(k.id);
  const id = k.id;
  const text = fmt.value(k.value, k.unit, k.currency);
  // --len lets the figure shrink to fit its card: Rp 173,999,200 on a phone.
  const value = h('p', { class: 'value', dataset: { kpi: id, value: raw(k.value), currency: k.currency }, title: k.reason ? reasonText(k.reason) : '', style: `--len: ${text.length}` },
    text);
  return h('article', { class: 'card ' + (k.rating ? 'rated-' + k.rating : 'unrated'), dataset: { card: id, currency: k.currency } },
    h('h3', { title: info.formula || '' }, info.name || id, k.currency ? h('small', null, ' ' + k.currency) : null, k.label ? h('small', null, ' ' + k.label) : null,
      k.unit === 'seconds' && ctx.params.hours === 'business' && ctx.businessHours ? h('small', { class: 'in-hours' }, ' ' + t('in business hours')) : null),
    value,
    k.value === null && k.reason ? h('p', { class: 'reason' }, reasonText(k.reason)) : null,
    rating(k.rating, k.band, k.unit, info.direction),
    changeMark(id, k, info.direction, previousLabel || t('vs previous period')),
    series ? sparkline(series, { label: t('{kpi}, by day', { kpi: info.name || id }) }) : null);
}

export default async function overview(ctx) {
  // The catalogue names the headline KPIs; the server keeps their answers
  // for the default period warm.
  const ids = ctx.headline.filter((id) => ctx.catalogue[id]);
  const src = api.url('/v1/kpis', ctx.q({ kpi: ids.join(','), compare: 'previous' }));
  const daily = api.url('/v1/kpis', ctx.q({ kpi: ids.join(','), bucket: 'day' }));
  const [now, days] = await Promise.all([api.get(src), api.get(daily).catch(() => null)]);

  // The daily series of each KPI and currency, one value per bucket.
  const series = new Map();
  if (days) {
    const rows = days.rows.slice().sort((a, b) => String(a.group.bucket).localeCompare(String(b.group.bucket)));
    rows.forEach((r, i) => {
      for (const k of r.kpis) {
        if (k.label) continue;
        const key = k.id + '|' + (k.currency || '');
        if (!series.has(key)) series.set(key, new Array(rows.length).fill(null));
        series.get(key)[i] = k.value;
      }
    });
  }
  const entries = ((now.rows[0] || {}).kpis || []).filter((k) => !k.label && ctx.currencyOK(k.currency));
  const label = t('vs previous {n} days', { n: fmt.number(ctx.period.days, 0) });
  const groups = SECTIONS().map(([section, title]) => {
    const cards = entries.filter((k) => (ctx.info(k.id).section || 'messages') === section)
      .map((k) => card(ctx, k, { series: series.get(k.id + '|' + (k.currency || '')), previousLabel: label }));
    return cards.length ? h('div', { class: 'card-group', dataset: { section } }, h('h3', { class: 'group-title' }, title), h('div', { class: 'cards' }, cards)) : null;
  });
  return [panel('overview', t('Headline KPIs'), { src, note: t('Ratings compare each figure with its benchmark band; the line is the figure by day.') },
    entries.length ? groups : message(t('No figures for this period.')))];
}
