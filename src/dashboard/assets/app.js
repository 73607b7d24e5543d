/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return --
   plain browser JavaScript without type annotations (no build step): values are `any` to the type checker; the other typed rules still apply. */
/* global document, setTimeout, sessionStorage, URLSearchParams */
import { api, ApiError, initToken, setToken } from './api.js';
import { renderCharts } from './charts.js';
import { renderMachine, stateKind } from './diagram.js';
import { $, ago, compact, h, money, shortId, time } from './dom.js';
import { openStream } from './live.js';
import { renderInventory, renderServiceDeadLetters } from './panels.js';
import { openTimeTravel } from './time-travel.js';

const HISTORY_KEPT = 720;
const STUCK_KEY = 'ordo.stuckAfterSeconds';

const ui = {
  machine: null,
  updateCounts: null,
  openOrderId: null,
  openOrderVersion: '',
  nextCursor: null,
  lastQuery: null,
  stream: null,
  samples: [],
};

function banner(message, kind = 'error') {
  const b = $('#banner');
  if (!message) {
    b.hidden = true;
    return;
  }
  b.hidden = false;
  b.className = `banner ${kind}`;
  b.textContent = message;
  if (kind === 'ok') setTimeout(() => b.textContent === message && (b.hidden = true), 4000);
}

function connected(ok, why) {
  const c = $('#conn');
  c.textContent = ok ? 'connected' : why;
  c.className = `conn ${ok ? 'ok' : 'bad'}`;
}

function handle(err) {
  if (err instanceof ApiError && err.status === 401) {
    connected(false, 'token refused');
    banner('The admin token is missing or wrong: paste it in the box at the top right (ordo start prints it).');
  } else if (err instanceof ApiError) {
    banner(`${err.code}: ${err.message}`);
  } else {
    connected(false, 'server unreachable');
    banner(`cannot reach the server: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const stateDef = (name) => ui.machine?.definition.states[name];
const canCancel = (name) => {
  const s = stateDef(name);
  return !!s && 'CancelRequested' in s.on && !(s.ignore ?? []).includes('CancelRequested');
};
const canRetry = (name) => !!stateDef(name) && 'CompensationRetried' in stateDef(name).on;
const stateChip = (name) => h('span', { class: `chip ${stateDef(name) ? chipKind(name) : 'normal'}`, 'data-status': name }, name);
function chipKind(name) {
  const def = stateDef(name);
  const kind = stateKind(def);
  if (kind === 'final') return def && name === happyFinal() ? 'success' : 'final';
  return kind;
}
function happyFinal() {
  const node = document.querySelector('.state.success');
  return node ? node.getAttribute('data-state') : null;
}

// ---- actions -------------------------------------------------------------

async function act(label, fn) {
  try {
    const r = await fn();
    // Order actions answer with the order's state; a replay with its outcome and the saga's state.
    banner(`${label}: ${r.state ? `${r.status}, saga now ${r.state}` : r.status ? `order now ${r.status}` : compact(r)}`, 'ok');
  } catch (err) {
    handle(err);
  }
  // The stream pushes the new counts and lists; the open order is read again here.
  if (ui.openOrderId) await showOrder(ui.openOrderId, true);
}

const retryCompensation = (id) => act(`retry compensation of ${shortId(id)}`, () => api(`/admin/orders/${encodeURIComponent(id)}/retry-compensation`, { method: 'POST', body: {} }));
const compensate = (id) => act(`compensate ${shortId(id)}`, () => api(`/admin/orders/${encodeURIComponent(id)}/compensate`, { method: 'POST', body: { reason: 'compensated from the dashboard' } }));
const reconcileNow = () => act('reconcile now', () => api('/admin/reconcile', { method: 'POST', body: {} }));
const replay = (id) => act(`replay dead letter ${id}`, () => api(`/admin/dead-letters/${encodeURIComponent(id)}/replay`, { method: 'POST', body: {} }));
const replayService = (service, id) =>
  act(`replay ${service} dead letter ${id}`, () => api(`/admin/service-dead-letters/${encodeURIComponent(service)}/${encodeURIComponent(id)}/replay`, { method: 'POST', body: {} }));

function orderLink(id) {
  return h('a', { href: '#', class: 'mono', title: id, onclick: (ev) => (ev.preventDefault(), void showOrder(id)) }, shortId(id));
}

// ---- the machine and the live numbers -------------------------------------

async function loadMachine() {
  const m = await api('/admin/machine');
  ui.machine = m;
  const def = m.definition;
  $('#machine-title').textContent = `${def.id} machine · v${def.version}`;
  ui.updateCounts = renderMachine($('#diagram'), def, m.edges, (state) => {
    $('#search-status').value = state;
    $('#search-id').value = '';
    void search();
  });
  const select = $('#search-status');
  select.replaceChildren(h('option', { value: '' }, 'any status'), ...Object.keys(def.states).map((s) => h('option', { value: s }, s)));
}

function stuckAfter() {
  const v = Number($('#stuck-after').value);
  return Number.isInteger(v) && v >= 1 && v <= 86400 ? v : 60;
}

/** Renders what the server pushed on the stream (`state` events). */
function applyState(st) {
  const o = st.overview;
  connected(true);
  ui.updateCounts?.(o.states);
  $('#stat-total').textContent = String(o.total);
  $('#stat-created').textContent = String(o.throughput.created);
  $('#stat-finished').textContent = String(o.throughput.finished);
  $('#stat-stuck').textContent = String(o.stuck);
  const serviceDead = st.serviceDeadLetters.filter((d) => !d.replayedAt).length;
  $('#stat-dead').textContent = String(o.deadLettersWaiting + serviceDead);
  $('#stat-alerts').textContent = String(o.openAlerts);
  // Orders per machine version (a live migration moves them from one to the next).
  $('#stat-versions').textContent = (o.versions ?? []).map((v) => `v${v.version}: ${v.unfinished}`).join(' · ') || '–';
  for (const [id, n] of [['#stat-stuck', o.stuck], ['#stat-dead', o.deadLettersWaiting + serviceDead], ['#stat-alerts', o.openAlerts]]) $(id).parentElement.classList.toggle('lit', n > 0);
  $('#updated').textContent = `pushed ${time(o.at)}`;
  renderAlerts(st.alerts, st.reconciliations.filter((r) => Date.now() - Date.parse(r.at) < RECONCILED_SHOWN_MS));
  renderStuck(st.stuck);
  renderDeadLetters(st.deadLetters);
  renderServiceDeadLetters(st.serviceDeadLetters, (service, id) => void replayService(service, id));
  renderInventory(st.inventory);
  if (ui.openOrderId) void showOrder(ui.openOrderId, true);
}

function onStreamEvent(event, data) {
  if (event === 'state') applyState(data);
  else if (event === 'history') ui.samples = data;
  else if (event === 'sample') ui.samples = [...ui.samples, data].slice(-HISTORY_KEPT);
  else if (event === 'problem') banner(`the server could not read the live view: ${data.message}`);
  if (event === 'history' || event === 'sample') {
    renderCharts($('#charts'), ui.samples);
    $('#charts').setAttribute('data-samples', String(ui.samples.length));
  }
}

function listen() {
  ui.stream?.close();
  ui.stream = openStream(
    () => `/admin/stream?stuckAfterSeconds=${stuckAfter()}`,
    onStreamEvent,
    (ok, why, status) => {
      if (ok) return connected(true);
      if (status) handle(new ApiError(status, 'UNAUTHENTICATED', why));
      else connected(false, why);
    },
  );
}

function workList(container, items, row) {
  const node = $(container);
  if (items.length === 0) node.replaceChildren(h('p', { class: 'muted' }, 'none'));
  else node.replaceChildren(h('ul', { class: 'worklist' }, items.map(row)));
}

const RECONCILED_SHOWN_MS = 10 * 60 * 1000;

/** A line for what the reconciler found and did (or failed to do) in the last minutes. */
function reconciledRow(r) {
  return h(
    'li',
    { class: 'item alert', 'data-reconciliation': r.id },
    h('div', { class: 'row' }, h('span', { class: 'kind' }, `reconciler ${r.outcome}`), r.subject ? orderLink(r.subject) : null, h('span', { class: 'muted small' }, r.check), h('span', { class: 'muted small right' }, ago(r.at))),
    h('div', { class: r.outcome === 'corrected' ? 'small' : 'why small' }, r.error ? `${r.action}: ${r.error}` : `${r.action} (found ${compact(r.found)})`),
  );
}

function renderAlerts(alerts, reconciled = []) {
  workList('#alerts', [...alerts, ...reconciled.map((r) => ({ reconciled: r }))], (a) => {
    if (a.reconciled) return reconciledRow(a.reconciled);
    const d = a.detail ?? {};
    return h(
      'li',
      { class: 'item alert', 'data-alert': a.id },
      // A system invariant the property monitor found broken names the property; a system-wide one has no order.
      h('div', { class: 'row' }, h('span', { class: 'kind' }, a.kind), a.sagaId === 'system' && d.property ? h('span', { class: 'muted small' }, 'whole system') : orderLink(a.sagaId), a.sagaState ? stateChip(a.sagaState) : null, h('span', { class: 'muted small right' }, ago(a.createdAt))),
      h('div', { class: 'why small' }, d.property ? `${d.property}: ${d.description ?? ''}` : d.reason ? String(d.reason) : compact(d)),
      a.retryable ? h('div', { class: 'row' }, h('button', { class: 'action', 'data-action': 'retry-compensation', onclick: () => void retryCompensation(a.sagaId) }, 'retry compensation')) : null,
    );
  });
}

function renderStuck(stuck) {
  workList('#stuck', stuck, (s) =>
    h(
      'li',
      { class: 'item', 'data-stuck': s.orderId },
      h('div', { class: 'row' }, orderLink(s.orderId), stateChip(s.state), h('span', { class: 'muted small right' }, `idle ${s.idleSeconds}s`)),
      s.cancellable ? h('div', { class: 'row' }, h('button', { class: 'action', 'data-action': 'compensate', onclick: () => void compensate(s.orderId) }, 'cancel & compensate')) : h('div', { class: 'muted small' }, `no operator action in ${s.state}`),
    ),
  );
}

function renderDeadLetters(letters) {
  workList('#dead-letters', letters, (d) =>
    h(
      'li',
      { class: 'item dead', 'data-dead-letter': d.id },
      h('div', { class: 'row' }, h('span', { class: 'mono' }, `#${d.id}`), h('span', { class: 'kind' }, d.type), d.sagaId ? orderLink(d.sagaId) : null, h('span', { class: 'muted small right' }, `${d.attempts} attempt${d.attempts === 1 ? '' : 's'} · ${ago(d.createdAt)}`)),
      h('div', { class: 'why small' }, h('b', {}, d.errorCode), ' ', d.reason),
      d.payload !== null ? h('div', { class: 'mono small muted' }, compact(d.payload)) : null,
      h('div', { class: 'row' }, h('button', { class: 'action', 'data-action': 'replay', onclick: () => void replay(d.id) }, 'replay')),
    ),
  );
}

// ---- order search and the timeline ----------------------------------------

async function search(more = false) {
  const id = $('#search-id').value.trim();
  const msg = $('#search-message');
  msg.textContent = '';
  const tbody = $('#orders tbody');
  if (id) {
    ui.nextCursor = null;
    $('#more').hidden = true;
    try {
      const o = await api(`/orders/${encodeURIComponent(id)}`);
      tbody.replaceChildren(orderRow(o));
      await showOrder(o.orderId);
    } catch (err) {
      tbody.replaceChildren();
      if (err instanceof ApiError && (err.status === 404 || err.status === 400)) msg.textContent = err.message;
      else handle(err);
    }
    return;
  }
  const params = new URLSearchParams({ limit: '25' });
  const status = $('#search-status').value;
  const customer = $('#search-customer').value.trim();
  if (status) params.set('status', status);
  if (customer) params.set('customerId', customer);
  if (more && ui.nextCursor) params.set('cursor', ui.nextCursor);
  try {
    const page = await api(`/orders?${params.toString()}`);
    const rows = page.orders.map(orderRow);
    if (more) tbody.append(...rows);
    else tbody.replaceChildren(...rows);
    ui.nextCursor = page.nextCursor ?? null;
    $('#more').hidden = !ui.nextCursor;
    if (!more && page.orders.length === 0) msg.textContent = status || customer ? 'no orders match' : 'no orders yet';
  } catch (err) {
    if (err instanceof ApiError && err.status === 400) msg.textContent = err.message;
    else handle(err);
  }
}

function orderRow(o) {
  return h(
    'tr',
    { 'data-order': o.orderId, class: o.orderId === ui.openOrderId ? 'selected' : undefined, onclick: () => void showOrder(o.orderId) },
    h('td', { class: 'mono', title: o.orderId }, shortId(o.orderId)),
    h('td', {}, o.customerId),
    h('td', {}, stateChip(o.status)),
    h('td', { class: 'num' }, money(o.total)),
    h('td', { class: 'muted small' }, ago(o.updatedAt)),
  );
}

/** The order's own id repeats in every payload of its timeline; leave it out there. */
function withoutOrderId(data) {
  if (!data || typeof data !== 'object' || Array.isArray(data) || data.orderId !== ui.openOrderId) return data;
  const { orderId: _omit, ...rest } = data;
  return rest;
}

function timelineRow(e) {
  let kind = 'message';
  let what;
  if (e.type === 'transition') {
    kind = 'transition';
    const event = e.data && typeof e.data === 'object' ? e.data.event : '';
    what = [e.from ? stateChip(e.from) : h('span', { class: 'muted' }, 'start'), h('span', { class: 'arrow' }, '→'), stateChip(e.to), h('span', { class: 'muted small' }, ` on ${event}`)];
  } else if (e.type === 'ordo.step.retry-scheduled' || e.type === 'ordo.step.resent') {
    // The engine's retries of a step (or compensation) command.
    kind = 'retry';
    const d = e.data ?? {};
    const step = `${d.step}${d.compensation ? ' (compensation)' : ''}`;
    what =
      e.type === 'ordo.step.resent'
        ? [h('b', {}, step), ` sent again (attempt ${d.attempt})`]
        : [h('b', {}, step), ` attempt ${d.attempt} failed: `, h('span', { class: 'why' }, String(d.reason)), h('span', { class: 'muted small' }, ` · retry in ${d.retryInMs} ms`)];
  } else {
    const [prefix, name] = e.type.includes(':') ? e.type.split(/:(.*)/s) : ['', e.type];
    kind = prefix || (e.type.startsWith('ordo.') ? 'engine' : 'message');
    const retry = e.data && typeof e.data === 'object' && typeof e.data.attempt === 'number' && e.data.attempt > 1 ? h('span', { class: 'chip compensation' }, `retry ${e.data.attempt}`) : null;
    what = [h('b', {}, name), retry, h('span', { class: 'mono small muted' }, ` ${compact(withoutOrderId(e.data))}`)];
  }
  return h('tr', { class: `tl ${kind}`, 'data-kind': kind, 'data-from': e.from, 'data-to': e.to }, h('td', { class: 'mono small muted' }, time(e.at)), h('td', {}, h('span', { class: `badge ${kind}` }, kind)), h('td', {}, what));
}

async function showOrder(id, quiet = false) {
  let o;
  try {
    o = await api(`/orders/${encodeURIComponent(id)}`);
  } catch (err) {
    if (!quiet) handle(err);
    return;
  }
  const version = `${o.status}:${o.timeline.length}`;
  if (quiet && ui.openOrderId === id && ui.openOrderVersion === version) return;
  ui.openOrderId = id;
  ui.openOrderVersion = version;
  for (const tr of document.querySelectorAll('#orders tbody tr')) tr.classList.toggle('selected', tr.getAttribute('data-order') === id);
  $('#order-title').textContent = o.orderId;
  const actions = [];
  if (canCancel(o.status)) actions.push(h('button', { class: 'action', 'data-action': 'compensate', onclick: () => void compensate(o.orderId) }, 'cancel & compensate'));
  if (canRetry(o.status)) actions.push(h('button', { class: 'action', 'data-action': 'retry-compensation', onclick: () => void retryCompensation(o.orderId) }, 'retry compensation'));
  actions.push(h('button', { class: 'action', 'data-action': 'time-travel', onclick: () => void openTimeTravel(o.orderId).catch(handle) }, 'time travel'));
  $('#order-actions').replaceChildren(...actions);
  $('#order-detail').replaceChildren(
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'status'),
      h('dd', { id: 'order-status' }, stateChip(o.status)),
      h('dt', {}, 'customer'),
      h('dd', {}, o.customerId),
      h('dt', {}, 'total'),
      h('dd', {}, money(o.total)),
      h('dt', {}, 'items'),
      h('dd', {}, o.items.map((i) => `${i.quantity} × ${i.sku}`).join(', ')),
      o.failureReason ? [h('dt', {}, 'why'), h('dd', { class: 'why' }, o.failureReason)] : null,
      h('dt', {}, 'created'),
      h('dd', { class: 'small' }, `${new Date(o.createdAt).toLocaleString()} (${ago(o.createdAt)})`),
    ),
    h('table', { class: 'timeline', id: 'timeline' }, h('tbody', {}, o.timeline.map(timelineRow))),
  );
}

// ---- wiring ----------------------------------------------------------------

async function start() {
  const token = initToken();
  const saved = Number(sessionStorage.getItem(STUCK_KEY));
  if (saved >= 1) $('#stuck-after').value = String(saved);
  $('#stuck-after').addEventListener('change', () => {
    sessionStorage.setItem(STUCK_KEY, String(stuckAfter()));
    listen();
  });
  $('#reconcile-now').addEventListener('click', () => void reconcileNow());
  $('#token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    setToken($('#token-input').value.trim());
    $('#token-input').value = '';
    banner('');
    void boot();
  });
  $('#search').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void search();
  });
  $('#more').addEventListener('click', () => void search(true));
  if (token) await boot();
  else {
    connected(false, 'no token');
    banner('Paste the admin token (ordo start prints it) in the box at the top right, or open the link ordo start prints.', 'info');
  }
}

async function boot() {
  try {
    await loadMachine();
    listen();
    banner('');
    await search();
  } catch (err) {
    handle(err);
  }
}

void start();
