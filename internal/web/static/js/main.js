// The dashboard: sign-in, navigation between views, and the filters, which
// live in the URL's query string so that a view can be shared.

import * as api from './api.js';
import * as fmt from './fmt.js';
import { compose, h, message } from './dom.js';
import * as i18n from './i18n.js';
import { t } from './i18n.js';
import overview from './views/overview.js';
import { campaigns, recipients } from './views/campaigns.js';
import abtest from './views/abtest.js';
import service from './views/service.js';
import funnel from './views/funnel.js';
import ads from './views/ads.js';
import cohorts from './views/analysis.js';
import sendtime from './views/sendtime.js';
import alerts from './views/alerts.js';

// The views; title() is read when drawn, in the language of the moment.
const VIEWS = [
  { id: 'overview', title: () => t('Overview'), render: overview },
  { id: 'campaigns', title: () => t('Campaigns'), render: campaigns },
  { id: 'recipients', title: () => t('Recipients'), render: recipients, parent: 'campaigns' },
  { id: 'abtest', title: () => t('A/B tests'), render: abtest },
  { id: 'service', title: () => t('Conversations'), render: service },
  { id: 'funnel', title: () => t('Funnel & attribution'), render: funnel },
  { id: 'ads', title: () => t('Clicks & ads'), render: ads },
  { id: 'cohorts', title: () => t('Cohorts'), render: cohorts },
  { id: 'sendtime', title: () => t('Send time'), render: sendtime },
  { id: 'alerts', title: () => t('Alerts'), render: alerts },
];

// Filters every view shares; each goes to the API, so CSV downloads carry
// them too.
const FILTERS = ['channel', 'campaign', 'template', 'agent', 'class', 'segment', 'currency'];
const API_FILTERS = ['channel', 'campaign', 'template', 'agent', 'class', 'segment', 'currency', 'hours'];
// The classes of outbound messages (README, How it counts): the
// engagement rates count campaign messages unless one is chosen here.
const CLASSES = () => [['campaign', t('Campaigns')], ['conversation', t('Replies')]];
const PRESETS = [7, 30, 90];
// The period and the filters: what Clear resets, and what goes when the
// page shows another workspace.
const CHOICES = ['days', 'from', 'to', 'hours', ...FILTERS];

// cleared is a change of the URL that resets the period and the filters,
// with other changes.
function cleared(changes) {
  return Object.assign(Object.fromEntries(CHOICES.map((k) => [k, ''])), changes);
}

const SEGMENTS = {
  rfm: ['champions', 'loyal', 'new', 'promising', 'at_risk', 'hibernating'],
  rpc: ['high', 'mid', 'low'],
  response: ['fast', 'within', 'slow'],
  satisfaction: ['promoter', 'passive', 'detractor', 'satisfied', 'unsatisfied'],
};

// segmentName names a segment filter's value (rfm:at_risk) for the menu.
function segmentName(family, segment) {
  const families = { rfm: t('RFM'), rpc: t('Revenue per customer'), response: t('Response'), satisfaction: t('Satisfaction') };
  const names = {
    champions: t('champions'), loyal: t('loyal'), new: t('new'), promising: t('promising'), at_risk: t('at risk'), hibernating: t('hibernating'),
    high: t('high'), mid: t('mid'), low: t('low'), fast: t('fast'), within: t('within target'), slow: t('slow'),
    promoter: t('promoter'), passive: t('passive'), detractor: t('detractor'), satisfied: t('satisfied'), unsatisfied: t('unsatisfied'),
  };
  return t('{family}: {segment}', { family: families[family], segment: names[segment] });
}

const $ = (sel) => document.querySelector(sel);
const state = { session: null, catalogue: null, headline: [], workspace: null, options: null, renders: 0 };

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
    headline: state.headline,
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
    periodText: t('{from} – {to} ({days} days)', { from: fmt.date(per.from, 'UTC'), to: fmt.date(fmt.addDays(per.to, -1), 'UTC'), days: fmt.number(per.days, 0) }),
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
  document.title = view.title() + ' · omnikpi';
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
  main.replaceChildren(h('h1', { class: 'view-title' }, view.title(), h('small', null, ctx.periodText)), ...[nodes].flat(Infinity).filter((n) => n));
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
  for (const k of ['ws', ...CHOICES]) if (p[k]) keep[k] = p[k];
  nav.replaceChildren(...VIEWS.filter((v) => !v.parent).map((v) => {
    const q = new URLSearchParams(Object.assign({ view: v.id }, keep));
    const current = v.id === view.id || v.id === view.parent;
    return h('a', { href: '?' + q, dataset: { nav: v.id }, 'aria-current': current ? 'page' : false }, v.title());
  }));
  // On a phone the tabs scroll sideways: keep the current one in sight.
  const a = nav.querySelector('[aria-current=page]');
  if (a && nav.scrollWidth > nav.clientWidth) {
    nav.scrollLeft += a.getBoundingClientRect().left - nav.getBoundingClientRect().left - (nav.clientWidth - a.offsetWidth) / 2;
  }
}

// dateField is a period end typed in the page's one date format
// (DD/MM/YYYY), with a calendar button that opens the browser's picker.
function dateField(form, name, label, day) {
  const apply = () => {
    const from = fmt.parseDay(form.querySelector('[name=from]').value), to = fmt.parseDay(form.querySelector('[name=to]').value);
    const bad = [...form.querySelectorAll('input[data-day]')].filter((i) => !fmt.parseDay(i.value));
    for (const i of form.querySelectorAll('input[data-day]')) i.setAttribute('aria-invalid', bad.includes(i) ? 'true' : 'false');
    // A typed date also changes when its input is redrawn and loses the
    // focus: the period it asks for is then the one shown.
    const p = params();
    if (from && to && from <= to && !(p.from === from && p.to === fmt.addDays(to, 1))) navigate({ from, to: fmt.addDays(to, 1), days: '' });
  };
  const input = h('input', {
    type: 'text', name, value: fmt.date(day, 'UTC'), inputmode: 'numeric', autocomplete: 'off', dataset: { filter: name, day },
    placeholder: fmt.dayPattern(), title: t('A date as {pattern}', { pattern: fmt.dayPattern() }), onchange: apply,
  });
  const picker = h('input', {
    type: 'date', value: day, tabindex: '-1', class: 'picker', 'aria-hidden': 'true',
    onchange: (e) => { if (e.target.value) { input.value = fmt.date(e.target.value, 'UTC'); apply(); } },
  });
  const open = h('button', {
    type: 'button', class: 'calendar', 'aria-label': t('Choose a date'), title: t('Choose a date'),
    onclick: () => { try { picker.showPicker(); } catch { picker.focus(); } },
  }, '▦');
  return h('label', { class: 'field date' }, h('span', null, label), h('span', { class: 'date-input' }, input, open, picker));
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
  const presets = h('div', { class: 'presets', role: 'group', 'aria-label': t('Period') }, PRESETS.map((d) =>
    h('button', {
      type: 'button', dataset: { days: d }, 'aria-pressed': ctx.period.preset === d ? 'true' : 'false',
      onclick: () => navigate({ days: d === 30 ? '' : d, from: '', to: '' }),
    }, t('{days} days', { days: d }))));
  const range = (name, day) => dateField(form, name, name === 'from' ? t('From') : t('To (incl.)'), day);
  const templates = p.campaign ? (o.templates[p.campaign] || []) : [...new Set(Object.values(o.templates).flat())].sort();
  const segments = Object.entries(SEGMENTS).flatMap(([f, list]) => list.map((s) => [f + ':' + s, segmentName(f, s)]));
  // Times in business hours change every view's response and resolution
  // times, so the choice sits with the filters, shown on every view.
  const business = p.hours === 'business' && ctx.businessHours;
  const hours = h('div', { class: 'field' }, h('span', null, t('Times')),
    h('div', { class: 'toggle', role: 'group', 'aria-label': t('Times') },
      [['', t('Wall clock')], ['business', t('Business hours')]].map(([v, text]) => h('button', {
        type: 'button', dataset: { hours: v || 'wall' }, 'aria-pressed': (v === 'business') === business ? 'true' : 'false',
        disabled: v === 'business' && !ctx.businessHours,
        title: v === 'business' && !ctx.businessHours ? t('The workspace has no business hours') : '',
        onclick: () => navigate({ hours: v }),
      }, text))));
  const active = FILTERS.some((f) => p[f]) || p.from || p.days || p.hours;
  const count = FILTERS.filter((f) => p[f]).length + (business ? 1 : 0);
  const toggle = h('button', {
    type: 'button', class: 'filters-toggle', 'aria-expanded': form.classList.contains('open') ? 'true' : 'false',
    onclick: () => { form.classList.toggle('open'); toggle.setAttribute('aria-expanded', form.classList.contains('open') ? 'true' : 'false'); },
  }, count ? t('Filters ({n})', { n: count }) : t('Filters'));
  form.replaceChildren(...[
    presets, toggle,
    range('from', ctx.period.from), range('to', fmt.addDays(ctx.period.to, -1)),
    select('channel', t('Channel'), o.channels, p.channel, t('All channels')),
    select('campaign', t('Campaign'), o.campaigns, p.campaign, t('All campaigns')),
    select('template', t('Template'), templates, p.template, t('All templates')),
    select('agent', t('Agent'), o.agents, p.agent, t('All agents')),
    select('class', t('Messages'), CLASSES(), p.class, t('All messages')),
    select('segment', t('Segment'), segments, p.segment, t('All customers')),
    select('currency', t('Currency'), o.currencies, p.currency, t('All currencies')),
    hours,
    active ? h('a', { class: 'clear', href: href(cleared({ view: view.id })), onclick: (e) => { e.preventDefault(); navigate(cleared()); } }, t('Clear')) : null,
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
  const [c, ws] = await Promise.all([api.get(api.url('/v1/catalogue', { lang: i18n.language() })), api.get('/v1/workspace')]);
  state.catalogue = Object.fromEntries(c.kpis.map((k) => [k.id, k]));
  state.headline = c.headline || [];
  i18n.setBandSources(c.band_sources);
  state.workspace = ws;
}

// showWho shows who is signed in, the workspace switcher when the session
// holds several workspaces, and the language menu.
function showWho() {
  const s = state.session;
  $('#who').hidden = false;
  $('#who-user').textContent = s.user || '';
  $('#who-user').hidden = !s.user;
  $('#who-name').textContent = s.workspace;
  $('#who-name').dataset.workspace = s.workspace;
  // The switcher offers the session's other workspaces, each with its
  // time zone, and a sign-in to one more.
  const others = (s.workspaces || []).filter((w) => w.workspace !== s.workspace);
  const pick = h('select', {
    id: 'workspace-switch', 'aria-label': t('Switch workspace'),
    onchange: (e) => {
      const v = e.target.value;
      e.target.value = '';
      if (v === '+') addWorkspacePage();
      else if (v) switchWorkspace(v);
    },
  }, h('option', { value: '' }, others.length ? t('Switch workspace…') : t('Workspaces…')),
  others.map((w) => h('option', { value: w.workspace }, t('{workspace} · {time_zone}', { workspace: w.workspace, time_zone: w.time_zone }))),
  h('option', { value: '+' }, t('Sign in to another workspace…')));
  $('#who-switch').replaceChildren(pick);
  $('#who-tz').textContent = s.time_zone;
  $('#who-tz').dataset.tz = s.time_zone;
  $('#who-tz').title = t("Every figure is in the workspace's time zone");
  $('#sign-out').textContent = t('Sign out');
}

// drawLanguages fills the language menu, shown signed in or not.
function drawLanguages() {
  const menu = $('#language');
  menu.setAttribute('aria-label', t('Language'));
  menu.replaceChildren(...i18n.LANGUAGES.map((l) => h('option', { value: l.id, lang: l.id, selected: l.id === i18n.language() }, l.name)));
}

// chooseLanguage switches the page to language id: kept in this browser,
// and with the user on the server when signed in as one.
async function chooseLanguage(id) {
  await i18n.use(id);
  i18n.remember(id);
  drawLanguages();
  if (!state.session) {
    signInPage();
    return;
  }
  if (state.session.user) api.send('PATCH', '/v1/session', { language: id }).catch(() => { /* kept in the browser anyway */ });
  try {
    await loadCatalogue();
  } catch (e) {
    $('#view').replaceChildren(message(e.message, 'error'));
    return;
  }
  showWho();
  render();
}

// switchWorkspace shows another of the session's workspaces: its own
// filters, so the campaign of one does not filter the other.
async function switchWorkspace(name) {
  history.pushState(null, '', href(cleared({ ws: name })));
  api.setWorkspace(name);
  state.options = null;
  try {
    const s = await api.session();
    if (s) start(s);
    else signInPage();
  } catch (e) {
    signInPage(e.message);
  }
}

// start opens the dashboard for a signed-in session, in the user's
// language.
async function start(s) {
  state.session = s;
  api.setWorkspace(s.workspace);
  const lang = i18n.choose(s.language);
  if (lang !== i18n.language()) {
    try { await i18n.use(lang); } catch { /* stays in the language it has */ }
  }
  drawLanguages();
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

// signInForms are the two ways to sign in: each signs in, then hands the
// session to signedIn, or shows why not in err.
function signInForms(err, signedIn) {
  async function submit(e, body, button) {
    e.preventDefault();
    button.disabled = true;
    err.hidden = true;
    try {
      signedIn(await api.signIn(body()));
    } catch (x) {
      err.textContent = signInError(x);
      err.hidden = false;
      $('#view').dataset.state = 'error';
      button.disabled = false;
    }
  }
  const keyBtn = h('button', { type: 'submit', id: 'key-submit' }, t('Sign in'));
  const keyForm = h('form', { class: 'signin-form', id: 'key-form', onsubmit: (e) => submit(e, () => ({ key: keyForm.key.value.trim() }), keyBtn) },
    h('h2', null, t('With an API key')),
    h('label', { class: 'field' }, h('span', null, t('API key')),
      h('input', { name: 'key', id: 'key', type: 'password', autocomplete: 'off', required: true, placeholder: 'ok_…', spellcheck: 'false' })),
    keyBtn);
  const userBtn = h('button', { type: 'submit', id: 'user-submit' }, t('Sign in'));
  const userForm = h('form', {
    class: 'signin-form', id: 'user-form',
    onsubmit: (e) => submit(e, () => ({ workspace: userForm.workspace.value.trim(), user: userForm.user.value.trim(), password: userForm.password.value }), userBtn),
  },
  h('h2', null, t('With a user and password')),
  h('label', { class: 'field' }, h('span', null, t('Workspace')), h('input', { name: 'workspace', id: 'workspace', required: true, autocomplete: 'organization' })),
  h('label', { class: 'field' }, h('span', null, t('User')), h('input', { name: 'user', id: 'user', required: true, autocomplete: 'username' })),
  h('label', { class: 'field' }, h('span', null, t('Password')), h('input', { name: 'password', id: 'password', type: 'password', required: true, autocomplete: 'current-password' })),
  userBtn);
  return h('div', { class: 'signin-forms' }, keyForm, userForm);
}

// signInError is the text shown for a failed sign-in.
function signInError(x) {
  if (x.code === 'key_expired') return t('This API key has expired.');
  if (x.status === 401 && x.field === 'key') return t('Unknown API key.');
  if (x.status === 401 && x.field === 'password') return t('Wrong user or password.');
  return x.message;
}

function signInPage(error) {
  state.session = null;
  state.options = null;
  $('#who').hidden = true;
  $('#nav').hidden = true;
  $('#filters').hidden = true;
  drawLanguages();
  const main = $('#view');
  main.removeAttribute('aria-busy');
  main.dataset.view = 'signin';
  main.dataset.render = ++state.renders;
  document.title = t('Sign in') + ' · omnikpi';
  const err = h('p', { class: 'error', id: 'signin-error', role: 'alert', hidden: !error }, error || '');
  main.replaceChildren(h('div', { class: 'signin' },
    h('h1', null, t('Sign in to omnikpi')),
    err,
    signInForms(err, start),
    h('p', { class: 'note' }, compose(t('Make a key with {keys}, or a user with {users}.'),
      { keys: h('code', null, 'omnikpi keys create --workspace W'), users: h('code', null, 'omnikpi users add') }))));
  main.dataset.state = error ? 'error' : 'ready';
}

// addWorkspacePage signs the session in to one more workspace, which the
// switcher then offers beside the others.
function addWorkspacePage() {
  const main = $('#view');
  main.dataset.view = 'add-workspace';
  main.dataset.render = ++state.renders;
  document.title = t('Sign in to another workspace') + ' · omnikpi';
  const err = h('p', { class: 'error', id: 'signin-error', role: 'alert', hidden: true });
  main.replaceChildren(h('div', { class: 'signin' },
    h('h1', null, t('Sign in to another workspace')),
    h('p', { class: 'note' }, t('You stay signed in to {workspace}; the menu at the top switches between your workspaces.', { workspace: state.session.workspace })),
    err,
    signInForms(err, (s) => {
      // The new workspace opens on its own filters and menus.
      history.pushState(null, '', href(cleared({ ws: s.workspace })));
      state.options = null;
      start(s);
    }),
    h('p', null, h('a', { href: location.search || '?', onclick: (e) => { e.preventDefault(); showWho(); render(); } }, t('Back')))));
  main.dataset.state = 'ready';
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
api.onSignedOut(() => { if (state.session) signInPage(t('Your session has ended: sign in again.')); });
$('#language').addEventListener('change', (e) => chooseLanguage(e.target.value));

// The page opens in this browser's language, then the user's once known,
// on the workspace the URL names (ws=) when the session holds it.
(async () => {
  try { await i18n.use(i18n.choose()); } catch { /* English */ }
  drawLanguages();
  api.setWorkspace(params().ws || '');
  try {
    let s;
    try {
      s = await api.session();
    } catch (e) {
      if (e.status !== 403) throw e;
      // Not signed in to the workspace of the URL: the session's first.
      history.replaceState(null, '', href({ ws: '' }));
      api.setWorkspace('');
      s = await api.session();
    }
    if (s) start(s);
    else signInPage();
  } catch (e) {
    signInPage(e.message);
  }
})();
