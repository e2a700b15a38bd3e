// Inline SVG grouped bar chart (no chart library): one group per shape × norm, one bar per implementation.

const COLORS = ['#2f6fdf', '#e07b24', '#2a9d5b', '#8e44ad'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * SVG of `values[group][series]` (null = not measured) as grouped bars from 0, with value labels.
 * @example barChart('forward', ['1024×1024 RMSNorm'], ['ours', 'tfjs'], [[3.1, 1]], (v) => `${v.toFixed(1)}×`)
 */
export function barChart(title: string, groups: string[], series: string[], values: (number | null)[][], label: (v: number) => string): string {
  const left = 40, right = 10, top = 48, bottom = 62, H = 300;
  const W = Math.max(540, left + right + 64 * groups.length); // ≥ 64 px per group: its labels never overlap
  const max = Math.max(1, ...values.flat().filter((v): v is number => v !== null && Number.isFinite(v)));
  const plotW = W - left - right, plotH = H - top - bottom;
  const groupW = plotW / Math.max(1, groups.length);
  const barW = Math.min(24, (groupW - 6) / Math.max(1, series.length));
  const yOf = (v: number) => top + plotH - (v / max) * plotH;
  const parts: string[] = [`<text x="${left}" y="18" font-size="14" font-weight="600">${esc(title)}</text>`];
  series.forEach((s, i) => parts.push(
    `<rect x="${left + i * 200}" y="26" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`
    + `<text x="${left + 14 + i * 200}" y="35" font-size="11">${esc(s)}</text>`));
  parts.push(`<line x1="${left}" y1="${yOf(0)}" x2="${W - right}" y2="${yOf(0)}" stroke="#888"/>`);
  parts.push(`<line x1="${left}" y1="${yOf(1)}" x2="${W - right}" y2="${yOf(1)}" stroke="#bbb" stroke-dasharray="3 3"/>`
    + `<text x="${left - 4}" y="${yOf(1) + 4}" font-size="10" text-anchor="end">1×</text>`);
  groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + (groupW - barW * series.length) / 2;
    values[gi].forEach((v, si) => {
      if (v === null || !Number.isFinite(v)) return;
      const x = x0 + si * barW;
      parts.push(`<rect class="bar" x="${x.toFixed(1)}" y="${yOf(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(yOf(0) - yOf(v)).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${g} ${series[si]}: ${label(v)}`)}</title></rect>`);
      parts.push(`<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(yOf(v) - 3).toFixed(1)}" font-size="9" text-anchor="middle">${esc(label(v))}</text>`);
    });
    const [shape, norm] = g.split(' ');
    const cx = left + gi * groupW + groupW / 2;
    parts.push(`<text x="${cx.toFixed(1)}" y="${H - bottom + 16}" font-size="10" text-anchor="middle">${esc(norm ?? '')}</text>`
      + `<text x="${cx.toFixed(1)}" y="${H - bottom + 30}" font-size="10" text-anchor="middle" fill="#666">${esc(shape)}</text>`);
  });
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif">${parts.join('')}</svg>`;
}
