/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return --
   plain browser JavaScript without type annotations (no build step): values are `any` to the type checker; the other typed rules still apply. */
/* global document */
// Small line charts drawn as SVG from the points the server kept (no library, no CDN).

const NS = 'http://www.w3.org/2000/svg';
const W = 320;
const H = 130;
const PAD = { l: 34, r: 8, t: 8, b: 18 };
export const COLORS = ['#2563eb', '#16a34a', '#d97706', '#dc2626', '#7c3aed', '#0891b2'];

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

const clock = (t) => new Date(t).toLocaleTimeString([], { hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit' });

/**
 * Draws `series` ([{ name, points: [{ t: ms, v: number|null }] }]) into `container`: one
 * polyline per series (gaps where v is null), y from 0 to a round maximum, time on x.
 */
export function lineChart(container, title, series, unit = '') {
  const all = series.flatMap((s) => s.points.filter((p) => p.v !== null && p.v !== undefined));
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', class: 'chart', role: 'img', 'aria-label': title, 'data-points': String(all.length) });
  const x0 = PAD.l;
  const x1 = W - PAD.r;
  const y0 = H - PAD.b;
  const y1 = PAD.t;
  const ts = series.flatMap((s) => s.points.map((p) => p.t));
  const tMin = ts.length ? Math.min(...ts) : 0;
  const tMax = ts.length ? Math.max(...ts) : 1;
  const vMax = niceMax(Math.max(0, ...all.map((p) => p.v)));
  const x = (t) => (tMax === tMin ? x1 : x0 + ((t - tMin) / (tMax - tMin)) * (x1 - x0));
  const y = (v) => y0 - (v / vMax) * (y0 - y1);
  for (const f of [0, 0.5, 1]) {
    svg.append(el('line', { x1: x0, x2: x1, y1: y(vMax * f), y2: y(vMax * f), class: 'grid' }));
    svg.append(el('text', { x: x0 - 4, y: y(vMax * f) + 3, 'text-anchor': 'end', class: 'axis' }, `${+(vMax * f).toFixed(2)}${unit}`));
  }
  if (ts.length) {
    svg.append(el('text', { x: x0, y: H - 4, class: 'axis' }, clock(tMin)));
    svg.append(el('text', { x: x1, y: H - 4, 'text-anchor': 'end', class: 'axis' }, clock(tMax)));
  } else {
    svg.append(el('text', { x: (x0 + x1) / 2, y: (y0 + y1) / 2, 'text-anchor': 'middle', class: 'axis' }, 'waiting for the first points…'));
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    let run = [];
    const flush = () => {
      if (run.length > 1) svg.append(el('polyline', { points: run.join(' '), fill: 'none', stroke: color, 'stroke-width': 1.8, 'data-series': s.name }));
      else if (run.length === 1) {
        const [cx, cy] = run[0].split(',');
        svg.append(el('circle', { cx, cy, r: 2.2, fill: color, 'data-series': s.name }));
      }
      run = [];
    };
    for (const p of s.points) {
      if (p.v === null || p.v === undefined) flush();
      else run.push(`${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`);
    }
    flush();
  });
  const legend = document.createElement('div');
  legend.className = 'chart-legend small';
  series.forEach((s, i) => {
    const last = [...s.points].reverse().find((p) => p.v !== null && p.v !== undefined);
    const item = document.createElement('span');
    item.innerHTML = '<i></i>';
    item.firstChild.style.background = COLORS[i % COLORS.length];
    item.append(document.createTextNode(`${s.name} ${last ? `${+last.v.toFixed(2)}${unit}` : '–'}`));
    legend.append(item);
  });
  const head = document.createElement('div');
  head.className = 'chart-title';
  head.textContent = title;
  container.replaceChildren(head, svg, legend);
}

/** The four charts of the operator's page from the kept samples. */
export function renderCharts(root, samples) {
  const t = (s) => Date.parse(s.at);
  const keys = (field) => [...new Set(samples.flatMap((s) => Object.keys(s[field] ?? {})))].sort();
  const per = (field) => keys(field).map((k) => ({ name: k, points: samples.map((s) => ({ t: t(s), v: s[field]?.[k] ?? null })) }));
  lineChart(root.querySelector('[data-chart="throughput"]'), 'orders per minute', [
    { name: 'started', points: samples.map((s) => ({ t: t(s), v: s.startedPerMinute })) },
    { name: 'finished', points: samples.map((s) => ({ t: t(s), v: s.finishedPerMinute })) },
  ]);
  lineChart(
    root.querySelector('[data-chart="latency"]'),
    'completion latency (orders finished in the last minute)',
    ['p50', 'p90', 'p99'].map((p) => ({ name: p, points: samples.map((s) => ({ t: t(s), v: s.latency?.[p] ?? null })) })),
    ' s',
  );
  lineChart(root.querySelector('[data-chart="outbox"]'), 'outbox lag (messages not yet forwarded)', per('outboxLag'));
  lineChart(root.querySelector('[data-chart="dead"]'), 'dead letters waiting', per('deadLetters'));
}
