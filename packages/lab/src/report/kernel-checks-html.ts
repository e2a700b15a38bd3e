// The report's kernel-check tables (claims 6.1, 6.3, 6.4 measured live by `reproduce`): correctness per op, the
// gradient-law deviations, and forward+backward kernel times with the paper's speed-up over LayerNorm.
import type { KernelChecks } from '../experiments/types.js';
import { escapeHtml as h, fmt, pct } from './format.js';

const sci = (x: number): string => (Number.isFinite(x) ? x.toExponential(1) : fmt(x));

function correctnessTable(c: NonNullable<KernelChecks['correctness']>): string {
  const cols = [...new Set(c.f32.map((r) => `${r.backend}|${r.direction}`))];
  const head =
    `<tr><th class="l">op</th><th>FD max |fd − analytic|</th><th>FD max relative</th><th>cases</th>` +
    cols.map((k) => {
      const [backend, dir] = k.split('|') as [string, string];
      const atol = c.f32.find((r) => `${r.backend}|${r.direction}` === k)?.atol ?? NaN;
      return `<th>f32 ${h(backend)} ${dir === 'forward' ? 'fwd' : 'bwd'}<br><small>tol ${sci(atol)}</small></th>`;
    }).join('') +
    '</tr>';
  const body = c.perOp
    .map((o) => {
      const f32 = cols.map((k) => {
        const r = c.f32.find((x) => `${x.backend}|${x.direction}` === k && x.op === o.op);
        if (r === undefined) return '<td>–</td>';
        return `<td class="${r.ok ? '' : 'mismatch'}" title="worst error / allowed ${fmt(r.worstRatio, 2)}">${sci(r.scaledError)}</td>`;
      });
      return `<tr><td class="l">${h(o.op)}</td><td>${sci(o.maxAbsError)}</td><td class="${o.maxRelError <= c.threshold ? '' : 'mismatch'}">${sci(o.maxRelError)}</td><td>${o.cases}</td>${f32.join('')}</tr>`;
    })
    .join('');
  return (
    `<h3>Forward/backward correctness (claim 6.1)</h3><table class="kernel-correctness"><thead>${head}</thead><tbody>${body}</tbody></table>` +
    `<p class="note">Finite differences: float64 reference, L = Σ dy ⊙ y, gradients w.r.t. x, gamma, beta, fourth-order central differences (h = ${sci(c.h)}), shapes ${c.shapes.map(([r, cc]) => `${r}×${cc}`).join(', ')}, eps ${c.eps.join(', ')}; relative = error / the gradient's natural scale (rule ≤ ${sci(c.threshold)}). ` +
    `f32 columns: worst |public float32 op − float64 reference| / natural row scale over every shape and eps, against the tolerance table (packages/rmsnorm/src/check/tolerance.ts).</p>`
  );
}

function gradientTable(g: NonNullable<KernelChecks['gradientClaims']>): string {
  const keys = [...new Set(g.rows.map((r) => `${r.norm}|${r.quantity}|${r.transform}|${r.expected}`))];
  const body = keys
    .map((key) => {
      const rows = g.rows.filter((r) => `${r.norm}|${r.quantity}|${r.transform}|${r.expected}` === key);
      const [norm, quantity, transform, expected] = key.split('|') as [string, string, string, string];
      const cells = g.deltas.map((d) => {
        const r = rows.find((x) => x.delta === d);
        return r === undefined ? '<td>–</td>' : `<td class="${r.deviation <= g.threshold ? '' : 'mismatch'}">${sci(r.deviation)}</td>`;
      });
      const f32 = Math.max(...rows.map((r) => r.deviationF32));
      return `<tr><td class="l">${h(norm)}</td><td class="l">${h(quantity)}</td><td class="l">${h(transform)}</td><td class="l">${h(expected)}</td>${cells.join('')}<td>${sci(f32)}</td></tr>`;
    })
    .join('');
  return (
    `<h3>Gradient laws on a linear layer + RMSNorm (claim 6.3)</h3><table class="gradient-laws"><thead><tr><th class="l">norm</th><th class="l">gradient</th><th class="l">transform</th><th class="l">claim</th>` +
    `${g.deltas.map((d) => `<th>δ = ${d}</th>`).join('')}<th>float32 ops (max)</th></tr></thead><tbody>${body}</tbody></table>` +
    `<p class="note">y = norm(x Wᵀ), batch ${g.batch}, ${g.inputs} → ${g.outputs}, pRMSNorm k = ${g.k}, eps = ${g.eps}; cells: max |G′·factor⁻¹ − G| / max |G| in float64 (rule ≤ ${sci(g.threshold)}); last column through the public float32 ops (backend ${h(g.backend)}).</p>`
  );
}

function speedTable(s: NonNullable<KernelChecks['kernelSpeed']>): string {
  const groups = [...new Set(s.rows.map((r) => `${r.backend}|${r.rows}|${r.cols}`))];
  const ms = (r: (typeof s.rows)[number] | undefined) =>
    r === undefined ? '<td>–</td>' : `<td title="p20 ${fmt(r.ms_p20, 3)} · p80 ${fmt(r.ms_p80, 3)} ms, ${r.samples} samples">${fmt(r.ms_p50, 3)}</td>`;
  const body = groups
    .map((key) => {
      const at = (op: string) => s.rows.find((r) => `${r.backend}|${r.rows}|${r.cols}` === key && r.op === op);
      const ln = at('layerNorm');
      const rms = at('rmsNorm');
      const prms = at('pRmsNorm');
      const vsRms = rms && prms ? (prms.ms_p50 - rms.ms_p50) / rms.ms_p50 : null;
      const label = ln ?? rms ?? prms;
      return (
        `<tr><td class="l">${h(label?.backend ?? '')}${label?.backend === 'auto' ? ` (${h(label.resolved)})` : ''}</td><td>${label?.rows ?? ''}×${label?.cols ?? ''}</td>` +
        `${ms(ln)}${ms(rms)}<td>${pct(rms?.speedupVsLn == null ? null : rms.speedupVsLn / 100)}</td>${ms(prms)}<td>${pct(prms?.speedupVsLn == null ? null : prms.speedupVsLn / 100)}</td>` +
        `<td>${vsRms === null ? '–' : `${vsRms >= 0 ? '+' : ''}${pct(vsRms)}`}</td></tr>`
      );
    })
    .join('');
  return (
    `<h3>Kernel speed, forward + backward (claim 6.4)</h3><table class="kernel-speed"><thead><tr><th class="l">backend</th><th>shape</th><th>LayerNorm (ms)</th><th>RMSNorm (ms)</th><th>RMS speed-up</th>` +
    `<th>pRMSNorm p=${fmt(100 * s.p, 3)}% (ms)</th><th>pRMS speed-up</th><th>pRMS vs RMS</th></tr></thead><tbody>${body}</tbody></table>` +
    `<p class="note">Median of ${s.reps} samples per op, all ops and backends of a shape interleaved round-robin over ${s.sets} rotated buffer sets, one thread; speed-up = (T<sub>LN</sub> − T)/T<sub>LN</sub>. Measured in ${fmt(s.wallMs / 1000, 3)} s.${s.notes.length ? ` ${s.notes.map(h).join(' ')}` : ''}</p>`
  );
}

/** The kernel-check section's tables, or '' when the results carry none (older results.json). */
export function kernelChecksSection(k: KernelChecks | undefined): string {
  if (k === undefined) return '';
  return (
    `<h2>Kernel checks (claims 6.1, 6.3, 6.4, computed live)</h2>` +
    (k.correctness ? correctnessTable(k.correctness) : '') +
    (k.gradientClaims ? gradientTable(k.gradientClaims) : '') +
    (k.kernelSpeed ? speedTable(k.kernelSpeed) : '') +
    (k.errors?.length ? `<p class="note bad">Failed: ${k.errors.map(h).join('; ')}</p>` : '')
  );
}
