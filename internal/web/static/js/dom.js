// Small DOM helpers: elements, tables with CSV links, KPI cards.

import * as api from './api.js';
import * as fmt from './fmt.js';
import { bandSource, t } from './i18n.js';

// h makes an HTML element: h('p', {class: 'x', dataset: {kpi: 'ctr'}}, 'text', child).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const svgNS = 'http://www.w3.org/2000/svg';

// s makes an SVG element.
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(svgNS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') {
      for (const [dk, dv] of Object.entries(v)) if (dv !== undefined && dv !== null) el.dataset[dk] = dv;
    } else if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'style' && typeof v === 'object') {
      Object.assign(el.style, v);
    } else {
      el.setAttribute(k, v === true ? '' : v);
    }
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

// raw is the data-value of a figure: the number as the API gave it, or ''
// for none.
export function raw(v) {
  return v === null || v === undefined ? '' : String(v);
}

// chooser is a select of a view's option kept in the URL (name=value);
// the fallback value leaves it out.
export function chooser(ctx, name, label, options, current, fallback) {
  return h('label', { class: 'field inline' }, h('span', null, label),
    h('select', { dataset: { [name]: '' }, onchange: (e) => ctx.navigate({ [name]: e.target.value === fallback ? '' : e.target.value }) },
      options.map(([v, text]) => h('option', { value: v, selected: v === current }, text))));
}

// csvLink is the download link of a table: its API URL with format=csv.
export function csvLink(src, name) {
  // A download carries no header: the link names its workspace.
  const ws = api.currentWorkspace();
  const href = src + (src.includes('?') ? '&' : '?') + 'format=csv' + (ws ? '&workspace=' + encodeURIComponent(ws) : '');
  return h('a', { class: 'csv', href, download: (name || 'omnikpi') + '.csv', dataset: { csv: '' } }, 'CSV');
}

// panel is a titled section. src, when given, is the API URL its figures
// come from (kept in data-src) and the source of its CSV link.
export function panel(id, title, opts, ...body) {
  const { src, csvSrc, csv = !!src, note, wide, actions } = opts || {};
  return h('section', { class: 'panel' + (wide ? ' wide' : ''), dataset: { panel: id, src } },
    h('header', null, h('h2', null, title), actions, csv && src ? csvLink(csvSrc || src, id) : null),
    note ? h('p', { class: 'note' }, note) : null,
    body);
}

// reasonText is why a figure has no value, as the API says it (kpi's
// Reason constants), in the page's language.
export function reasonText(reason) {
  const known = {
    'not reported by channel': t('not reported by channel'),
    'no data: the denominator is zero': t('no data: the denominator is zero'),
    'no data in the period and filters': t('no data in the period and filters'),
    // Why a conversation is open (GET /v1/conversations/unclosed).
    "the customer's last message is unanswered": t("the customer's last message is unanswered"),
    "not resolved; the customer's last message is unanswered": t("not resolved; the customer's last message is unanswered"),
    'not resolved': t('not resolved'),
    "resolved, but the customer's last message is unanswered": t("resolved, but the customer's last message is unanswered"),
  };
  return known[reason] || reason;
}

// actorText names who wrote a message, as the API says it.
export function actorText(actor) {
  return { customer: t('customer'), agent: t('agent'), bot: t('bot') }[actor] || actor;
}

// compose fills a translated text's {placeholders} with nodes, such as a
// code sample inside a sentence: a list of strings and nodes.
export function compose(text, nodes) {
  return text.split(/\{(\w+)\}/).map((part, i) => (i % 2 ? (part in nodes ? nodes[part] : '{' + part + '}') : part)).filter((x) => x !== '' && x !== null);
}

// message shows a notice in place of a panel's figures.
export function message(text, kind) {
  return h('p', { class: 'message ' + (kind || '') }, text);
}

// Ratings are in the direction the KPI prefers: "worse" is worse than the
// band, for an opt-out rate a figure higher than it.
const ratingWords = () => ({
  worse: t('Worse than benchmark'),
  within: t('Within benchmark'),
  better: t('Better than benchmark'),
  best: t('Best in class'),
});

// bandText describes a benchmark band in the KPI's unit: 85–90 %, best ≥ 95 %.
export function bandText(band, unit, direction) {
  if (!band) return '';
  const n = (v) => fmt.number(v, 2);
  const wrap = (x) => {
    switch (unit) {
      case 'percent': return x + ' %';
      case 'seconds': return t('{n} s', { n: x });
      case 'ratio': return x + 'x';
      case 'money': return band.currency ? x + ' ' + band.currency : x;
      default: return x;
    }
  };
  let text = '';
  if (band.low !== undefined && band.high !== undefined) text = wrap(n(band.low) + '–' + n(band.high));
  else if (band.low !== undefined) text = '≥ ' + wrap(n(band.low));
  else if (band.high !== undefined) text = '≤ ' + wrap(n(band.high));
  if (band.best !== undefined) {
    const best = (direction === 'lower' ? '≤ ' : '≥ ') + wrap(n(band.best));
    text = text ? t('{band}, best {best}', { band: text, best }) : t('best {best}', { best });
  }
  return text;
}

// rating shows a benchmark rating as a coloured mark and words.
export function rating(r, band, unit, direction) {
  if (!r) return h('span', { class: 'rating none' }, h('i', { class: 'dot', 'aria-hidden': 'true' }), t('No benchmark'));
  const b = bandText(band, unit, direction);
  return h('span', { class: 'rating ' + r, dataset: { rating: r }, title: band && band.source ? bandSource(band.source) : '' },
    h('i', { class: 'dot', 'aria-hidden': 'true' }), h('span', null, ratingWords()[r] || r, b ? h('small', null, ' · ' + b) : null));
}

// changeMark shows a change against an earlier period, green when it goes
// the KPI's preferred way.
export function changeMark(id, k, direction, label) {
  if (k.change === undefined) return null;
  const v = k.change;
  let mood = 'flat';
  if (v && direction) mood = (v > 0) === (direction === 'higher') ? 'good' : 'bad';
  const arrow = v > 0 ? '▲' : v < 0 ? '▼' : '■';
  return h('p', { class: 'change ' + mood },
    h('span', { dataset: { kpi: id + '.change', value: raw(v) } }, arrow + ' ' + fmt.change(v, k.change_unit)),
    ' ', label, ' ',
    h('span', { class: 'prev', dataset: { kpi: id + '.previous', value: raw(k.previous) } }, '(' + fmt.value(k.previous, k.unit, k.currency) + ')'));
}

// table renders rows under columns and sorts them by a column when its
// header is clicked. A column is {key, label, get(row), unit, currency(row),
// kpi, text(row), cls}; rowKey(row) gives each row's data-row.
export function table({ columns, rows, rowKey, id, limit, empty, onRow }) {
  let sortKey = null, dir = 1;
  const tbody = h('tbody');
  const heads = columns.map((c) => {
    const btn = h('button', { type: 'button', class: 'sort' }, c.label);
    const th = h('th', { scope: 'col', class: c.num ? 'num' : '', title: c.title || '' }, btn);
    btn.addEventListener('click', () => {
      dir = sortKey === c.key ? -dir : (c.num ? -1 : 1);
      sortKey = c.key;
      for (const o of heads) o.removeAttribute('aria-sort');
      th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
      fill();
    });
    return th;
  });
  const value = (c, r) => (c.get ? c.get(r) : r[c.key]);
  function fill() {
    let list = rows.slice();
    if (sortKey) {
      const c = columns.find((x) => x.key === sortKey);
      list.sort((a, b) => {
        const va = value(c, a), vb = value(c, b);
        if (va === vb) return 0;
        if (va === null || va === undefined) return 1;
        if (vb === null || vb === undefined) return -1;
        return (typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb))) * dir;
      });
    }
    const shown = limit ? list.slice(0, limit) : list;
    tbody.replaceChildren(...shown.map((r) => {
      const tr = h('tr', { dataset: { row: rowKey ? rowKey(r) : undefined } }, columns.map((c) => {
        const v = value(c, r);
        const cur = c.currency ? c.currency(r) : undefined;
        const text = c.text ? c.text(v, r) : c.unit ? fmt.value(v, c.unit, cur) : v === null || v === undefined ? '—' : String(v);
        const cls = typeof c.cls === 'function' ? c.cls(r) : c.cls || '';
        return h('td', { class: (c.num ? 'num ' : '') + cls, dataset: { kpi: c.kpi || c.key, value: raw(v), currency: cur } },
          c.link ? c.link(r, text) : text);
      }));
      if (onRow) onRow(tr, r);
      return tr;
    }));
  }
  fill();
  const out = h('div', { class: 'table-wrap' },
    h('table', { dataset: { table: id } }, h('thead', null, h('tr', null, heads)), tbody));
  if (!rows.length) out.append(message(empty || t('Nothing in this period.')));
  if (limit && rows.length > limit) out.append(h('p', { class: 'note' }, t('Showing {n} of {total}; the CSV has them all.', { n: fmt.number(limit, 0), total: fmt.number(rows.length, 0) })));
  return out;
}
