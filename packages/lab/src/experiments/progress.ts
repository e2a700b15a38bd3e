// Terminal progress for `rmsnorm reproduce`: one line per active run with a bar and ETA, redrawn in place on a TTY,
// plain periodic lines otherwise (CI logs, pipes).
import type { RunProgress } from './runner.js';

function clock(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--:--';
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function bar(frac: number, width = 20): string {
  const n = Math.max(0, Math.min(width, Math.round(frac * width)));
  return '█'.repeat(n) + '░'.repeat(width - n);
}

export class ProgressView {
  private readonly active = new Map<string, RunProgress & { startedAt: number; firstStep: number }>();
  private drawn = 0;
  private lastDraw = 0;
  private readonly lastPlain = new Map<string, number>();
  private done = 0;
  private readonly t0 = Date.now();

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly total: number,
    private readonly etaAll: () => number,
  ) {}

  private get tty(): boolean {
    return this.stream.isTTY === true;
  }

  /** A job starts: `steps` of `unit` (training steps; a timing pass counts its samples, each one or more steps). */
  start(id: string, steps: number, unit = 'steps'): void {
    this.active.set(id, { id, step: 0, steps, loss: NaN, elapsedMs: 0, phase: 'train', startedAt: Date.now(), firstStep: -1 });
    if (!this.tty) this.stream.write(`start  ${id} (${steps} ${unit})\n`);
    this.draw(true);
  }

  update(p: RunProgress): void {
    const cur = this.active.get(p.id);
    if (!cur) return;
    const firstStep = cur.firstStep < 0 ? p.step - 1 : cur.firstStep; // resumed runs start mid-way
    this.active.set(p.id, { ...cur, ...p, firstStep });
    if (!this.tty) {
      const quarter = Math.floor((4 * p.step) / p.steps);
      if (quarter > (this.lastPlain.get(p.id) ?? 0) && p.phase === 'train') {
        this.lastPlain.set(p.id, quarter);
        this.stream.write(`${this.line(p.id)}\n`);
      }
      return;
    }
    this.draw(false);
  }

  finish(id: string, note: string): void {
    this.active.delete(id);
    this.done++;
    this.clear();
    this.stream.write(`${note}\n`);
    this.draw(true);
  }

  /** Print a message above the live lines. */
  log(msg: string): void {
    this.clear();
    this.stream.write(`${msg}\n`);
    this.draw(true);
  }

  private line(id: string): string {
    const p = this.active.get(id);
    if (!p) return '';
    const ran = p.step - Math.max(0, p.firstStep);
    const elapsed = Date.now() - p.startedAt;
    const eta = ran > 0 ? (elapsed / ran) * (p.steps - p.step) : NaN;
    const loss = Number.isFinite(p.loss) ? p.loss.toFixed(3) : '  -  ';
    return `${id.padEnd(30)} ${bar(p.step / p.steps, 16)} ${String(p.step).padStart(5)}/${p.steps} loss ${loss} ${p.phase === 'eval' ? 'eval' : 'ETA ' + clock(eta)}`;
  }

  private clear(): void {
    if (!this.tty || this.drawn === 0) return;
    this.stream.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(force: boolean): void {
    if (!this.tty) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 150) return;
    this.lastDraw = now;
    this.clear();
    const lines = [...this.active.keys()].map((id) => this.line(id));
    lines.push(`runs ${this.done}/${this.total} done · elapsed ${clock(now - this.t0)} · ETA ${clock(this.etaAll())}`);
    this.stream.write(lines.map((l) => l.slice(0, (this.stream.columns ?? 120) - 1)).join('\n') + '\n');
    this.drawn = lines.length;
  }
}
