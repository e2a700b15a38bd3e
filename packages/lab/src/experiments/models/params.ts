// Named, seeded trainable parameters. A parameter's initial value depends only on (seed, name, shape, init), so
// variants that share a weight (e.g. the GRU's W in 'none' and 'rms') start from identical values.
import * as tf from '@tensorflow/tfjs';
import { Rng } from 'rmsnorm/internal';

export interface InitOptions {
  /** Mean added to every weight-matrix initialisation (paper Fig. 4 uses 0.2); default 0. */
  initMean?: number;
}

/** Owns the variables of one model; `dispose()` frees them all. */
export class ParamStore {
  readonly vars: tf.Variable[] = [];
  private readonly names = new Set<string>();
  private readonly adopted = new Set<tf.Variable>();
  private static instance = 0;
  private readonly prefix: string;

  constructor(
    readonly seed: number,
    readonly options: InitOptions = {},
  ) {
    // tfjs keeps a global registry of variable names: a per-store prefix keeps two models in one process apart.
    this.prefix = `m${ParamStore.instance++}`;
  }

  private add(name: string, shape: number[], values: Float32Array): tf.Variable {
    if (this.names.has(name)) throw new RangeError(`ParamStore: duplicate parameter name '${name}'`);
    this.names.add(name);
    const v = tf.variable(tf.tensor(values, shape), true, `${this.prefix}/${name}`);
    this.vars.push(v);
    return v;
  }

  /** Registers a variable created elsewhere (tfjs's stock layers) so the optimizer and checkpoints see it. */
  adopt(name: string, v: tf.Variable): tf.Variable {
    if (this.names.has(name)) throw new RangeError(`ParamStore: duplicate parameter name '${name}'`);
    this.names.add(name);
    this.vars.push(v);
    this.adopted.add(v);
    return v;
  }

  /** Gaussian N(initMean, std²) weights (initMean from the store options). */
  normal(name: string, shape: number[], std: number): tf.Variable {
    const rng = Rng.from(this.seed, `init:${name}`);
    const n = shape.reduce((a, b) => a * b, 1);
    const mean = this.options.initMean ?? 0;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * rng.normal();
    return this.add(name, shape, out);
  }

  /** Glorot/Xavier normal for a [fanIn, fanOut] (or conv [kh, kw, cin, cout]) weight. */
  glorot(name: string, shape: number[]): tf.Variable {
    const receptive = shape.length > 2 ? shape.slice(0, -2).reduce((a, b) => a * b, 1) : 1;
    const fanIn = shape[shape.length - 2] * receptive;
    const fanOut = shape[shape.length - 1] * receptive;
    return this.normal(name, shape, Math.sqrt(2 / (fanIn + fanOut)));
  }

  constant(name: string, shape: number[], value: number): tf.Variable {
    return this.add(name, shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value));
  }

  dispose(): void {
    for (const v of this.vars) v.dispose();
    this.vars.length = 0;
    this.names.clear();
  }
}
