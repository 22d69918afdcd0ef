// The dashboard: sign-in, navigation between views, and the filters, which
// live in the URL's query string so that a view can be shared.

import * as api from './api.js';
import * as fmt from './fmt.js';
import { h, message } from './dom.js';
import overview from './views/overview.js';
import { campaigns, recipients } from './views/campaigns.js';
import abtest from './views/abtest.js';
import service from './views/service.js';
import funnel from './views/funnel.js';
import ads from './views/ads.js';
import cohorts from './views/analysis.js';
import sendtime from './views/sendtime.js';
import alerts from './views/alerts.js';

const VIEWS = [
  { id: 'overview', title: 'Overview', render: overview },
  { id: 'campaigns', title: 'Campaigns', render: campaigns },
  { id: 'recipients', title: 'Recipients', render: recipients, parent: 'campaigns' },
  { id: 'abtest', title: 'A/B tests', render: abtest },
  { id: 'service', title: 'Conversations', render: service },
  { id: 'funnel', title: 'Funnel & attribution', render: funnel },
  { id: 'ads', title: 'Clicks & ads', render: ads },
  { id: 'cohorts', title: 'Cohorts', render: cohorts },
  { id: 'sendtime', title: 'Send time', render: sendtime },
  { id: 'alerts', title: 'Alerts', render: alerts },
];

// Filters every view shares; each goes to the API, so CSV downloads carry
// them too.
const FILTERS = ['channel', 'campaign', 'template', 'agent', 'class', 'segment', 'currency'];
const API_FILTERS = ['channel', 'campaign', 'template', 'agent', 'class', 'segment', 'currency', 'hours'];
// The classes of outbound messages (README, How it counts): the
// engagement rates count campaign messages unless one is chosen here.
const CLASSES = [['campaign', 'Campaigns'], ['conversation', 'Replies']];
const PRESETS = [7, 30, 90];

const SEGMENTS = {
  rfm: ['champions', 'loyal', 'new', 'promising', 'at_risk', 'hibernating'],
  rpc: ['high', 'mid', 'low'],
  response: ['fast', 'within', 'slow'],
  satisfaction: ['promoter', 'passive', 'detractor', 'satisfied', 'unsatisfied'],
};

const $ = (sel) => document.querySelector(sel);
const state = { session: null, catalogue: null, workspace: null, options: null, renders: 0 };

function params() {
  return Object.fromEntries(new URLSearchParams(location.search));
}

// period resolves the date range: from and to (exclusive) as dates in the
// workspace's time zone, from a preset of days or the URL's from and to.
function period(p, tz) {
  const isDate = (d) => /^\d{4}-\d{2}-\d{2}$/.test(d || '');
  if (isDate(p.from) && isDate(p.to) && p.from < p.to) {
    return { from: p.from, to: p.to, days: fmt.daysBetween(p.from, p.to), preset: null };
  }
  let days = parseInt(p.days, 10);
  if (!(days > 0 && days <= 3660)) days = 30;
  const to = fmt.addDays(fmt.today(tz), 1);
  return { from: fmt.addDays(to, -days), to, days, preset: days };
}

// href is the dashboard URL with changes to its query; an empty value
// removes a parameter.
function href(changes) {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === null || v === '') q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  return s ? '?' + s : location.pathname;
}

function navigate(changes) {
  history.pushState(null, '', href(changes));
  render();
}

function context(p) {
  const tz = state.session.time_zone;
  const per = period(p, tz);
  return {
    params: p,
    tz,
    period: per,
    catalogue: state.catalogue,
    workspace: state.workspace,
    // businessHours tells whether the workspace has open hours to count
    // times in.
    businessHours: !!(state.workspace && state.workspace.business_hours),
    info: (id) => state.catalogue[id] || { id, name: id, unit: '' },
    // q is the API query for the page's filters and extra parameters.
    q(extra) {
      const out = { from: per.from, to: per.to };
      for (const f of API_FILTERS) if (p[f]) out[f] = p[f];
      if (out.hours === 'business' && !(state.workspace && state.workspace.business_hours)) delete out.hours;
      return Object.assign(out, extra || {});
    },
    // currencyOK tells whether a money figure in cur is shown.
    currencyOK: (cur) => !p.currency || !cur || cur === p.currency,
    href,
    navigate,
    periodText: `${fmt.date(per.from, tz)} – ${fmt.date(fmt.addDays(per.to, -1), tz)} (${per.days} days)`,
  };
}

// render draws the view the URL names.
async function render() {
  if (!state.session) return;
  const seq = ++state.renders;
  const p = params();
  const view = VIEWS.find((v) => v.id === p.view) || VIEWS[0];
  const ctx = context(p);
  drawNav(view);
  drawFilters(ctx, view);
  const main = $('#view');
  main.dataset.view = view.id;
  main.dataset.state = 'loading';
  main.dataset.render = seq;
  main.setAttribute('aria-busy', 'true');
  document.title = view.title + ' · omnikpi';
  const started = performance.now();
  let nodes;
  try {
    nodes = await view.render(ctx);
  } catch (e) {
    if (seq !== state.renders) return;
    nodes = [message(e.message || String(e), 'error')];
    main.dataset.state = 'error';
  }
  if (seq !== state.renders || !state.session) return;
  const answered = performance.now();
  main.replaceChildren(h('h1', { class: 'view-title' }, view.title, h('small', null, ctx.periodText)), ...[nodes].flat(Infinity).filter((n) => n));
  // How long the view took: its requests and building, then drawing; and
  // since the page opened (the browser test logs them).
  main.dataset.loadMs = Math.round(answered - started);
  main.dataset.drawMs = Math.round(performance.now() - answered);
  main.dataset.sinceOpenMs = Math.round(performance.now());
  if (main.dataset.state !== 'error') main.dataset.state = 'ready';
  main.removeAttribute('aria-busy');
}

function drawNav(view) {
  const nav = $('#nav');
  nav.hidden = false;
  const keep = {};
  const p = params();
  for (const k of ['days', 'from', 'to', 'hours', ...FILTERS]) if (p[k]) keep[k] = p[k];
  nav.replaceChildren(...VIEWS.filter((v) => !v.parent).map((v) => {
    const q = new URLSearchParams(Object.assign({ view: v.id }, keep));
    const current = v.id === view.id || v.id === view.parent;
    return h('a', { href: '?' + q, dataset: { nav: v.id }, 'aria-current': current ? 'page' : false }, v.title);
  }));
  // On a phone the tabs scroll sideways: keep the current one in sight.
  const a = nav.querySelector('[aria-current=page]');
  if (a && nav.scrollWidth > nav.clientWidth) {
    nav.scrollLeft += a.getBoundingClientRect().left - nav.getBoundingClientRect().left - (nav.clientWidth - a.offsetWidth) / 2;
  }
}

function select(name, label, values, current, all) {
  const opts = [h('option', { value: '' }, all)];
  const seen = new Set();
  for (const v of values) {
    const [val, text] = Array.isArray(v) ? v : [v, v];
    seen.add(val);
    opts.push(h('option', { value: val, selected: val === current }, text));
  }
  if (current && !seen.has(current)) opts.push(h('option', { value: current, selected: true }, current));
  return h('label', { class: 'field' }, h('span', null, label),
    h('select', { name, dataset: { filter: name }, onchange: (e) => filterChanged(name, e.target.value) }, opts));
}

function filterChanged(name, value) {
  const changes = { [name]: value };
  // A template chosen with a campaign goes when the campaign does, and when
  // the new campaign does not send it.
  if (name === 'campaign') {
    const p = params();
    const templates = value && state.options ? state.options.templates[value] || [] : [];
    if (p.template && !templates.includes(p.template)) changes.template = '';
  }
  navigate(changes);
}

function drawFilters(ctx, view) {
  const form = $('#filters');
  form.hidden = false;
  const p = ctx.params, o = state.options || { channels: [], campaigns: [], templates: {}, agents: [], currencies: [] };
  const presets = h('div', { class: 'presets', role: 'group', 'aria-label': 'Period' }, PRESETS.map((d) =>
    h('button', {
      type: 'button', dataset: { days: d }, 'aria-pressed': ctx.period.preset === d ? 'true' : 'false',
      onclick: () => navigate({ days: d === 30 ? '' : d, from: '', to: '' }),
    }, d + ' days')));
  const range = (name, value) => h('label', { class: 'field date' }, h('span', null, name === 'from' ? 'From' : 'To (incl.)'),
    h('input', {
      type: 'date', name, value, dataset: { filter: name },
      onchange: () => {
        const from = form.querySelector('[name=from]').value, to = form.querySelector('[name=to]').value;
        if (from && to && from <= to) navigate({ from, to: fmt.addDays(to, 1), days: '' });
      },
    }));
  const templates = p.campaign ? (o.templates[p.campaign] || []) : [...new Set(Object.values(o.templates).flat())].sort();
  const segments = Object.entries(SEGMENTS).flatMap(([f, list]) => list.map((s) => [f + ':' + s, f + ': ' + s.replace('_', ' ')]));
  // Times in business hours change every view's response and resolution
  // times, so the choice sits with the filters, shown on every view.
  const business = p.hours === 'business' && ctx.businessHours;
  const hours = h('div', { class: 'field' }, h('span', null, 'Times'),
    h('div', { class: 'toggle', role: 'group', 'aria-label': 'Times' },
      [['', 'Wall clock'], ['business', 'Business hours']].map(([v, text]) => h('button', {
        type: 'button', dataset: { hours: v || 'wall' }, 'aria-pressed': (v === 'business') === business ? 'true' : 'false',
        disabled: v === 'business' && !ctx.businessHours,
        title: v === 'business' && !ctx.businessHours ? 'The workspace has no business hours' : '',
        onclick: () => navigate({ hours: v }),
      }, text))));
  const active = FILTERS.some((f) => p[f]) || p.from || p.days || p.hours;
  const count = FILTERS.filter((f) => p[f]).length + (business ? 1 : 0);
  const toggle = h('button', {
    type: 'button', class: 'filters-toggle', 'aria-expanded': form.classList.contains('open') ? 'true' : 'false',
    onclick: () => { form.classList.toggle('open'); toggle.setAttribute('aria-expanded', form.classList.contains('open') ? 'true' : 'false'); },
  }, count ? `Filters (${count})` : 'Filters');
  form.replaceChildren(...[
    presets, toggle,
    range('from', ctx.period.from), range('to', fmt.addDays(ctx.period.to, -1)),
    select('channel', 'Channel', o.channels, p.channel, 'All channels'),
    select('campaign', 'Campaign', o.campaigns, p.campaign, 'All campaigns'),
    select('template', 'Template', templates, p.template, 'All templates'),
    select('agent', 'Agent', o.agents, p.agent, 'All agents'),
    select('class', 'Messages', CLASSES, p.class, 'All messages'),
    select('segment', 'Segment', segments, p.segment, 'All customers'),
    select('currency', 'Currency', o.currencies, p.currency, 'All currencies'),
    hours,
    active ? h('a', { class: 'clear', href: '?view=' + view.id, onclick: (e) => { e.preventDefault(); navigate(Object.fromEntries(['days', 'from', 'to', 'hours', ...FILTERS].map((k) => [k, '']))); } }, 'Clear') : null,
  ].filter((n) => n));
}

// loadOptions finds the values the filters offer: the year's channels,
// campaigns and their templates, agents and currencies, in one cheap
// request (/v1/dimensions) that never holds up the view.
async function loadOptions() {
  // The lists change slowly: a page reload in the same tab reuses them.
  const cacheKey = 'omnikpi.options.' + state.session.workspace;
  try {
    const cached = JSON.parse(sessionStorage.getItem(cacheKey) || 'null');
    if (cached && Date.now() - cached.at < 10 * 60 * 1000) {
      state.options = cached.options;
      return;
    }
  } catch { /* no storage */ }
  const tz = state.session.time_zone;
  const to = fmt.addDays(fmt.today(tz), 1), from = fmt.addDays(to, -366);
  const d = await api.get(api.url('/v1/dimensions', { from, to })).catch(() => null);
  const o = d ? { channels: d.channels, campaigns: d.campaigns, templates: d.templates, agents: d.agents, currencies: d.currencies }
    : { channels: [], campaigns: [], templates: {}, agents: [], currencies: [] };
  state.options = o;
  if (!d) return; // asked again on the next start
  try { sessionStorage.setItem(cacheKey, JSON.stringify({ at: Date.now(), options: o })); } catch { /* no storage */ }
}

async function loadCatalogue() {
  const [c, ws] = await Promise.all([api.get('/v1/catalogue'), api.get('/v1/workspace')]);
  state.catalogue = Object.fromEntries(c.kpis.map((k) => [k.id, k]));
  state.workspace = ws;
}

function showWho() {
  const s = state.session;
  $('#who').hidden = false;
  $('#who-name').textContent = s.user ? `${s.user} · ${s.workspace}` : s.workspace;
  $('#who-name').dataset.workspace = s.workspace;
  $('#who-tz').textContent = s.time_zone;
  $('#who-tz').dataset.tz = s.time_zone;
}

// start opens the dashboard for a signed-in session.
async function start(s) {
  state.session = s;
  showWho();
  const main = $('#view');
  main.dataset.state = 'loading';
  try {
    await loadCatalogue();
  } catch (e) {
    main.replaceChildren(message(e.message, 'error'));
    main.dataset.state = 'error';
    return;
  }
  loadOptions().then(() => { if (state.session) drawFilters(context(params()), VIEWS.find((v) => v.id === params().view) || VIEWS[0]); });
  render();
}

function signInPage(error) {
  state.session = null;
  state.options = null;
  $('#who').hidden = true;
  $('#nav').hidden = true;
  $('#filters').hidden = true;
  const main = $('#view');
  main.removeAttribute('aria-busy');
  main.dataset.view = 'signin';
  main.dataset.render = ++state.renders;
  document.title = 'Sign in · omnikpi';
  const err = h('p', { class: 'error', id: 'signin-error', role: 'alert', hidden: !error }, error || '');
  async function submit(e, body, button) {
    e.preventDefault();
    button.disabled = true;
    err.hidden = true;
    try {
      const s = await api.signIn(body());
      start(s);
    } catch (x) {
      err.textContent = x.status === 401 ? x.message.charAt(0).toUpperCase() + x.message.slice(1) + '.' : x.message;
      err.hidden = false;
      main.dataset.state = 'error';
      button.disabled = false;
    }
  }
  const keyBtn = h('button', { type: 'submit', id: 'key-submit' }, 'Sign in');
  const keyForm = h('form', { class: 'signin-form', id: 'key-form', onsubmit: (e) => submit(e, () => ({ key: keyForm.key.value.trim() }), keyBtn) },
    h('h2', null, 'With an API key'),
    h('label', { class: 'field' }, h('span', null, 'API key'),
      h('input', { name: 'key', id: 'key', type: 'password', autocomplete: 'off', required: true, placeholder: 'ok_…', spellcheck: 'false' })),
    keyBtn);
  const userBtn = h('button', { type: 'submit', id: 'user-submit' }, 'Sign in');
  const userForm = h('form', {
    class: 'signin-form', id: 'user-form',
    onsubmit: (e) => submit(e, () => ({ workspace: userForm.workspace.value.trim(), user: userForm.user.value.trim(), password: userForm.password.value }), userBtn),
  },
  h('h2', null, 'With a user and password'),
  h('label', { class: 'field' }, h('span', null, 'Workspace'), h('input', { name: 'workspace', id: 'workspace', required: true, autocomplete: 'organization' })),
  h('label', { class: 'field' }, h('span', null, 'User'), h('input', { name: 'user', id: 'user', required: true, autocomplete: 'username' })),
  h('label', { class: 'field' }, h('span', null, 'Password'), h('input', { name: 'password', id: 'password', type: 'password', required: true, autocomplete: 'current-password' })),
  userBtn);
  main.replaceChildren(h('div', { class: 'signin' },
    h('h1', null, 'Sign in to omnikpi'),
    err,
    h('div', { class: 'signin-forms' }, keyForm, userForm),
    h('p', { class: 'note' }, 'Make a key with ', h('code', null, 'omnikpi keys create --workspace W'), ', or a user with ', h('code', null, 'omnikpi users add'), '.')));
  main.dataset.state = error ? 'error' : 'ready';
}

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href^="?"], a[data-nav], a[data-home]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.hasAttribute('download')) return;
  e.preventDefault();
  history.pushState(null, '', a.getAttribute('href'));
  render();
});
window.addEventListener('popstate', render);
$('#filters').addEventListener('submit', (e) => e.preventDefault());
$('#sign-out').addEventListener('click', async () => {
  try { await api.signOut(); } catch { /* signed out either way */ }
  try { sessionStorage.clear(); } catch { /* no storage */ }
  signInPage();
});
api.onSignedOut(() => { if (state.session) signInPage('Your session has ended: sign in again.'); });

(async () => {
  try {
    const s = await api.session();
    if (s) start(s);
    else signInPage();
  } catch (e) {
    signInPage(e.message);
  }
})();
