// Formatting shared by the HTML, CSV and terminal outputs: variant labels and colours, numbers, escaping.

import type { Variant } from '../experiments/types.js';

export const VARIANT_LABEL: Record<Variant, string> = {
  none: 'Baseline',
  layer: 'LayerNorm',
  'layer-stock': 'LayerNorm (tf.layers)',
  rms: 'RMSNorm',
  prms: 'pRMSNorm',
  l2: 'L2-Norm',
};

// Colour-blind-safe (Okabe–Ito) colours, one per variant; extra p values of pRMSNorm get the spare ones.
export const VARIANT_COLOR: Record<Variant, string> = {
  none: '#000000',
  layer: '#E69F00',
  'layer-stock': '#8c6d00',
  rms: '#0072B2',
  prms: '#009E73',
  l2: '#CC79A7',
};
const SPARE_COLORS = ['#56B4E9', '#D55E00', '#F0E442', '#999999', '#332288', '#882255'];

/** Label of a variant with its p when given, e.g. "pRMSNorm (p=6.25%)". */
export function variantLabel(variant: Variant, p?: number): string {
  const base = VARIANT_LABEL[variant] ?? variant;
  return variant === 'prms' && p !== undefined ? `${base} (p=${+(p * 100).toFixed(2)}%)` : base;
}

/** Colour for a (variant, p) series; pRMSNorm at p other than 6.25% or 12.5% takes a spare colour. */
export function variantColor(variant: Variant, p?: number, spareIndex = 0): string {
  if (variant === 'prms' && p !== undefined && p !== 0.0625 && p !== 0.125) return SPARE_COLORS[spareIndex % SPARE_COLORS.length] as string;
  return VARIANT_COLOR[variant] ?? '#777777';
}

/** `digits` significant digits (integers as they are), exponent only for tiny/huge values; '–' for null. */
export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined) return '–';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (Number.isInteger(x) && a < 1e6) return String(x); // counts and round numbers: no spurious ".00"

  if (a >= 1e6 || a < 1e-4) return x.toExponential(digits - 1);
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(a)));
  return x.toFixed(Math.min(decimals, 6));
}

/** Percentage with one decimal, e.g. 0.247 → "24.7%". */
export function pct(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return `${(x * 100).toFixed(1)}%`;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
