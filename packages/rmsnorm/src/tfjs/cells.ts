// Normalised GRU and LSTM cells for tf.layers.rnn (classNames NormalizedGRUCell, NormalizedLSTMCell), the paper's
// block-orthogonal recurrent initializer, and weights for custom loops. The math lives in rnn-steps.ts.
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '@tensorflow/tfjs';
import type { LayerArgs } from './layers.js';
import {
  cellNormSettings, gruStep, lstmStep, type CellNorm, type CellNormSettings, type GruWeights, type LstmWeights,
} from './rnn-steps.js';
import { getInitializer, kerasCompatArgs, serializeObject, type Initializer } from './serialization.js';

export * from './rnn-steps.js';

/** tfjs's Initializer base class (not exported; reached through a stock initializer's prototype chain). */
const InitializerBase = Object.getPrototypeOf(tf.initializers.zeros().constructor) as new () => Initializer;

/**
 * Recurrent-kernel initializer of the paper's code (Nematus ortho_weight): a [u, m·u] matrix made of m independent
 * orthogonal u×u blocks (Q of the QR of a normal matrix). Other shapes fall back to tfjs's orthogonal initializer.
 * className 'BlockOrthogonal'. @example new BlockOrthogonal({ seed: 1 }).apply([4, 12])
 */
export class BlockOrthogonal extends InitializerBase {
  static className = 'BlockOrthogonal';
  readonly seed: number | undefined;
  constructor(args: { seed?: number } = {}) {
    super();
    this.seed = args.seed;
  }
  apply(shape: number[]): Tensor {
    const [rows, cols] = shape;
    if (shape.length !== 2 || cols % rows !== 0) return tf.initializers.orthogonal({ seed: this.seed }).apply(shape);
    return tf.tidy(() => {
      const blocks: Tensor[] = [];
      for (let i = 0; i < cols / rows; i++) {
        const seed = this.seed === undefined ? undefined : this.seed + i;
        blocks.push(tf.linalg.qr(tf.randomNormal([rows, rows], 0, 1, 'float32', seed) as tf.Tensor2D)[0]);
      }
      return tf.concat(blocks, 1);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return this.seed === undefined ? {} : { seed: this.seed };
  }
}
tf.serialization.registerClass(BlockOrthogonal as never);

/** tfjs's RNNCell base class (not exported by tfjs-layers; reached through a stock cell's prototype chain). */
const RNNCellBase = Object.getPrototypeOf(tf.layers.gruCell({ units: 1 }).constructor) as typeof tf.layers.Layer;
type Shape = Array<number | null>;
type LayerVariable = ReturnType<tf.layers.Layer['addWeight']>;

/** Config of the normalised cells. */
export interface NormalizedCellArgs extends Omit<LayerArgs, 'dtype'> {
  units: number;
  norm?: CellNorm;
  partial?: number;
  epsilon?: number;
  dtype?: unknown;
  kernelInitializer?: unknown;
  recurrentInitializer?: unknown;
  biasInitializer?: unknown;
}

const GRU_NORM_SIZES = [2, 1, 2, 1];
const LSTM_NORM_SIZES = [4, 4, 1];
const NORM_NAMES = { gru: ['x_gates', 'x_cand', 'h_gates', 'h_cand'], lstm: ['x', 'h', 'cell'] };

abstract class NormalizedCell extends RNNCellBase {
  readonly units: number;
  readonly settings: CellNormSettings;
  stateSize: number | number[];
  /** Part of tfjs's RNNCell type; these cells have no dropout, so the RNN layer always sees none. */
  declare dropoutMask: Tensor | Tensor[];
  declare recurrentDropoutMask: Tensor | Tensor[];
  protected readonly kernelInitializer: Initializer;
  protected readonly recurrentInitializer: Initializer;
  protected readonly biasInitializer: Initializer;
  protected kernel: LayerVariable | null = null;
  protected recurrentKernel: LayerVariable | null = null;
  protected bias: LayerVariable | null = null;
  protected gammaVars: LayerVariable[] = [];
  protected betaVars: LayerVariable[] = [];

  constructor(args: NormalizedCellArgs, private readonly kind: 'gru' | 'lstm') {
    const a = kerasCompatArgs(args);
    super(a as LayerArgs);
    if (!Number.isInteger(a.units) || a.units < 1) throw new RangeError(`units must be a positive integer, got ${String(a.units)}`);
    this.units = a.units;
    this.settings = cellNormSettings(a);
    this.stateSize = kind === 'gru' ? this.units : [this.units, this.units];
    this.kernelInitializer = getInitializer(a.kernelInitializer, 'glorotUniform');
    this.recurrentInitializer = a.recurrentInitializer == null ? new BlockOrthogonal() : getInitializer(a.recurrentInitializer, 'orthogonal');
    this.biasInitializer = getInitializer(a.biasInitializer, 'zeros');
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const inputDim = shape[shape.length - 1];
    if (inputDim === null || inputDim === undefined) throw new RangeError(`${this.name}: the input's last axis must have a known size`);
    const width = this.kind === 'gru' ? 3 * this.units : 4 * this.units;
    this.kernel = this.addWeight('kernel', [inputDim, width], 'float32', this.kernelInitializer, undefined, true);
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, width], 'float32', this.recurrentInitializer, undefined, true);
    this.bias = this.addWeight('bias', [width], 'float32', this.biasInitializer, undefined, true);
    const sizes = this.kind === 'gru' ? GRU_NORM_SIZES : LSTM_NORM_SIZES;
    const names = NORM_NAMES[this.kind];
    this.gammaVars = [];
    this.betaVars = [];
    if (this.settings.norm !== 'none') {
      sizes.forEach((m, i) => {
        this.gammaVars.push(this.addWeight(`gamma_${names[i]}`, [m * this.units], 'float32', tf.initializers.ones(), undefined, true));
      });
    }
    if (this.settings.norm === 'layer') {
      sizes.forEach((m, i) => {
        this.betaVars.push(this.addWeight(`beta_${names[i]}`, [m * this.units], 'float32', tf.initializers.zeros(), undefined, true));
      });
    }
    this.built = true;
  }

  /** The cell's current weights as tensors (for the step functions). */
  stepWeights(): GruWeights & LstmWeights {
    if (this.kernel === null) throw new Error(`${this.name} is not built yet: apply it or call build() first`);
    return {
      kernel: this.kernel.read(),
      recurrentKernel: this.recurrentKernel!.read(),
      bias: this.bias!.read(),
      gammas: this.gammaVars.length > 0 ? this.gammaVars.map((v) => v.read()) : null,
      betas: this.betaVars.length > 0 ? this.betaVars.map((v) => v.read()) : null,
    };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      norm: this.settings.norm,
      partial: this.settings.partial,
      epsilon: this.settings.epsilon,
      kernelInitializer: serializeObject(this.kernelInitializer),
      recurrentInitializer: serializeObject(this.recurrentInitializer),
      biasInitializer: serializeObject(this.biasInitializer),
    };
  }
}

/**
 * GRU cell with 4 separate norms per step (className 'NormalizedGRUCell'), for tf.layers.rnn. Weights: kernel,
 * recurrent_kernel, bias, gamma_{x_gates,x_cand,h_gates,h_cand} (+ beta_* for 'layer'). Formulas: gruStepProjected.
 *
 * @example
 * const layer = tf.layers.rnn({ cell: normalizedGruCell({ units: 128, norm: 'prms' }), returnSequences: true });
 */
export class NormalizedGRUCell extends NormalizedCell {
  static className = 'NormalizedGRUCell';
  constructor(args: NormalizedCellArgs) {
    super(args, 'gru');
  }
  override call(inputs: Tensor | Tensor[]): Tensor[] {
    return tf.tidy(() => {
      const list = inputs as Tensor[];
      if (!Array.isArray(list) || list.length !== 2) throw new RangeError(`NormalizedGRUCell expects [x, h], got ${Array.isArray(list) ? list.length : 1} tensors`);
      const h = gruStep(this.stepWeights(), this.settings, list[0], list[1]);
      return [h, h];
    });
  }
}

/**
 * LSTM cell normalising x·W + b, h·U and the cell state before tanh (className 'NormalizedLSTMCell').
 * State [h, c]. Formulas: lstmStepProjected.
 *
 * @example
 * const layer = tf.layers.rnn({ cell: normalizedLstmCell({ units: 64, norm: 'rms' }) });
 */
export class NormalizedLSTMCell extends NormalizedCell {
  static className = 'NormalizedLSTMCell';
  constructor(args: NormalizedCellArgs) {
    super(args, 'lstm');
  }
  override call(inputs: Tensor | Tensor[]): Tensor[] {
    return tf.tidy(() => {
      const list = inputs as Tensor[];
      if (!Array.isArray(list) || list.length !== 3) throw new RangeError(`NormalizedLSTMCell expects [x, h, c], got ${Array.isArray(list) ? list.length : 1} tensors`);
      const [h, c] = lstmStep(this.stepWeights(), this.settings, list[0], list[1], list[2]);
      return [h, h, c];
    });
  }
}

/** @example tf.layers.rnn({ cell: normalizedGruCell({ units: 32, norm: 'rms' }) }) */
export function normalizedGruCell(args: NormalizedCellArgs): NormalizedGRUCell {
  return new NormalizedGRUCell(args);
}

/** @example tf.layers.rnn({ cell: normalizedLstmCell({ units: 32, norm: 'layer' }) }) */
export function normalizedLstmCell(args: NormalizedCellArgs): NormalizedLSTMCell {
  return new NormalizedLSTMCell(args);
}

/**
 * Fresh trainable weights for the step functions (custom training loops), initialised like the cells:
 * kernel glorotUniform, recurrent BlockOrthogonal, bias zeros, gains ones, LN biases zeros.
 *
 * @example
 * const w = createCellWeights('gru', 64, 128, cellNormSettings({ norm: 'rms' }));
 * const h1 = gruStep(w, s, x_t, h0);
 */
export function createCellWeights(kind: 'gru' | 'lstm', inputDim: number, units: number, s: CellNormSettings, seed?: number): GruWeights {
  const width = kind === 'gru' ? 3 * units : 4 * units;
  const sizes = kind === 'gru' ? GRU_NORM_SIZES : LSTM_NORM_SIZES;
  const v = (t: Tensor, name: string) => tf.variable(t, true, `${kind}_${name}_${Math.random().toString(36).slice(2, 8)}`);
  return {
    kernel: v(tf.initializers.glorotUniform({ seed }).apply([inputDim, width]), 'kernel'),
    recurrentKernel: v(new BlockOrthogonal({ seed }).apply([units, width]), 'recurrent_kernel'),
    bias: v(tf.zeros([width]), 'bias'),
    gammas: s.norm === 'none' ? null : sizes.map((m, i) => v(tf.ones([m * units]), `gamma${i}`)),
    betas: s.norm === 'layer' ? sizes.map((m, i) => v(tf.zeros([m * units]), `beta${i}`)) : null,
  };
}

tf.serialization.registerClass(NormalizedGRUCell);
tf.serialization.registerClass(NormalizedLSTMCell);
