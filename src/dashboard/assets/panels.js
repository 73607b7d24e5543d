/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return --
   plain browser JavaScript without type annotations (no build step): values are `any` to the type checker; the other typed rules still apply. */
import { $, ago, h } from './dom.js';

/** Stock per SKU as the inventory service reports it. */
export function renderInventory(items) {
  const rows = items.map((i) =>
    h(
      'tr',
      { 'data-sku': i.sku },
      h('td', { class: 'mono' }, i.sku),
      h('td', { class: 'num' }, String(i.available)),
      h('td', { class: 'num' }, String(i.reserved)),
      h('td', { class: 'num' }, String(i.shipped)),
      h('td', {}, h('span', { class: 'bar' }, ...['available', 'reserved', 'shipped'].map((k) => h('i', { class: k, style: `flex-grow:${Math.max(0, Number(i[k]) || 0)}` })))),
    ),
  );
  $('#inventory tbody').replaceChildren(...rows);
}

/**
 * The participant services' dead letters (the engine's are in the list above them). A
 * waiting one has a replay button (`onReplay(service, id)`); a replayed one says by whom
 * and what became of it.
 */
export function renderServiceDeadLetters(letters, onReplay) {
  const node = $('#service-dead-letters');
  if (letters.length === 0) {
    node.replaceChildren(h('p', { class: 'muted small' }, 'inventory, payment, shipping: none'));
    return;
  }
  node.replaceChildren(
    h(
      'ul',
      { class: 'worklist' },
      letters.map((d) =>
        h(
          'li',
          { class: 'item dead', 'data-service-dead-letter': `${d.service}:${d.id}` },
          h('div', { class: 'row' }, h('span', { class: 'chip normal' }, d.service), h('span', { class: 'kind' }, d.type), h('span', { class: 'muted small right' }, ago(d.createdAt))),
          h('div', { class: 'why small' }, d.reason),
          d.replayedAt
            ? h('div', { class: 'muted small', 'data-replayed': d.replayOutcome }, `replayed ${ago(d.replayedAt)} by ${d.replayedBy}: ${d.replayOutcome}`)
            : h('div', { class: 'row' }, h('button', { class: 'action', 'data-action': 'replay-service', onclick: () => onReplay(d.service, d.id) }, 'replay')),
        ),
      ),
    ),
  );
}
