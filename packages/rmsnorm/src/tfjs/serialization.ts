// Config helpers shared by our layers and cells: initializer/regularizer (de)serialization through tfjs's class
// registry (tfjs-layers does not export its own helpers), and Keras 3 tolerance (dtype policy dicts).
import * as tf from '@tensorflow/tfjs';

type Serializable = tf.serialization.Serializable;
export type Initializer = ReturnType<typeof tf.initializers.ones>;
export type Regularizer = ReturnType<typeof tf.regularizers.l2>;

function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function fromRegistry<T>(what: string, dict: { className?: unknown; class_name?: unknown; config?: unknown }): T {
  const className = String(dict.className ?? dict.class_name);
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (entry === undefined) throw new TypeError(`${what}: unknown class '${className}'`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, (dict.config ?? {}) as tf.serialization.ConfigDict) as T;
}

/**
 * An initializer from an instance, a name ('ones', 'glorot_uniform', 'glorotUniform') or a serialized dict.
 * @example getInitializer('ones', 'zeros') // tf.initializers.ones()
 */
export function getInitializer(id: unknown, fallback: string): Initializer {
  const value = id ?? fallback;
  if (value instanceof tf.serialization.Serializable) return value as Initializer;
  if (typeof value === 'string') {
    const factory = (tf.initializers as unknown as Record<string, ((a?: object) => Initializer) | undefined>)[camel(value)];
    if (typeof factory !== 'function') throw new TypeError(`initializer: unknown name '${value}'`);
    return factory({});
  }
  if (typeof value === 'object' && value !== null) return fromRegistry<Initializer>('initializer', value);
  throw new TypeError(`initializer must be a name, an Initializer or a config dict, got ${typeof value}`);
}

/** A regularizer from an instance or a serialized dict; null when absent. */
export function getRegularizer(id: unknown): Regularizer | null {
  if (id === undefined || id === null) return null;
  if (id instanceof tf.serialization.Serializable) return id as Regularizer;
  if (typeof id === 'object') return fromRegistry<Regularizer>('regularizer', id as object);
  throw new TypeError(`regularizer must be a Regularizer or a config dict, got ${typeof id}`);
}

/** The Keras-style `{className, config}` dict of a serializable (what tfjs writes into model.json). */
export function serializeObject(value: Serializable | null): tf.serialization.ConfigDict | null {
  if (value === null) return null;
  return { className: value.getClassName(), config: value.getConfig() };
}

/**
 * Layer args with a Keras 3 `dtype` policy dict ({module:'keras', class_name:'DTypePolicy', config:{name}}) replaced
 * by its name. tfjs computes in float32 only, so a 'mixed_*' policy is read as float32 (its variable dtype).
 * @example kerasCompatArgs({ dtype: { className: 'DTypePolicy', config: { name: 'float32' } } }) // { dtype: 'float32' }
 */
export function kerasCompatArgs<T extends object>(args: T): T {
  const out = { ...args } as Record<string, unknown>;
  const dtype = out.dtype;
  if (dtype !== null && typeof dtype === 'object') {
    const name = (dtype as { config?: { name?: unknown } }).config?.name;
    out.dtype = typeof name === 'string' && !name.startsWith('mixed_') && name !== 'float16' && name !== 'bfloat16'
      ? name
      : 'float32';
  }
  return out as T;
}
