// Per-position statistics of a recurrent pre-activation (paper Table 5): mean and std over batch × units at token
// positions 1–4 and over all positions, accumulated step by step from the values a probe hands over.

export interface PositionStats {
  positions: number[];
  mean: number[];
  std: number[];
  all: { mean: number; std: number };
}

/**
 * Accumulates values [rows, cols] per 1-based position; rows with keep[r] = false (padding) are skipped.
 * @example const acc = new PositionStatsAccumulator(); acc.add(1, values, 16); acc.result();
 */
export class PositionStatsAccumulator {
  private readonly per = new Map<number, { s: number; sq: number; n: number }>();
  private s = 0;
  private sq = 0;
  private n = 0;

  constructor(readonly positions: number[] = [1, 2, 3, 4]) {}

  add(position: number, values: ArrayLike<number>, rows: number, keep?: (row: number) => boolean): void {
    const cols = values.length / rows;
    let s = 0;
    let sq = 0;
    let n = 0;
    for (let r = 0; r < rows; r++) {
      if (keep && !keep(r)) continue;
      for (let c = 0; c < cols; c++) {
        const a = values[r * cols + c];
        s += a;
        sq += a * a;
        n++;
      }
    }
    this.s += s;
    this.sq += sq;
    this.n += n;
    if (this.positions.includes(position) && n > 0) this.per.set(position, { s, sq, n });
  }

  result(): PositionStats {
    const moments = (s: number, sq: number, n: number) => {
      const m = s / n;
      return { mean: m, std: Math.sqrt(Math.max(0, sq / n - m * m)) };
    };
    const at = this.positions.map((p) => {
      const x = this.per.get(p);
      return x ? moments(x.s, x.sq, x.n) : { mean: NaN, std: NaN };
    });
    return { positions: this.positions, mean: at.map((x) => x.mean), std: at.map((x) => x.std), all: moments(this.s, this.sq, this.n) };
  }
}
