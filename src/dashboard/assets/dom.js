/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return --
   plain browser JavaScript without type annotations (no build step): values are `any` to the type checker; the other typed rules still apply. */
/* global document */
// Tiny DOM helpers. Text always goes in as text nodes: payloads come from outside.

/** `h('td', { class: 'x', onclick: f }, 'text', child)` */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return node;
}

export const $ = (selector) => document.querySelector(selector);

export function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

export function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}

/** Whole cents as units, exact up to 2^53 − 1 (`(cents / 100).toFixed(2)` misprints about 8 % of large amounts). */
export function money(cents) {
  if (typeof cents !== 'number' || !Number.isSafeInteger(cents)) return '';
  const abs = Math.abs(cents);
  const rest = abs % 100;
  return `${cents < 0 ? '-' : ''}${(abs - rest) / 100}.${String(rest).padStart(2, '0')}`;
}

export const shortId = (id) => (typeof id === 'string' && id.length > 13 ? `${id.slice(0, 8)}…` : String(id ?? ''));

export function compact(value) {
  if (value === undefined || value === null) return '';
  const s = JSON.stringify(value);
  return s === '{}' ? '' : s.length > 160 ? `${s.slice(0, 157)}…` : s;
}
