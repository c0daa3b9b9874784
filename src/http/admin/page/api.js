'use strict';
// Calls to the admin API, and the page's shared pieces: elements, the message line, the
// confirmation dialog and the bottom sheet.

const $ = (id) => document.getElementById(id);
const session = {
  token: sessionStorage.getItem('warung-token') || '',
  name: sessionStorage.getItem('warung-admin') || '',
};
/** Every call the page made, "GET /products", for the tests to see what was (not) asked. */
window.adminCalls = [];

/** The server answered with an error: its status, `code` and `message`. */
class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
/** No answer at all: fetch itself threw (offline, server down, connection cut). */
class NetworkError extends Error {}
/** A check in the page refused the input before any call. */
class InputError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code || 'bad_input';
  }
}

async function request(method, path, body, text) {
  const headers = { Authorization: 'Bearer ' + session.token };
  if (method !== 'GET') headers['X-Admin-Name'] = session.name;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = text ? 'text/plain; charset=utf-8' : 'application/json';
    payload = text ? body : JSON.stringify(body);
  }
  window.adminCalls.push(method + ' ' + path);
  let response;
  try {
    response = await fetch('/admin/api' + path, { method, headers, body: payload, cache: 'no-store' });
  } catch (error) {
    throw new NetworkError(String(error));
  }
  if (!response.ok) {
    let data = {};
    try { data = await response.json(); } catch (_) { /* not JSON: the status says enough */ }
    throw new ApiError(response.status, data.code || data.error || 'http_' + response.status,
      data.message || response.statusText || String(response.status));
  }
  return response;
}

/** A JSON call; `withStatus` answers {status, data} (a price change answers 200 or 202). */
async function api(method, path, body, options = {}) {
  const response = await request(method, path, body, options.text);
  let data;
  try { data = await response.json(); } catch (error) { throw new NetworkError(String(error)); }
  return options.withStatus ? { status: response.status, data } : data;
}

const enc = encodeURIComponent;

/** A reference for a change, made once per confirmed action: a retried call adds nothing twice. */
const newReference = (prefix) =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

let messageTimer = null;
/** Shows `text` on the message line: kind `ok` or `error`, `code` kept for tests. */
function say(text, kind = 'ok', code = '', detail = '') {
  const box = $('message');
  box.textContent = text;
  if (detail) box.append(h('span', { class: 'detail', text: detail }));
  box.dataset.kind = kind;
  box.dataset.code = code;
  box.hidden = false;
  clearTimeout(messageTimer);
  messageTimer = setTimeout(() => { box.hidden = true; }, kind === 'ok' ? 5000 : 12000);
}

/** Says what went wrong: a network failure, the page's own check, or the API's answer. */
function fail(error) {
  if (error instanceof NetworkError) return say(t('err.network'), 'error', 'network');
  if (error instanceof InputError) return say(error.message, 'error', error.code);
  if (error instanceof ApiError) {
    if (error.status === 401) {
      logout();
      $('login-error').textContent = t('login.refused');
      return say(t('login.refused'), 'error', error.code);
    }
    const known = t('err.' + error.code, null, '');
    return say(known || t('err.api'), 'error', error.code, error.message);
  }
  console.error(error);
  say(t('err.page') + ' ' + error, 'error', 'page');
}

/** Runs an action, its button (if any) disabled meanwhile; failures are said, not thrown. */
async function run(task, button) {
  if (button) button.disabled = true;
  try {
    return await task();
  } catch (error) {
    fail(error);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/** An element: `h('button', {class, text, on: {click}}, ...children)`. Never sets `style`. */
function h(tag, props, ...children) {
  const element = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'on') for (const [event, fn] of Object.entries(value)) element.addEventListener(event, fn);
    else if (key === 'text') element.textContent = value;
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key === 'value' || key === 'checked') element[key] = value;
    else element.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) element.append(child);
  }
  return element;
}

/** A labelled field: the label above, the control below. */
function field(label, control) {
  return h('div', {}, h('label', { for: control.id, text: label }), control);
}

let answerConfirm = null;
/** Asks before a change of money or stock; resolves true on "yes". */
function ask(text, yesLabel) {
  if (answerConfirm) answerConfirm(false);
  $('confirm-text').textContent = text;
  $('confirm-yes').textContent = yesLabel || t('confirm.yes');
  $('confirm-dialog').hidden = false;
  $('confirm-yes').focus();
  return new Promise((resolve) => { answerConfirm = resolve; });
}
function closeConfirm(answer) {
  $('confirm-dialog').hidden = true;
  if (answerConfirm) answerConfirm(answer);
  answerConfirm = null;
}
$('confirm-yes').addEventListener('click', () => closeConfirm(true));
$('confirm-no').addEventListener('click', () => closeConfirm(false));
$('confirm-dialog').addEventListener('click', (e) => { if (e.target === $('confirm-dialog')) closeConfirm(false); });

/** Opens the bottom sheet with `title` and `nodes`; `kind` names what it shows (data-kind). */
function openSheet(title, kind, ...nodes) {
  $('sheet-title').textContent = title;
  $('sheet-body').replaceChildren(...nodes.flat().filter((node) => node !== null && node !== undefined && node !== false));
  $('sheet').dataset.kind = kind;
  $('sheet').hidden = false;
  document.body.classList.add('sheet-open');
}
function closeSheet() {
  $('sheet').hidden = true;
  $('sheet-body').replaceChildren();
  delete $('sheet').dataset.kind;
  document.body.classList.remove('sheet-open');
}
$('sheet-close').addEventListener('click', closeSheet);
$('sheet').addEventListener('click', (e) => { if (e.target === $('sheet')) closeSheet(); });
document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape') return;
  if (!$('confirm-dialog').hidden) closeConfirm(false);
  else if (!$('sheet').hidden) closeSheet();
});
