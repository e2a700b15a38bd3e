// Keras-compatible tfjs layers: RMSNormalization (Keras 3 config + our extras) and FusedLayerNormalization
// (tf.layers.layerNormalization's config on our fused kernel, the fair LayerNorm baseline). Both registered.
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '@tensorflow/tfjs';
import type { EpsPlacement, KRule } from '../types.js';
import { layerNorm, normalizeAxes, rmsNorm } from './ops.js';
import {
  getInitializer, getRegularizer, kerasCompatArgs, serializeObject, type Initializer, type Regularizer,
} from './serialization.js';

/** tfjs's LayerArgs (not exported by tfjs-layers under that name). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type Shape = Array<number | null>;
type LayerVariable = ReturnType<tf.layers.Layer['addWeight']>;

/** Config of RMSNormalization: Keras 3's keys (axis, epsilon, dtype) plus ours. */
export interface RMSNormalizationArgs extends Omit<LayerArgs, 'dtype'> {
  /** Normalised axes of the input (batch axis included), int or list. Default -1. A list after build (Keras 3). */
  axis?: number | number[];
  /** Default 1e-6 (Keras 3). */
  epsilon?: number;
  /**
   * Gain and bias per index of this input axis (not a normalised one) instead of per normalised position: weights of
   * shape [C] = [inputShape[channelAxis]] — the spatial norm of images (`axis: [1, 2], channelAxis: 3` on NHWC).
   * Default: absent (weights of the normalised axes' shape). Written by getConfig only when set.
   */
  channelAxis?: number;
  /** Keras 3 dtype policy dict or a dtype name; computation is float32. */
  dtype?: unknown;
  /** pRMSNorm fraction p in (0, 1]; 1, -1 or null = full RMSNorm (the paper's code uses -1). Default 1. */
  partial?: number | null;
  /** How k derives from p. Default 'ceil' (the paper); 'floor' is its code. */
  kRule?: KRule;
  /** Default 'inside'. */
  epsPlacement?: EpsPlacement;
  /** y = x·rstd·(gammaOffset + scale); 1 with a zeros-initialised scale gives Gemma-style layers. Default 0. */
  gammaOffset?: number;
  /** Learn a gain named `scale`. Default true (Keras 3 always has it). */
  scale?: boolean;
  /** Learn a bias named `beta` (as Keras LayerNormalization names it), added after scaling. Default false. */
  center?: boolean;
  scaleInitializer?: unknown;
  betaInitializer?: unknown;
  scaleRegularizer?: unknown;
  betaRegularizer?: unknown;
}

/** Config keys every tfjs layer takes (tfjs's LayerArgs). */
const LAYER_KEYS = ['name', 'trainable', 'dtype', 'inputShape', 'batchInputShape', 'batchSize', 'weights', 'inputDType'];

/**
 * Keys of other Keras versions' configs that we accept only at their default (null / false): Keras 2 and 3 write
 * `beta_constraint: null` / `gamma_constraint: null` (and Keras 3 `rms_scaling: false`) into LayerNormalization
 * configs; any other value would change the layer, so it is refused rather than ignored.
 */
const DEFAULT_ONLY_KEYS: Record<string, null | false> = { betaConstraint: null, gammaConstraint: null, rmsScaling: false };

/**
 * Refuses config keys the layer does not know (a misspelt `eps` would otherwise silently leave the default epsilon).
 * TypeError naming the key, a likely intended key, and the valid keys.
 */
function checkConfigKeys(layer: string, args: object, own: readonly string[], defaultOnly: readonly string[] = []): void {
  const valid = [...own, ...LAYER_KEYS];
  for (const [key, value] of Object.entries(args)) {
    // customObjects: added to every nested config by tfjs's deserializer (tf.models.modelFromJSON, loadLayersModel)
    if (valid.includes(key) || key === 'customObjects' || value === undefined) continue;
    if (defaultOnly.includes(key)) {
      if (value === DEFAULT_ONLY_KEYS[key]) continue;
      throw new TypeError(`${layer}: config key '${key}' is only supported at its default (${DEFAULT_ONLY_KEYS[key]}), got ${JSON.stringify(value)}`);
    }
    const flat = (k: string) => k.toLowerCase().replace(/_/g, '');
    const hint = valid.find((k) => flat(k) === flat(key)) ?? valid.find((k) => key.length >= 3 && flat(k).startsWith(flat(key)));
    throw new TypeError(
      `${layer}: unknown config key '${key}'${hint === undefined ? '' : ` (did you mean '${hint}'?)`}; valid keys: ${valid.join(', ')}`,
    );
  }
}

function getExactlyOne(inputs: Tensor | Tensor[]): Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1) throw new RangeError(`expected one input tensor, got ${inputs.length}`);
    return inputs[0];
  }
  return inputs;
}

function singleShape(inputShape: Shape | Shape[]): Shape {
  return Array.isArray(inputShape[0]) ? (inputShape as Shape[])[0] : (inputShape as Shape);
}

function paramShape(layer: string, inputShape: Shape, axes: number[]): number[] {
  return axes.map((a) => {
    const d = inputShape[a];
    if (d === null || d === undefined) {
      throw new RangeError(`${layer}: input axis ${a} must have a known size, got shape [${inputShape.join(', ')}]`);
    }
    return d;
  });
}

/**
 * The `channelAxis` config key: absent, or an integer (checked when the layer is made; range, overlap with the
 * normalised axes and a known size at build, once the input's rank is known).
 */
function channelAxisConfig(layer: string, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${layer}: config key 'channelAxis' must be an integer, got ${JSON.stringify(value) ?? typeof value}`);
  }
  return value;
}

/** The weight shape [C] of a spatial norm layer: channelAxis resolved against the input shape and checked. */
function channelParamShape(layer: string, inputShape: Shape, axes: number[], channelAxis: number): number[] {
  const rank = inputShape.length;
  if (channelAxis < -rank || channelAxis >= rank) {
    throw new RangeError(`${layer}: config key 'channelAxis' (${channelAxis}) is out of range for a rank-${rank} input`);
  }
  const c = channelAxis < 0 ? channelAxis + rank : channelAxis;
  if (axes.includes(c)) {
    throw new RangeError(`${layer}: config key 'channelAxis' (${channelAxis}) must not be one of the normalised axes [${axes.join(', ')}]`);
  }
  if (c === 0) throw new RangeError(`${layer}: config key 'channelAxis' must not be the batch axis 0`);
  const d = inputShape[c];
  if (d === null || d === undefined) {
    throw new RangeError(`${layer}: config key 'channelAxis' (${channelAxis}) needs a known size of input axis ${c}, got shape [${inputShape.join(', ')}]`);
  }
  return [d];
}

function partialOption(value: unknown): number {
  if (value === undefined || value === null) return 1;
  if (typeof value !== 'number') throw new TypeError(`partial must be a number, got ${typeof value}`);
  if (value < 0) return 1; // the paper's code: p = -1 disables pRMSNorm
  if (!(value > 0 && value <= 1)) throw new RangeError(`partial must be in (0, 1] (or -1 for off), got ${value}`);
  return value;
}

/** One learned per-feature vector of a norm layer: its weight name, initializer and regularizer. */
interface ParamSpec {
  name: string;
  initializer: Initializer;
  regularizer: Regularizer | null;
}

/**
 * What our norm layers share: the normalised `axis` (int or list, batch axis included; a list once built, as in
 * Keras 3 and tfjs), a gain and a bias over those axes' shape (either may be off), and shape-preserving output.
 */
abstract class NormLayerBase extends tf.layers.Layer {
  /** The normalised axes as configured; after build always a list (see axisAfterBuild). */
  axis: number | number[];
  readonly epsilon: number;
  /** Gain/bias per index of this input axis (as configured; null = per normalised position). */
  readonly channelAxis: number | null;
  protected axes: number[] = [];
  protected gainWeight: LayerVariable | null = null;
  protected biasWeight: LayerVariable | null = null;

  constructor(args: LayerArgs & { axis?: number | number[]; epsilon?: number; channelAxis?: number }, defaultEpsilon: number) {
    super(args);
    this.channelAxis = channelAxisConfig(`${this.getClassName()} '${this.name}'`, args.channelAxis);
    this.axis = args.axis ?? -1;
    this.epsilon = args.epsilon ?? defaultEpsilon;
    if (!(Number.isFinite(this.epsilon) && this.epsilon >= 0)) throw new RangeError(`epsilon must be finite and >= 0, got ${this.epsilon}`);
    this.supportsMasking = true;
  }

  /** `axis` once built, from the configured value and the resolved (non-negative, sorted) axes. */
  protected abstract axisAfterBuild(configured: number | number[], resolved: number[]): number[];

  /** The gain and bias this layer learns (null = off). */
  protected abstract paramSpecs(): { gain: ParamSpec | null; bias: ParamSpec | null };

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    this.axes = normalizeAxes(this.axis, shape.length, 'axis');
    this.axis = this.axisAfterBuild(this.axis, this.axes);
    const pshape = this.channelAxis === null
      ? paramShape(this.name, shape, this.axes)
      : channelParamShape(`${this.getClassName()} '${this.name}'`, shape, this.axes, this.channelAxis);
    const { gain, bias } = this.paramSpecs();
    const add = (p: ParamSpec) => this.addWeight(p.name, pshape, 'float32', p.initializer, p.regularizer ?? undefined, true);
    this.gainWeight = gain === null ? null : add(gain);
    this.biasWeight = bias === null ? null : add(bias);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  /** The op option for call(): `{ channelAxis }` when set, else nothing. */
  protected channelOption(): { channelAxis?: number } {
    return this.channelAxis === null ? {} : { channelAxis: this.channelAxis };
  }

  /** The config entry: `{ channelAxis }` only when set, so configs without it stay as they were (Keras 3 round trip). */
  protected channelConfig(): tf.serialization.ConfigDict {
    return this.channelAxis === null ? {} : { channelAxis: this.channelAxis };
  }
}

/**
 * RMSNorm layer (Keras 3 `keras.layers.RMSNormalization` compatible; className 'RMSNormalization'):
 *
 *   y = x / sqrt(mean(x²) + epsilon) · scale (+ beta)   over `axis`; with `partial` < 1 the mean uses the first k values.
 *
 * Input any rank; weights `scale` (ones) and optionally `beta` (zeros) of the normalised axes' shape, or [C] with
 * `channelAxis` (y = x·rstd·scale[c] + beta[c], statistics per sample and channel: the spatial norm of images).
 *
 * @example
 * const model = tf.sequential({ layers: [
 *   tf.layers.dense({ units: 64, inputShape: [32] }),
 *   rmsNormalization({ epsilon: 1e-6, partial: 0.0625 }),
 * ] });
 */
const RMS_NORMALIZATION_KEYS = [
  'axis', 'epsilon', 'partial', 'kRule', 'epsPlacement', 'gammaOffset', 'scale', 'center', 'scaleInitializer',
  'betaInitializer', 'scaleRegularizer', 'betaRegularizer', 'channelAxis',
];

export class RMSNormalization extends NormLayerBase {
  static className = 'RMSNormalization';
  readonly partial: number;
  readonly kRule: KRule;
  readonly epsPlacement: EpsPlacement;
  readonly gammaOffset: number;
  readonly scale: boolean;
  readonly center: boolean;
  private readonly scaleInitializer: Initializer;
  private readonly betaInitializer: Initializer;
  private readonly scaleRegularizer: Regularizer | null;
  private readonly betaRegularizer: Regularizer | null;

  constructor(args: RMSNormalizationArgs = {}) {
    const a = kerasCompatArgs(args);
    checkConfigKeys(new.target.className, a, RMS_NORMALIZATION_KEYS);
    super(a as LayerArgs, 1e-6);
    this.partial = partialOption(a.partial);
    this.kRule = a.kRule ?? 'ceil';
    this.epsPlacement = a.epsPlacement ?? 'inside';
    this.gammaOffset = a.gammaOffset ?? 0;
    this.scale = a.scale ?? true;
    this.center = a.center ?? false;
    if (this.gammaOffset !== 0 && !this.scale) throw new RangeError(`gammaOffset (${this.gammaOffset}) needs scale: true`);
    this.scaleInitializer = getInitializer(a.scaleInitializer, 'ones');
    this.betaInitializer = getInitializer(a.betaInitializer, 'zeros');
    this.scaleRegularizer = getRegularizer(a.scaleRegularizer);
    this.betaRegularizer = getRegularizer(a.betaRegularizer);
  }

  /** Keras 3: an int becomes a one-element list; negative axes stay negative (the config stays rank-agnostic). */
  protected override axisAfterBuild(configured: number | number[]): number[] {
    return Array.isArray(configured) ? [...configured] : [configured];
  }

  protected override paramSpecs() {
    return {
      gain: this.scale ? { name: 'scale', initializer: this.scaleInitializer, regularizer: this.scaleRegularizer } : null,
      bias: this.center ? { name: 'beta', initializer: this.betaInitializer, regularizer: this.betaRegularizer } : null,
    };
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const x = getExactlyOne(inputs);
      return rmsNorm(x, this.gainWeight?.read() ?? null, {
        axis: this.axes,
        beta: this.biasWeight?.read() ?? null,
        eps: this.epsilon,
        epsPlacement: this.epsPlacement,
        p: this.partial,
        kRule: this.kRule,
        ...(this.gammaOffset !== 0 ? { gammaOffset: this.gammaOffset } : {}),
        ...this.channelOption(),
      });
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      axis: Array.isArray(this.axis) ? [...this.axis] : this.axis,
      epsilon: this.epsilon,
      ...this.channelConfig(),
      partial: this.partial,
      kRule: this.kRule,
      epsPlacement: this.epsPlacement,
      gammaOffset: this.gammaOffset,
      scale: this.scale,
      center: this.center,
      scaleInitializer: serializeObject(this.scaleInitializer),
      betaInitializer: serializeObject(this.betaInitializer),
      scaleRegularizer: serializeObject(this.scaleRegularizer),
      betaRegularizer: serializeObject(this.betaRegularizer),
    };
  }
}

/**
 * Factory of RMSNormalization (like tf.layers.layerNormalization).
 * @example tf.sequential({ layers: [tf.layers.dense({ units: 8, inputShape: [4] }), rmsNormalization()] });
 */
export function rmsNormalization(args?: RMSNormalizationArgs): RMSNormalization {
  return new RMSNormalization(args);
}

/** Config of FusedLayerNormalization: tf.layers.layerNormalization's keys. */
export interface FusedLayerNormalizationArgs extends Omit<LayerArgs, 'dtype'> {
  /** Int or list, default -1; after build a list of non-negative axes, as tf.layers.layerNormalization. */
  axis?: number | number[];
  /** Default 1e-3 (tf.layers.layerNormalization's default). */
  epsilon?: number;
  /** Our extra: `gamma`/`beta` of shape [inputShape[channelAxis]] (InstanceNorm in NHWC: `axis: [1, 2], channelAxis: 3`). */
  channelAxis?: number;
  dtype?: unknown;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: unknown;
  gammaInitializer?: unknown;
  betaRegularizer?: unknown;
  gammaRegularizer?: unknown;
}

/**
 * LayerNorm layer with tf.layers.layerNormalization's config and weights (`gamma`, `beta`), running our fused
 * kernel and fused backward (className 'FusedLayerNormalization'). y = (x − mean)/sqrt(var + epsilon)·gamma + beta;
 * with `channelAxis` gamma/beta have shape [C] (InstanceNorm in NHWC: `axis: [1, 2], channelAxis: 3`).
 *
 * @example
 * const ln = fusedLayerNormalization({ epsilon: 1e-3 }); // drop-in for tf.layers.layerNormalization
 */
const FUSED_LAYER_NORMALIZATION_KEYS = [
  'axis', 'epsilon', 'center', 'scale', 'betaInitializer', 'gammaInitializer', 'betaRegularizer', 'gammaRegularizer',
  'channelAxis',
];

export class FusedLayerNormalization extends NormLayerBase {
  static className = 'FusedLayerNormalization';
  readonly center: boolean;
  readonly scale: boolean;
  private readonly betaInitializer: Initializer;
  private readonly gammaInitializer: Initializer;
  private readonly betaRegularizer: Regularizer | null;
  private readonly gammaRegularizer: Regularizer | null;

  constructor(args: FusedLayerNormalizationArgs = {}) {
    const a = kerasCompatArgs(args);
    checkConfigKeys(new.target.className, a, FUSED_LAYER_NORMALIZATION_KEYS, Object.keys(DEFAULT_ONLY_KEYS));
    super(a as LayerArgs, 1e-3);
    this.center = a.center ?? true;
    this.scale = a.scale ?? true;
    this.betaInitializer = getInitializer(a.betaInitializer, 'zeros');
    this.gammaInitializer = getInitializer(a.gammaInitializer, 'ones');
    this.betaRegularizer = getRegularizer(a.betaRegularizer);
    this.gammaRegularizer = getRegularizer(a.gammaRegularizer);
  }

  /** As tf.layers.layerNormalization: a list of non-negative axes (so getConfig matches the stock layer's). */
  protected override axisAfterBuild(_configured: number | number[], resolved: number[]): number[] {
    return [...resolved];
  }

  protected override paramSpecs() {
    return {
      gain: this.scale ? { name: 'gamma', initializer: this.gammaInitializer, regularizer: this.gammaRegularizer } : null,
      bias: this.center ? { name: 'beta', initializer: this.betaInitializer, regularizer: this.betaRegularizer } : null,
    };
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() =>
      layerNorm(getExactlyOne(inputs), this.gainWeight?.read() ?? null, this.biasWeight?.read() ?? null, {
        axis: this.axes,
        eps: this.epsilon,
        ...this.channelOption(),
      }),
    );
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      axis: Array.isArray(this.axis) ? [...this.axis] : this.axis,
      epsilon: this.epsilon,
      ...this.channelConfig(),
      center: this.center,
      scale: this.scale,
      betaInitializer: serializeObject(this.betaInitializer),
      gammaInitializer: serializeObject(this.gammaInitializer),
      betaRegularizer: serializeObject(this.betaRegularizer),
      gammaRegularizer: serializeObject(this.gammaRegularizer),
    };
  }
}

/**
 * Factory of FusedLayerNormalization.
 * @example fusedLayerNormalization({ axis: -1, epsilon: 1e-3 })
 */
export function fusedLayerNormalization(args?: FusedLayerNormalizationArgs): FusedLayerNormalization {
  return new FusedLayerNormalization(args);
}

tf.serialization.registerClass(RMSNormalization);
tf.serialization.registerClass(FusedLayerNormalization);

let stockReplaced = false;

/**
 * Opt-in: make deserialization of 'LayerNormalization' (tf.models.modelFromJSON, tf.loadLayersModel) build our fused
 * layer instead of the stock one; config, weights and the serialized className stay those of the stock layer, so
 * existing model files load faster without changes. Layers created with tf.layers.layerNormalization() are not
 * affected. Idempotent.
 *
 * @example
 * useFusedLayerNormalizationOnLoad();
 * const model = await tf.loadLayersModel('file:///tmp/m/model.json'); // its LayerNormalization layers are fused
 */
export function useFusedLayerNormalizationOnLoad(): void {
  if (stockReplaced) return;
  stockReplaced = true;
  class LayerNormalization extends FusedLayerNormalization {
    static override className = 'LayerNormalization';
  }
  tf.serialization.registerClass(LayerNormalization);
}
