/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return --
   plain browser JavaScript without type annotations (no build step): values are `any` to the type checker; the other typed rules still apply. */
/* global document */
// Draws a machine from its JSON definition (GET /admin/machine) as SVG, with no
// library: a layered layout where the column is the BFS depth from the initial
// state, the happy path (initial → deepest final state) is the top row, and the
// states off it go below — compensation in the middle lane, failures at the bottom.

const SVG = 'http://www.w3.org/2000/svg';
const BOX_W = 160;
const BOX_H = 58;
const COL_W = 196;
const ROW_H = 118;
const PAD = 24;

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** What kind of state this is, for its colour and its lane. */
export function stateKind(def) {
  const tags = def.tags ?? [];
  if (tags.includes('failure') || tags.includes('alert')) return 'failure';
  if (tags.includes('compensation')) return 'compensation';
  if (def.type === 'final') return 'final';
  return 'normal';
}

/** Positions every state: `{ name → { col, row, kind } }`, plus the grid size. */
export function layoutMachine(machine, edges) {
  const names = Object.keys(machine.states);
  const next = new Map(names.map((n) => [n, []]));
  for (const e of edges) if (e.from !== e.to) next.get(e.from)?.push(e.to);

  const depth = new Map([[machine.initial, 0]]);
  const parent = new Map();
  const queue = [machine.initial];
  while (queue.length > 0) {
    const s = queue.shift();
    for (const t of next.get(s) ?? []) {
      if (!depth.has(t)) {
        depth.set(t, (depth.get(s) ?? 0) + 1);
        parent.set(t, s);
        queue.push(t);
      }
    }
  }
  // Unreachable states (a definition problem, but draw them anyway) go after the rest.
  const maxDepth = Math.max(0, ...depth.values());
  for (const n of names) if (!depth.has(n)) depth.set(n, maxDepth + 1);

  // The happy path: the BFS chain to the deepest final state that is not a failure.
  const finals = names.filter((n) => machine.states[n].type === 'final' && stateKind(machine.states[n]) === 'final');
  const goal = finals.sort((a, b) => (depth.get(b) ?? 0) - (depth.get(a) ?? 0))[0];
  const happy = new Set();
  for (let s = goal; s !== undefined; s = parent.get(s)) happy.add(s);

  const lane = (n) => {
    if (happy.has(n)) return 0;
    const kind = stateKind(machine.states[n]);
    return kind === 'failure' ? 2 : 1;
  };
  // Each lane may need more than one row where two of its states share a column.
  const used = new Map();
  const rowsPerLane = [1, 1, 1];
  const placed = new Map();
  for (const n of names) {
    const l = lane(n);
    const col = depth.get(n) ?? 0;
    let sub = 0;
    while (used.has(`${l}:${sub}:${col}`)) sub += 1;
    used.set(`${l}:${sub}:${col}`, n);
    rowsPerLane[l] = Math.max(rowsPerLane[l], sub + 1);
    placed.set(n, { lane: l, sub, col, kind: happy.has(n) && stateKind(machine.states[n]) === 'final' ? 'success' : stateKind(machine.states[n]) });
  }
  const laneStart = [0, rowsPerLane[0], rowsPerLane[0] + rowsPerLane[1]];
  const hasLane = [true, names.some((n) => placed.get(n).lane === 1), names.some((n) => placed.get(n).lane === 2)];
  // Collapse empty lanes.
  let offset = 0;
  const laneRow = [0, 0, 0];
  for (let l = 0; l < 3; l++) {
    laneRow[l] = laneStart[l] - offset;
    if (!hasLane[l]) offset += rowsPerLane[l];
  }
  const positions = new Map();
  let cols = 0;
  let rows = 0;
  for (const [n, p] of placed) {
    const row = laneRow[p.lane] + p.sub;
    positions.set(n, { col: p.col, row, kind: p.kind });
    cols = Math.max(cols, p.col + 1);
    rows = Math.max(rows, row + 1);
  }
  return { positions, cols, rows, initial: machine.initial };
}

function centre(p) {
  return { x: PAD + p.col * COL_W + BOX_W / 2, y: PAD + 14 + p.row * ROW_H + BOX_H / 2 };
}

/** Where the line from the box centre towards (dx, dy) leaves the box. */
function border(c, dx, dy) {
  const sx = dx === 0 ? Infinity : BOX_W / 2 / Math.abs(dx);
  const sy = dy === 0 ? Infinity : BOX_H / 2 / Math.abs(dy);
  const s = Math.min(sx, sy);
  return { x: c.x + dx * s, y: c.y + dy * s };
}

/**
 * Renders the diagram into `container` and returns `update(counts)`, which sets the
 * live number in each state's box without redrawing.
 */
export function renderMachine(container, machine, edges, onStateClick) {
  const layout = layoutMachine(machine, edges);
  const width = PAD * 2 + (layout.cols - 1) * COL_W + BOX_W;
  const height = PAD * 2 + 14 + (layout.rows - 1) * ROW_H + BOX_H;
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'aria-label': `state machine ${machine.id} v${machine.version}`, class: 'machine' });
  const defs = el('defs');
  for (const kind of ['event', 'timer', 'always', 'failure']) {
    const marker = el('marker', { id: `arrow-${kind}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.append(el('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: `arrowhead ${kind}` }));
    defs.append(marker);
  }
  svg.append(defs);

  // One arrow per (from, to) pair; its tooltip lists every trigger.
  const pairs = new Map();
  for (const e of edges) {
    const key = `${e.from}→${e.to}`;
    const p = pairs.get(key) ?? { from: e.from, to: e.to, triggers: [], kinds: new Set() };
    p.triggers.push(`${e.kind === 'timer' ? `after ${e.trigger}` : e.trigger}${e.guard ? ` [${e.guard}]` : ''}`);
    p.kinds.add(e.kind);
    pairs.set(key, p);
  }
  const edgeLayer = el('g', { class: 'edges' });
  for (const p of pairs.values()) {
    const a = layout.positions.get(p.from);
    const b = layout.positions.get(p.to);
    if (!a || !b || p.from === p.to) continue;
    const ca = centre(a);
    const cb = centre(b);
    let dx = cb.x - ca.x;
    let dy = cb.y - ca.y;
    const len = Math.hypot(dx, dy) || 1;
    dx /= len;
    dy /= len;
    // Bend arrows that have a twin going back, or that would run through boxes in the same row.
    const twin = pairs.has(`${p.to}→${p.from}`);
    const skips = a.row === b.row && Math.abs(a.col - b.col) > 1;
    const bend = skips ? (a.row === 0 ? -46 : 46) : twin ? 16 : 0;
    const nx = -dy;
    const ny = dx;
    const mid = { x: (ca.x + cb.x) / 2 + nx * bend, y: (ca.y + cb.y) / 2 + ny * bend };
    const start = border(ca, mid.x - ca.x, mid.y - ca.y);
    const end = border(cb, mid.x - cb.x, mid.y - cb.y);
    const targetKind = layout.positions.get(p.to)?.kind;
    const kind = p.kinds.has('event') ? 'event' : p.kinds.has('timer') ? 'timer' : 'always';
    const cls = `edge ${kind}${targetKind === 'failure' || targetKind === 'compensation' ? ' to-failure' : ''}`;
    const path = el('path', {
      d: `M ${start.x} ${start.y} Q ${mid.x} ${mid.y} ${end.x} ${end.y}`,
      class: cls,
      'marker-end': `url(#arrow-${targetKind === 'failure' || targetKind === 'compensation' ? 'failure' : kind})`,
      'data-from': p.from,
      'data-to': p.to,
    });
    edgeLayer.append(path);
    // A wide invisible twin makes the thin arrow easy to hover for its triggers.
    const hover = el('path', { d: path.getAttribute('d'), class: 'edge-hover' });
    hover.append(el('title', {}, `${p.from} → ${p.to}\n${p.triggers.join('\n')}`));
    edgeLayer.append(hover);
  }
  svg.append(edgeLayer);

  const start = layout.positions.get(layout.initial);
  if (start) {
    const c = centre(start);
    svg.append(el('circle', { cx: c.x, cy: c.y - BOX_H / 2 - 12, r: 5, class: 'initial-dot' }));
    svg.append(el('line', { x1: c.x, y1: c.y - BOX_H / 2 - 7, x2: c.x, y2: c.y - BOX_H / 2 - 1, class: 'edge always' }));
  }

  const counts = new Map();
  for (const [name, p] of layout.positions) {
    const def = machine.states[name];
    const c = centre(p);
    const g = el('g', { class: `state ${p.kind}`, 'data-state': name, tabindex: 0, role: 'button', 'aria-label': `${name}: show its orders` });
    g.append(el('title', {}, `${name}${def.description ? `\n${def.description}` : ''}\nclick: list its orders`));
    g.append(el('rect', { x: c.x - BOX_W / 2, y: c.y - BOX_H / 2, width: BOX_W, height: BOX_H, rx: 9, ry: 9 }));
    if (def.type === 'final') g.append(el('rect', { x: c.x - BOX_W / 2 + 3, y: c.y - BOX_H / 2 + 3, width: BOX_W - 6, height: BOX_H - 6, rx: 7, ry: 7, class: 'final-ring' }));
    g.append(el('text', { x: c.x, y: c.y - 8, 'text-anchor': 'middle', class: 'state-name' }, name));
    const count = el('text', { x: c.x, y: c.y + 17, 'text-anchor': 'middle', class: 'state-count', 'data-count': name }, '–');
    g.append(count);
    g.addEventListener('click', () => onStateClick(name));
    g.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') onStateClick(name);
    });
    counts.set(name, { g, count });
    svg.append(g);
  }
  container.replaceChildren(svg);

  return function update(stateCounts) {
    for (const { state, count } of stateCounts) {
      const c = counts.get(state);
      if (!c) continue;
      c.count.textContent = String(count);
      c.g.classList.toggle('empty', count === 0);
    }
  };
}
