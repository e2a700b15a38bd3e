// Interval bars for the claims table: each paired difference as its 95 % confidence interval (bar) and mean (dot)
// against the tolerance band ±tol (shaded) and 0 (line), one row per interval, inline SVG, no scripts.

import type { ClaimInterval } from '../experiments/types.js';
import { escapeHtml as h } from './format.js';

const W = 400;
const ROW = 22;
/** Two text lines (label, numbers) above each bar. */
const HEAD = 27;
const LEFT = 8;
const RIGHT = 8;

/** Signed number with 3 decimals (1 from 100 up) for a label; ±∞ for an unbounded end. */
function num(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '∞' : x < 0 ? '−∞' : 'NaN';
  const a = Math.abs(x);
  return `${x > 0 ? '+' : x < 0 ? '−' : ''}${a.toFixed(a >= 100 ? 1 : 3)}`;
}

/**
 * One SVG with a row per interval: shaded ±tol band, a vertical line at 0, the interval as a bar (open-ended arrows
 * when it is unbounded, e.g. one seed) and the mean as a dot; every row has its own scale (symmetric around 0).
 * @example intervalBars([{ label: 'char-lm: RMS − LN', task: 'char-lm', n: 3, mean: 0.01, lo: -0.02, hi: 0.04, tol: 0.06, position: 'inside' }])
 */
export function intervalBars(intervals: readonly ClaimInterval[]): string {
  if (intervals.length === 0) return '';
  const height = intervals.length * (ROW + HEAD) + 4;
  const rows = intervals.map((iv, i) => {
    const y0 = 4 + i * (ROW + HEAD);
    const finite = [iv.lo, iv.hi, iv.mean, iv.tol, -iv.tol].filter((v) => Number.isFinite(v)).map(Math.abs);
    const span = Math.max(...finite, 1e-12) * 1.15;
    const x = (v: number) => LEFT + ((Math.max(-span, Math.min(span, v)) + span) / (2 * span)) * (W - LEFT - RIGHT);
    const yMid = y0 + HEAD + ROW / 2;
    const color = iv.position === 'inside' || iv.position === 'above' ? '#0a6b2b' : iv.position === 'below' ? '#b00020' : '#8a6d00';
    const band = iv.tol > 0 ? `<rect x="${x(-iv.tol).toFixed(1)}" y="${y0 + HEAD}" width="${(x(iv.tol) - x(-iv.tol)).toFixed(1)}" height="${ROW}" fill="#e8f0e8"/>` : '';
    const lo = Number.isFinite(iv.lo) ? iv.lo : -span;
    const hi = Number.isFinite(iv.hi) ? iv.hi : span;
    const bar = `<line x1="${x(lo).toFixed(1)}" x2="${x(hi).toFixed(1)}" y1="${yMid}" y2="${yMid}" stroke="${color}" stroke-width="3"${Number.isFinite(iv.lo) && Number.isFinite(iv.hi) ? '' : ' stroke-dasharray="4 3"'}/>`;
    const caps = [iv.lo, iv.hi]
      .filter((v) => Number.isFinite(v))
      .map((v) => `<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${yMid - 5}" y2="${yMid + 5}" stroke="${color}" stroke-width="2"/>`)
      .join('');
    const dot = Number.isFinite(iv.mean) ? `<circle cx="${x(iv.mean).toFixed(1)}" cy="${yMid}" r="3.5" fill="${color}"/>` : '';
    const zero = `<line x1="${x(0).toFixed(1)}" x2="${x(0).toFixed(1)}" y1="${y0 + HEAD}" y2="${y0 + HEAD + ROW}" stroke="#555" stroke-width="1"/>`;
    const numbers = `${num(iv.mean)} [${num(iv.lo)}, ${num(iv.hi)}]${iv.tol > 0 ? ` · tol ±${num(iv.tol).replace('+', '')}` : ''} · n ${iv.n} · ${iv.position}`;
    return (
      `<text x="${LEFT}" y="${y0 + 11}" font-size="11" fill="#222">${h(iv.label)}</text>` +
      `<text x="${LEFT}" y="${y0 + 24}" font-size="11" fill="${color}">${h(numbers)}</text>${band}${zero}${bar}${caps}${dot}`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" class="intervals" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" role="img" aria-label="95% confidence intervals">${rows.join('')}</svg>`;
}
