/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return --
   plain browser JavaScript without type annotations (no build step): values are `any` to the type checker; the other typed rules still apply. */
/* global document */
// Time travel: one order's history across the services, one message at a time, with the
// machine diagram showing the order's state at that point and the participants beside it.
import { api } from './api.js';
import { $, compact, h, time } from './dom.js';

const tt = { orderId: null, steps: [], at: 0 };

function highlight(state) {
  for (const g of document.querySelectorAll('#diagram .state')) g.classList.toggle('current', g.getAttribute('data-state') === state);
}

function render() {
  const s = tt.steps[tt.at];
  const box = $('#time-travel');
  if (!s) return;
  highlight(s.orderState);
  const what = s.type === 'transition' ? `${s.from ?? 'start'} → ${s.to}` : s.type;
  box.replaceChildren(
    h(
      'div',
      { class: 'tt-head' },
      h('button', { class: 'action', 'data-tt': 'first', onclick: () => go(0), disabled: tt.at === 0 }, 'first'),
      h('button', { class: 'action', 'data-tt': 'back', onclick: () => go(tt.at - 1), disabled: tt.at === 0 }, '◀ back'),
      h('span', { class: 'tt-pos', id: 'tt-pos' }, `step ${tt.at + 1} / ${tt.steps.length}`),
      h('button', { class: 'action', 'data-tt': 'forward', onclick: () => go(tt.at + 1), disabled: tt.at === tt.steps.length - 1 }, 'forward ▶'),
      h('button', { class: 'action', 'data-tt': 'last', onclick: () => go(tt.steps.length - 1), disabled: tt.at === tt.steps.length - 1 }, 'last'),
      h('input', { type: 'range', min: 0, max: tt.steps.length - 1, value: tt.at, 'aria-label': 'step', oninput: (ev) => go(Number(ev.target.value)) }),
      h('button', { class: 'link', onclick: close }, 'close'),
    ),
    h(
      'div',
      { class: 'tt-step', 'data-service': s.service },
      h('span', { class: 'mono small muted' }, time(s.at)),
      h('span', { class: 'chip normal' }, s.service),
      h('b', { id: 'tt-what' }, what),
      h('span', { class: 'mono small muted' }, compact(s.data)),
    ),
    h(
      'table',
      { class: 'tt-participants' },
      h('tbody', {}, h('tr', {}, h('th', {}, 'order'), h('td', { id: 'tt-order-state' }, s.orderState || '–')), ...Object.entries(s.participants).map(([p, v]) => h('tr', { 'data-participant': p }, h('th', {}, p), h('td', {}, v)))),
    ),
  );
}

function go(i) {
  tt.at = Math.max(0, Math.min(tt.steps.length - 1, i));
  render();
}

function close() {
  tt.orderId = null;
  highlight(null);
  $('#time-travel').hidden = true;
}

/** Opens time travel for an order at its first step. */
export async function openTimeTravel(orderId) {
  const r = await api(`/admin/orders/${encodeURIComponent(orderId)}/history`);
  tt.orderId = orderId;
  tt.steps = r.steps;
  tt.at = 0;
  $('#time-travel').hidden = false;
  render();
  $('#time-travel').scrollIntoView({ block: 'nearest' });
}
