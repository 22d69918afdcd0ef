// Alert rules with their state, and the latest firings.

import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { h, panel, table, message, bandText } from '../dom.js';
import { t, locale } from '../i18n.js';

// conditions words each condition a rule can have.
const conditions = () => ({
  below: t('below'), above: t('above'), worse_than_band: t('worse than its band'), better_than_band: t('better than its band'),
  below_band: t('worse than its band'), above_band: t('better than its band'), // former names
  change_below: t('change below'), change_above: t('change above'),
});

// conditionText words a rule's condition with the value it compares with,
// when it has one.
function conditionText(condition, value) {
  switch (condition) {
    case 'below': return t('below {value}', { value });
    case 'above': return t('above {value}', { value });
    case 'change_below': return t('change below {value}', { value });
    case 'change_above': return t('change above {value}', { value });
    default: return conditions()[condition] || condition;
  }
}

// Meta's states that call for attention: a number flagged, a template's
// quality yellow or red, a template paused, disabled or rejected.
const BAD = new Set(['FLAGGED', 'YELLOW', 'RED', 'PAUSED', 'DISABLED', 'REJECTED']);
const stateClass = (v) => (v ? (BAD.has(v) ? 'state firing' : 'state ok') : '');
const words = (v) => (v ? v.replaceAll('_', ' ').toLowerCase() : '—');
const quality = (v) => ({ FLAGGED: t('flagged: low'), UNFLAGGED: t('not flagged') })[v] || '—';
// tier reads a messaging limit such as TIER_2K as "2K a day".
const tier = (v) => (!v ? '—' : v === 'TIER_UNLIMITED' ? t('unlimited') : v === 'TIER_NOT_SET' ? t('not set') : t('{n} a day', { n: v.replace('TIER_', '') }));

// health is the WhatsApp account-health panel: each business number's
// quality and messaging limit, each template's status, quality and
// category, and the period's latest changes.
function health(ctx, src, rep) {
  const when = (v) => (v ? fmt.dateTime(v, ctx.tz) : '—');
  const numbers = table({
    id: 'health-numbers', rows: rep.phone_numbers || [], rowKey: (r) => r.display_phone_number, empty: t('No quality webhook of a business number yet.'),
    columns: [
      { key: 'display_phone_number', label: t('Number'), cls: 'name' },
      { key: 'quality', label: t('Quality'), text: quality, cls: (r) => stateClass(r.quality) },
      { key: 'messaging_limit', label: t('Messaging limit'), text: tier },
      { key: 'updated', label: t('Updated'), text: when },
    ],
  });
  const templates = table({
    id: 'health-templates', rows: rep.templates || [], rowKey: (r) => r.message_template_id || r.message_template_name, empty: t('No template webhook yet.'),
    columns: [
      { key: 'message_template_name', label: t('Template'), cls: 'name' },
      { key: 'message_template_language', label: t('Language') },
      { key: 'status', label: t('Status'), text: words, cls: (r) => stateClass(r.status) },
      { key: 'quality_score', label: t('Quality'), text: words, cls: (r) => stateClass(r.quality_score) },
      { key: 'category', label: t('Category'), text: (v, r) => words(v) + (r.pending_category ? ' → ' + words(r.pending_category) : '') },
      { key: 'updated', label: t('Updated'), text: when },
    ],
  });
  const changes = table({
    id: 'health-changes', rows: rep.changes || [], limit: 8, rowKey: (r) => r.at + '|' + r.field + '|' + r.subject, empty: t('No change in this period.'),
    columns: [
      { key: 'at', label: t('When'), text: when },
      { key: 'subject', label: t('Number or template'), cls: 'name' },
      { key: 'event', label: t('What'), get: (r) => [r.event, r.from && r.to ? r.from + ' → ' + r.to : r.to].filter(Boolean).join(' ') || null, text: words },
      { key: 'signal', label: t('Alert'), text: words, cls: (r) => (r.signal ? 'state firing' : '') },
    ],
  });
  return panel('health', t('WhatsApp account health'), { src, wide: true, note: t('As Meta’s webhooks left each number and template at the period’s end; switch on the built-in rules quality-drop, template-setback, messaging-limit-changed and frequency-capped with PUT /v1/alerts/{id}.') },
    h('div', { class: 'health' }, numbers, templates), h('h3', { class: 'group-title' }, t('Latest changes')), changes);
}

// The conditions a rule can be made with (the former names are read only).
const NEW_CONDITIONS = ['above', 'below', 'worse_than_band', 'better_than_band', 'change_above', 'change_below'];
// windows are the windows a rule can be made with, and their texts.
const windows = () => [['1h', t('1 hour')], ['1d', t('1 day')], ['7d', t('7 days')], ['30d', t('30 days')]];
// needsValue tells whether a condition compares with the rule's value.
const needsValue = (c) => c === 'above' || c === 'below' || (c || '').startsWith('change');
// The dashboard view where a KPI of each section is shown.
const SECTION_VIEW = { messages: 'campaigns', revenue: 'campaigns', service: 'service', funnel: 'funnel' };
// The rule filters the dashboard's filters can show.
const LINKED = ['channel', 'campaign', 'template', 'agent', 'class'];

// ruleLink opens the view of a rule's KPI with the rule's filters over
// its window.
function ruleLink(ctx, rule) {
  const changes = { view: SECTION_VIEW[ctx.info(rule.kpi).section] || 'overview', edit: '', from: '', to: '' };
  for (const f of LINKED) changes[f] = (rule.filters || {})[f] || '';
  const days = Math.ceil((fmt.hours(rule.window) || 24) / 24);
  changes.days = [7, 30, 90].includes(days) ? (days === 30 ? '' : days) : days <= 7 ? 7 : days <= 30 ? '' : 90;
  return ctx.href(changes);
}

// filterName words a rule filter's name (the API's name when it is none of
// these).
const filterName = (k) => ({ channel: t('channel'), campaign: t('campaign'), template: t('template'), agent: t('agent'), class: t('class') })[k] || k;

// behind names what a rule watches: its filters, or the whole workspace.
const behind = (rule) => Object.entries((rule && rule.filters) || {}).map(([k, v]) => filterName(k) + ' ' + v).join(' · ') || t('whole workspace');

// ruleForm makes or edits a rule: PUT /v1/alerts/{id}.
function ruleForm(ctx, rule) {
  const kpis = Object.values(ctx.catalogue).sort((a, b) => a.name.localeCompare(b.name, locale()));
  const r = rule || { condition: 'worse_than_band', window: '1d' };
  const status = h('p', { class: 'form-status', role: 'status' });
  const input = (name, label, attrs) => h('label', { class: 'field' }, h('span', null, label), h('input', Object.assign({ name, dataset: { rule: name } }, attrs)));
  const select = (name, label, options, current) => h('label', { class: 'field' }, h('span', null, label),
    h('select', { name, dataset: { rule: name } }, options.map(([v, text]) => h('option', { value: v, selected: v === current }, text))));
  const conditionWords = conditions();
  const windowOptions = windows();
  const form = h('form', { class: 'rule-form', dataset: { form: 'rule' } },
    input('id', t('Id'), { value: r.id || '', required: true, pattern: '[a-z0-9][a-z0-9-]*', readOnly: !!rule, title: t('Lower-case letters, digits and dashes') }),
    input('name', t('Name'), { value: r.name || '' }),
    select('kpi', t('KPI'), kpis.map((k) => [k.id, k.name]), r.kpi || 'opt_out_rate'),
    select('condition', t('Condition'), NEW_CONDITIONS.map((c) => [c, conditionWords[c]]), r.condition),
    input('value', t('Value'), { type: 'number', step: 'any', value: needsValue(r.condition) ? String(r.value || 0) : '' }),
    select('window', t('Window'), windowOptions, windowOptions.some(([v]) => v === r.window) ? r.window : '1d'),
    input('channel', t('Channel'), { value: (r.filters || {}).channel || '', placeholder: t('any') }),
    input('campaign', t('Campaign'), { value: (r.filters || {}).campaign || '', placeholder: t('any') }),
    input('webhook', t('Webhook'), { type: 'url', value: r.webhook || '', placeholder: t('https://… (optional)') }),
    h('label', { class: 'field check' }, h('input', { type: 'checkbox', name: 'muted', dataset: { rule: 'muted' }, checked: !!r.muted }), h('span', null, t('Muted'))),
    h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'primary' }, rule ? t('Save rule') : t('Add rule')),
      rule ? h('a', { href: ctx.href({ edit: '' }) }, t('Cancel')) : null),
    status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = (name) => form.elements[name].value.trim();
    const body = { name: v('name') || undefined, kpi: v('kpi'), condition: v('condition'), window: v('window'), muted: form.elements.muted.checked || undefined };
    if (needsValue(body.condition)) body.value = Number(v('value') || 0);
    const filters = {};
    for (const f of ['channel', 'campaign']) if (v(f)) filters[f] = v(f);
    if (Object.keys(filters).length) body.filters = filters;
    if (v('webhook')) body.webhook = v('webhook');
    status.textContent = t('Saving…');
    try {
      await api.send('PUT', '/v1/alerts/' + encodeURIComponent(v('id')), body);
      ctx.navigate({ edit: '' });
    } catch (err) {
      status.textContent = (err.field ? err.field + ': ' : '') + err.message;
      status.className = 'form-status error';
    }
  });
  return form;
}

export default async function alerts(ctx) {
  const rulesSrc = '/v1/alerts';
  const firingsSrc = '/v1/alerts/firings';
  const healthSrc = api.url('/v1/whatsapp/health', ctx.q());
  const [rules, firings, healthRep] = await Promise.all([api.get(rulesSrc), api.get(firingsSrc), api.get(healthSrc)]);
  const unit = (id) => ctx.info(id).unit;
  const ruleCols = [
    {
      key: 'state', label: t('State'), get: (r) => (r.firing ? 'firing' : 'ok'),
      text: (v, r) => {
        const state = v === 'firing' ? t('● Firing') : t('○ OK');
        return r.muted ? t('{state} · muted', { state }) : state;
      },
      cls: (r) => (r.firing ? 'state firing' : 'state ok'),
    },
    { key: 'name', label: t('Rule'), get: (r) => r.name || r.id, cls: 'name' },
    { key: 'kpi', label: t('KPI'), text: (v) => ctx.info(v).name || v },
    {
      key: 'condition', label: t('Condition'),
      text: (v, r) => conditionText(v, needsValue(v) ? fmt.value(r.value || 0, v.startsWith('change') ? '' : unit(r.kpi)) : ''),
    },
    { key: 'window', label: t('Window'), text: (v) => fmt.span(v) },
    { key: 'value', label: t('Value now'), num: true, get: (r) => (r.firing ? r.firing.value : null), text: (v, r) => fmt.value(v, unit(r.kpi)) },
    { key: 'since', label: t('Since'), get: (r) => (r.firing ? r.firing.started : null), text: (v) => (v ? fmt.dateTime(v, ctx.tz) : '—') },
  ];
  const list = rules.alerts || [];
  const byID = Object.fromEntries(list.map((r) => [r.id, r]));
  const failed = h('p', { class: 'form-status error', role: 'alert' });
  const change = async (method, rule, body) => {
    try {
      await api.send(method, '/v1/alerts/' + encodeURIComponent(rule.id), body);
      ctx.navigate({ edit: '' });
    } catch (err) {
      failed.textContent = (rule.name || rule.id) + ': ' + err.message;
    }
  };
  // Delete asks to be clicked twice.
  const remove = (r) => (e) => {
    if (e.target.dataset.armed) change('DELETE', r);
    else Object.assign(e.target, { textContent: t('Click again to delete') }).dataset.armed = '1';
  };
  // A rule's own fields, as PUT takes them back.
  const own = (r) => ({ name: r.name, kpi: r.kpi, condition: r.condition, value: r.value, window: r.window, filters: r.filters, webhook: r.webhook, muted: r.muted });
  ruleCols.splice(2, 0, { key: 'behind', label: t('Watches'), get: behind, cls: 'reason' });
  ruleCols.push({
    key: 'actions', label: '', get: (r) => (r.source === 'config' ? t('configuration file') : ''),
    text: (v) => v,
    link: (r, text) => (r.source === 'config' ? h('span', { class: 'note' }, text) : h('span', { class: 'row-actions' },
      h('a', { href: ctx.href({ edit: r.id }), dataset: { edit: r.id } }, t('Edit')),
      h('button', { type: 'button', dataset: { mute: r.id }, onclick: () => change('PUT', r, Object.assign(own(r), { muted: !r.muted })) }, r.muted ? t('Unmute') : t('Mute')),
      h('button', { type: 'button', dataset: { delete: r.id }, onclick: remove(r) }, t('Delete')))),
  });
  const firingCols = [
    {
      key: 'rule', label: t('Rule'), cls: 'name', get: (f) => (byID[f.rule] ? byID[f.rule].name || f.rule : f.rule),
      link: (f, text) => (byID[f.rule] ? h('a', { href: ruleLink(ctx, byID[f.rule]), dataset: { firing: f.rule } }, text) : text),
    },
    { key: 'kpi', label: t('KPI'), text: (v) => ctx.info(v).name || v },
    { key: 'behind', label: t('Watches'), get: (f) => behind(byID[f.rule]), cls: 'reason' },
    { key: 'band', label: t('Band'), get: (f) => bandText(ctx.info(f.kpi).band, unit(f.kpi), ctx.info(f.kpi).direction) || null, text: (v) => v || '—' },
    { key: 'value', label: t('Value'), num: true, text: (v, r) => fmt.value(v, unit(r.kpi)) },
    { key: 'started', label: t('Started'), text: (v) => fmt.dateTime(v, ctx.tz) },
    { key: 'resolved', label: t('Resolved'), text: (v) => (v ? fmt.dateTime(v, ctx.tz) : t('still firing')) },
  ];
  const firingNow = list.filter((r) => r.firing).length;
  const editing = ctx.params.edit ? byID[ctx.params.edit] : null;
  return [
    health(ctx, healthSrc, healthRep),
    panel('rules', t('Rules ({n} firing)', { n: fmt.number(firingNow, 0) }), { src: rulesSrc, wide: true, note: t('Each rule watches one KPI over a rolling window. A muted rule keeps firing here and posts nothing.') },
      failed, table({ id: 'rules', columns: ruleCols, rows: list, rowKey: (r) => r.id, empty: t('No alert rules yet: add one below.') })),
    panel('rule-form', editing ? t('Edit rule {name}', { name: editing.name || editing.id }) : t('Add a rule'), { wide: true },
      ctx.params.edit && !editing ? message(t('No rule {id}.', { id: ctx.params.edit }), 'error') : ruleForm(ctx, editing)),
    panel('firings', t('Latest firings'), { src: firingsSrc, wide: true },
      table({ id: 'firings', columns: firingCols, rows: firings.firings || [], rowKey: (r) => r.rule + '@' + r.started, empty: t('Nothing has fired.') })),
  ];
}
