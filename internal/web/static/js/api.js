// The /v1 API, read with the session cookie. Changes send the session's
// CSRF token in X-CSRF-Token.

// APIError carries the API's error code, message and field.
export class APIError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

// signedOut is called when a request finds the session gone.
let signedOut = () => {};
export function onSignedOut(fn) { signedOut = fn; }

let csrf = '';
// workspace is the one of the session's workspaces this page shows; each
// request names it, so two tabs can show two workspaces.
let workspace = '';
export function setWorkspace(name) { workspace = name || ''; }
export function currentWorkspace() { return workspace; }

// token is the session's CSRF token: the cookie's, which stays current
// when another tab signs in again, else the one the sign-in answered.
function token() {
  const m = /(?:^|;\s*)omnikpi_csrf=([^;]*)/.exec(document.cookie);
  return (m && decodeURIComponent(m[1])) || csrf;
}

function headers(extra) {
  const out = Object.assign({ Accept: 'application/json' }, extra);
  if (workspace) out['Omnikpi-Workspace'] = workspace;
  return out;
}

async function failure(res) {
  let code = 'http_' + res.status, message = res.statusText || 'request failed', field = '';
  try {
    const body = await res.json();
    if (body && body.error) ({ code, message, field } = body.error);
  } catch { /* not JSON */ }
  return new APIError(res.status, code, message, field);
}

// url builds a path with query parameters, leaving out empty ones.
export function url(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? path + '?' + s : path;
}

// checked is the answer of a request made signed in, or its failure
// thrown; a 401 also reports the session gone.
async function checked(res) {
  if (res.status === 401) signedOut();
  if (!res.ok) throw await failure(res);
  return res;
}

// get fetches JSON from a /v1 URL.
export async function get(u) {
  const res = await checked(await fetch(u, { credentials: 'same-origin', headers: headers() }));
  return res.json();
}

// send makes a change: method (PUT, DELETE…) on a /v1 URL with a JSON
// body, and returns the answer's JSON, if any.
export async function send(method, u, body) {
  const hs = headers({ 'X-CSRF-Token': token() });
  if (body !== undefined) hs['Content-Type'] = 'application/json';
  const res = await checked(await fetch(u, { method, credentials: 'same-origin', headers: hs, body: body === undefined ? undefined : JSON.stringify(body) }));
  return res.status === 204 ? null : res.json().catch(() => null);
}

// session returns who is signed in, or null.
export async function session() {
  const res = await fetch('/v1/session', { credentials: 'same-origin', headers: headers() });
  if (res.status === 401) return null;
  if (!res.ok) throw await failure(res);
  const s = await res.json();
  csrf = s.csrf_token;
  return s;
}

// signIn posts a key, or a workspace, user and password; signed in
// already, the session adds that workspace.
export async function signIn(body) {
  const res = await fetch('/v1/session', {
    method: 'POST', credentials: 'same-origin', headers: headers({ 'Content-Type': 'application/json', 'X-CSRF-Token': token() }), body: JSON.stringify(body),
  });
  if (!res.ok) throw await failure(res);
  const s = await res.json();
  csrf = s.csrf_token;
  return s;
}

// signOut ends the session.
export async function signOut() {
  const res = await fetch('/v1/session', {
    method: 'DELETE', credentials: 'same-origin', headers: headers({ 'X-CSRF-Token': token() }),
  });
  csrf = '';
  workspace = '';
  if (!res.ok && res.status !== 401) throw await failure(res);
}
