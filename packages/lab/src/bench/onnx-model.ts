// Builds tiny ONNX models (one normalisation node) as protobuf bytes in code, so the ONNX Runtime peer needs no model
// files and no protobuf library. Only the few ModelProto fields used here are encoded (field numbers from onnx.proto).

/** Protobuf writer: varints, length-delimited fields, fixed32 floats. */
class Proto {
  private readonly parts: number[] = [];

  private varint(v: number): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.parts.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.parts.push(Number(x));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.parts.push(...b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, m: Proto): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_FLOAT = 1; // AttributeProto.AttributeType.FLOAT
const ATTR_INT = 2;

/** ValueInfoProto of a float tensor; a string dim is symbolic (dim_param), a number fixed (dim_value). */
function valueInfo(name: string, dims: (number | string)[]): Proto {
  const shape = new Proto();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new Proto().int(1, d) : new Proto().string(2, d));
  const tensorType = new Proto().int(1, FLOAT).message(2, shape);
  return new Proto().string(1, name).message(2, new Proto().message(1, tensorType));
}

/** TensorProto initializer holding float data (raw little-endian bytes). */
function initializer(name: string, data: Float32Array): Proto {
  const raw = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  return new Proto().int(1, data.length).int(2, FLOAT).string(8, name).bytes(9, raw);
}

export interface NormModelSpec {
  /** 'RMSNormalization' (ai.onnx opset 23) or 'LayerNormalization' (opset 17). */
  op: 'RMSNormalization' | 'LayerNormalization';
  cols: number;
  gamma: Float32Array;
  /** LayerNormalization only: bias B. */
  beta?: Float32Array;
  eps: number;
}

/**
 * An ONNX model `Y = op(X, scale[, B])` over the last axis, X of shape [rows (symbolic), cols].
 *
 *   RMSNormalization-23:   Y = X / sqrt(mean(X², axis=-1) + epsilon) · scale
 *   LayerNormalization-17: Y = (X − mean) / sqrt(var + epsilon) · scale + B
 *
 * @example
 * const bytes = buildNormModel({ op: 'RMSNormalization', cols: 4, gamma: new Float32Array(4).fill(1), eps: 1e-6 });
 * const session = await ort.InferenceSession.create(bytes);
 */
export function buildNormModel(spec: NormModelSpec): Uint8Array {
  const { op, cols, gamma, beta, eps } = spec;
  const inputs = ['X', 'scale', ...(beta !== undefined ? ['B'] : [])];
  const node = new Proto();
  for (const i of inputs) node.string(1, i);
  node.string(2, 'Y').string(3, 'norm').string(4, op);
  node.message(5, new Proto().string(1, 'axis').int(3, -1).int(20, ATTR_INT));
  node.message(5, new Proto().string(1, 'epsilon').float(2, eps).int(20, ATTR_FLOAT));
  const graph = new Proto().message(1, node).string(2, `${op}-graph`);
  graph.message(5, initializer('scale', gamma));
  if (beta !== undefined) graph.message(5, initializer('B', beta));
  graph.message(11, valueInfo('X', ['rows', cols]));
  graph.message(12, valueInfo('Y', ['rows', cols]));
  const opset = op === 'RMSNormalization' ? 23 : 17;
  return new Proto()
    .int(1, opset >= 23 ? 11 : 8) // ir_version: opset 23 needs IR 11
    .string(2, 'rmsnorm-bench')
    .message(8, new Proto().string(1, '').int(2, opset))
    .message(7, graph)
    .finish();
}
