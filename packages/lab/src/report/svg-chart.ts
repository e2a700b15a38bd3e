// A dependency-free SVG line chart for the report: linear axes with "nice" ticks, one path per series, gaps where
// a value is NaN/±Inf (diverged runs), and values far above the bulk clipped to the top edge with a marker.

import { escapeHtml, fmt } from './format.js';

export interface ChartSeries {
  name: string;
  color: string;
  /** [x, y] pairs in x order; a non-finite y breaks the line. */
  points: ReadonlyArray<readonly [number, number]>;
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
  width?: number;
  height?: number;
  /** Force the y range (otherwise from the data, outliers clipped). */
  yMin?: number;
  yMax?: number;
}

/**
 * Tick values covering [lo, hi] at a step of 1, 2, 2.5 or 5 × 10^k, about `count` of them.
 * @example
 * niceTicks(0, 1, 5); // [0, 0.2, 0.4, 0.6, 0.8, 1]
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : +v.toPrecision(12));
  return out;
}

/** A tick label with just enough decimals for the tick spacing (0.2 → "0.2", 50 → "50", 2.5e-5 → "2.5e-5"). */
export function tickLabel(v: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs((ticks[1] as number) - (ticks[0] as number)) : Math.abs(v) || 1;
  if (v === 0) return '0';
  const a = Math.abs(v);
  const big = Math.max(...ticks.map(Math.abs), a) >= 1e6;
  if (big || step < 1e-3) return +v.toExponential(2) === v ? v.toExponential() : v.toExponential(2);
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9) + (step / 10 ** Math.floor(Math.log10(step) + 1e-9) === 2.5 ? 1 : 0)));
  return v.toFixed(decimals);
}

function quantileSorted(s: number[], q: number): number {
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return (s[lo] as number) + ((s[Math.ceil(pos)] as number) - (s[lo] as number)) * (pos - lo);
}

/** y range from the data: [min, max] padded 5%, the top capped when a few values dwarf the rest. */
function yDomain(ys: number[], opts: LineChartOptions): { lo: number; hi: number; clipped: boolean } {
  const s = [...ys].sort((a, b) => a - b);
  let lo = opts.yMin ?? (s[0] as number);
  let hi = opts.yMax ?? (s[s.length - 1] as number);
  let clipped = false;
  if (opts.yMax === undefined && s.length >= 10) {
    const q05 = quantileSorted(s, 0.05);
    const q95 = quantileSorted(s, 0.95);
    const cap = q95 + 2 * (q95 - q05);
    if (hi > cap && cap > lo) {
      hi = cap;
      clipped = true;
    }
  }
  if (!(hi > lo)) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= d;
    hi += d;
  }
  const pad = (hi - lo) * 0.05;
  return { lo: opts.yMin ?? lo - pad, hi: clipped ? hi : (opts.yMax ?? hi + pad), clipped };
}

/** Plot margins (px) around the axes; the legend goes below `height`. */
const MARGIN = { left: 62, right: 14, top: 30, bottom: 46 };

/** Where the chart's parts go and how data maps to pixels. */
interface Frame {
  plotW: number;
  plotH: number;
  xlo: number;
  xhi: number;
  yd: { lo: number; hi: number; clipped: boolean };
  X: (x: number) => number;
  Y: (y: number) => number;
}

/**
 * Render a line chart as a standalone <svg> string (inline styles only, no scripts).
 * @example
 * lineChart({ title: 'loss', xLabel: 'step', yLabel: 'loss', series: [{ name: 'RMSNorm', color: '#0072B2', points: [[0, 3], [1, 2]] }] });
 */
export function lineChart(opts: LineChartOptions): string {
  const W = opts.width ?? 460;
  const H = opts.height ?? 300;
  const legend = legendLayout(opts.series, W, H);
  const totalH = legend.bottom + 12; // the legend's last row + its height
  const parts: string[] = [
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${totalH}" viewBox="0 0 ${W} ${totalH}" role="img" aria-label="${escapeHtml(opts.title)}">`,
    `<title>${escapeHtml(opts.title)}</title>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="600">${escapeHtml(opts.title)}</text>`,
  ];
  const frame = frameOf(opts, W, H);
  if (frame === null) {
    parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="12" fill="#666">no finite data</text></svg>`);
    return parts.join('');
  }
  parts.push(...axes(frame, opts));
  for (const s of opts.series) parts.push(...seriesPath(s, frame));
  if (frame.yd.clipped) {
    parts.push(`<text x="${MARGIN.left + frame.plotW - 4}" y="${MARGIN.top + 12}" text-anchor="end" font-size="10" fill="#a00">▲ values above ${fmt(frame.yd.hi, 3)} clipped</text>`);
  }
  parts.push(...legendItems(opts.series, legend.items), '</svg>');
  return parts.join('');
}

/** Legend entries below the plot, flowing left to right and wrapping (text width estimated at 6.8 px per character). */
function legendLayout(series: readonly ChartSeries[], W: number, H: number): { items: Array<{ index: number; x: number; y: number }>; bottom: number } {
  const items: Array<{ index: number; x: number; y: number }> = [];
  let lx = MARGIN.left;
  let ly = H + 4;
  series.forEach((s, index) => {
    const w = 38 + 6.8 * s.name.length;
    if (lx > MARGIN.left && lx + w > W - 4) {
      lx = MARGIN.left;
      ly += 16;
    }
    items.push({ index, x: lx, y: ly });
    lx += w;
  });
  return { items, bottom: ly };
}

/** The data ranges and the data → pixel maps, or null when no point is finite. */
function frameOf(opts: LineChartOptions, W: number, H: number): Frame | null {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of opts.series)
    for (const [x, y] of s.points) {
      if (Number.isFinite(x)) xs.push(x);
      if (Number.isFinite(y)) ys.push(y);
    }
  if (xs.length === 0 || ys.length === 0) return null;
  const plotW = W - MARGIN.left - MARGIN.right;
  const plotH = H - MARGIN.top - MARGIN.bottom;
  const xlo = Math.min(...xs);
  let xhi = Math.max(...xs);
  if (!(xhi > xlo)) xhi = xlo + 1;
  const yd = yDomain(ys, opts);
  const X = (x: number): number => MARGIN.left + ((x - xlo) / (xhi - xlo)) * plotW;
  const Y = (y: number): number => MARGIN.top + (1 - (y - yd.lo) / (yd.hi - yd.lo)) * plotH;
  return { plotW, plotH, xlo, xhi, yd, X, Y };
}

/** Grid lines, ticks with labels, the plot frame and the axis labels. */
function axes(fr: Frame, opts: LineChartOptions): string[] {
  const m = MARGIN;
  const parts: string[] = [];
  const yTicks = niceTicks(fr.yd.lo, fr.yd.hi, 5);
  const xTicks = niceTicks(fr.xlo, fr.xhi, 5);
  for (const t of yTicks) {
    if (t < fr.yd.lo || t > fr.yd.hi) continue;
    const y = fr.Y(t).toFixed(1);
    parts.push(`<line x1="${m.left}" x2="${m.left + fr.plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y}" dy="0.32em" text-anchor="end" font-size="11" fill="#333">${tickLabel(t, yTicks)}</text>`);
  }
  for (const t of xTicks) {
    if (t < fr.xlo || t > fr.xhi) continue;
    const x = fr.X(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.top + fr.plotH}" y2="${m.top + fr.plotH + 4}" stroke="#333"/>`);
    parts.push(`<text x="${x}" y="${m.top + fr.plotH + 16}" text-anchor="middle" font-size="11" fill="#333">${tickLabel(t, xTicks)}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${fr.plotW}" height="${fr.plotH}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.left + fr.plotW / 2}" y="${m.top + fr.plotH + 34}" text-anchor="middle" font-size="12">${escapeHtml(opts.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${m.top + fr.plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeHtml(opts.yLabel)}</text>`);
  return parts;
}

/** One series: a path with a new sub-path after each gap; clipped points drawn at the top with a marker. */
function seriesPath(s: ChartSeries, fr: Frame): string[] {
  let d = '';
  let pen = false;
  const marks: string[] = [];
  for (const [x, y] of s.points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    const px = fr.X(x).toFixed(1);
    const py = fr.Y(Math.min(Math.max(y, fr.yd.lo), fr.yd.hi)).toFixed(1);
    d += `${pen ? 'L' : 'M'}${px} ${py}`;
    pen = true;
    if (y > fr.yd.hi) marks.push(`<path d="M${px} ${MARGIN.top - 1}l-3 -5h6z" fill="${s.color}"/>`);
  }
  const parts: string[] = [];
  if (d !== '') {
    parts.push(`<path class="series" d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed === true ? ' stroke-dasharray="5 3"' : ''}><title>${escapeHtml(s.name)}</title></path>`);
  }
  // Thin out markers so a long clipped stretch does not paint a solid bar.
  parts.push(...marks.filter((_, i) => i % Math.max(1, Math.ceil(marks.length / 20)) === 0));
  return parts;
}

function legendItems(series: readonly ChartSeries[], items: Array<{ index: number; x: number; y: number }>): string[] {
  return items.map((item) => {
    const s = series[item.index] as ChartSeries;
    return `<g class="legend-item"><line x1="${item.x}" x2="${item.x + 18}" y1="${item.y}" y2="${item.y}" stroke="${s.color}" stroke-width="2.5"${s.dashed === true ? ' stroke-dasharray="5 3"' : ''}/><text x="${item.x + 23}" y="${item.y}" dy="0.32em" font-size="11">${escapeHtml(s.name)}</text></g>`;
  });
}
