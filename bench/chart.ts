/**
 * The report's chart, hand-written SVG (no charting dependency for two line plots): throughput and p99 against
 * concurrency, side by side, both on logarithmic axes (a hello-world answers thousands per second, a durable create
 * tens), one line per case, the ceilings dashed, one legend below for both.
 */

export interface Series {
  name: string;
  points: { x: number; y: number }[];
  dashed?: boolean;
}

export interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const W = 460;
const H = 300;
const M = { left: 64, right: 16, top: 34, bottom: 44 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (n: number) => (n >= 1000 ? `${Math.round(n / 100) / 10}k` : n >= 1 ? String(Math.round(n * 10) / 10) : String(Number(n.toPrecision(2))));

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  const decades = Math.log10(max / min);
  const steps = decades <= 2 ? [1, 2, 5] : [1];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const s of steps) {
      const v = s * 10 ** e;
      if (v >= min * 0.999 && v <= max * 1.001) ticks.push(v);
    }
  }
  return ticks;
}

function panel(p: Panel, x0: number, xs: number[], colorOf: (name: string) => string): string {
  const ys = p.series.flatMap((s) => s.points.map((q) => q.y)).filter((y) => Number.isFinite(y) && y > 0);
  const out: string[] = [`<text x="${x0 + W / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`];
  const left = x0 + M.left;
  const right = x0 + W - M.right;
  const top = M.top;
  const bottom = H - M.bottom;
  out.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#999"/>`);
  if (ys.length === 0) {
    out.push(`<text x="${(left + right) / 2}" y="${(top + bottom) / 2}" text-anchor="middle" fill="#666">no figures</text>`);
    return out.join('\n');
  }
  const yMin = 10 ** Math.floor(Math.log10(Math.min(...ys)));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys)) + (Math.max(...ys) === yMin ? 1 : 0));
  const ly = (y: number) => bottom - ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (bottom - top);
  const lxs = xs.map((x) => Math.log2(x));
  const span = Math.max(...lxs) - Math.min(...lxs);
  const lx = (x: number) => (span === 0 ? (left + right) / 2 : left + 20 + ((Math.log2(x) - Math.min(...lxs)) / span) * (right - left - 40));
  for (const t of logTicks(yMin, yMax)) {
    out.push(`<line x1="${left}" x2="${right}" y1="${ly(t)}" y2="${ly(t)}" stroke="#eee"/>`);
    out.push(`<text x="${left - 6}" y="${ly(t) + 4}" text-anchor="end" font-size="11">${num(t)}</text>`);
  }
  for (const x of xs) {
    out.push(`<line x1="${lx(x)}" x2="${lx(x)}" y1="${bottom}" y2="${bottom + 4}" stroke="#999"/>`);
    out.push(`<text x="${lx(x)}" y="${bottom + 16}" text-anchor="middle" font-size="11">${x}</text>`);
  }
  out.push(`<text x="${(left + right) / 2}" y="${H - 8}" text-anchor="middle" font-size="12">concurrent clients</text>`);
  out.push(`<text transform="translate(${x0 + 14} ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(p.yLabel)}</text>`);
  for (const s of p.series) {
    const pts = s.points.filter((q) => Number.isFinite(q.y) && q.y > 0).sort((a, b) => a.x - b.x);
    if (pts.length === 0) continue;
    const color = colorOf(s.name);
    const d = pts.map((q, i) => `${i === 0 ? 'M' : 'L'}${lx(q.x).toFixed(1)},${ly(q.y).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    for (const q of pts) out.push(`<circle cx="${lx(q.x).toFixed(1)}" cy="${ly(q.y).toFixed(1)}" r="3" fill="${color}"><title>${esc(`${s.name}, c=${q.x}: ${num(q.y)}`)}</title></circle>`);
  }
  return out.join('\n');
}

export function chartSvg(title: string, panels: Panel[]): string {
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name)))];
  const dashed = new Set(panels.flatMap((p) => p.series.filter((s) => s.dashed).map((s) => s.name)));
  const colorOf = (name: string) => COLORS[names.indexOf(name) % COLORS.length]!;
  const xs = [...new Set(panels.flatMap((p) => p.series.flatMap((s) => s.points.map((q) => q.x))))].sort((a, b) => a - b);
  const width = W * panels.length;
  const legendTop = H + 26;
  const height = legendTop + names.length * 18 + 8;
  const legend = names.map((n, i) => {
    const y = legendTop + i * 18;
    return (
      `<line x1="${M.left}" x2="${M.left + 28}" y1="${y - 4}" y2="${y - 4}" stroke="${colorOf(n)}" stroke-width="2"${dashed.has(n) ? ' stroke-dasharray="6 4"' : ''}/>` +
      `<text x="${M.left + 36}" y="${y}" font-size="12">${esc(n)}</text>`
    );
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="${H + 8}" text-anchor="middle" font-size="12" fill="#444">${esc(title)}</text>`,
    ...panels.map((p, i) => panel(p, i * W, xs, colorOf)),
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}
