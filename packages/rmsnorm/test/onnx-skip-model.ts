// The ONNX model of ONNX Runtime's contrib op SkipSimplifiedLayerNormalization (ort-skip-simplified.test.ts's
// independent implementation of addRmsNorm), built as protobuf bytes in code: no model file, no protobuf library.
// Only the few ModelProto fields used here are encoded (field numbers from onnx.proto). The app's bench has its own
// builder for the RMSNormalization/LayerNormalization peers (packages/lab/src/bench/onnx-model.ts).

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
const FLOAT16 = 10; // TensorProto.DataType.FLOAT16

/**
 * ONNX Runtime's contrib op (domain com.microsoft) `SkipSimplifiedLayerNormalization(input, skip, gamma)` with its
 * outputs `output` (index 0) and `input_skip_bias_sum` (index 3), input/skip of shape [1, rows (symbolic), cols]:
 *
 *   input_skip_bias_sum = input + skip,   output = RMSNorm(input_skip_bias_sum) · gamma   (eps inside the sqrt)
 *
 * `float16` makes input, skip and both outputs float16 (gamma too: the op has one type parameter).
 * @example const bytes = buildSkipSimplifiedModel({ cols: 8, gamma: new Float32Array(8).fill(1), eps: 1e-6 });
 */
export function buildSkipSimplifiedModel(spec: { cols: number; gamma: Float32Array | Uint16Array; eps: number; float16?: boolean }): Uint8Array {
  const { cols, gamma, eps } = spec;
  const type = spec.float16 === true ? FLOAT16 : FLOAT;
  const node = new Proto();
  for (const i of ['input', 'skip', 'gamma']) node.string(1, i);
  for (const o of ['output', '', '', 'input_skip_bias_sum']) node.string(2, o);
  node.string(3, 'skip-norm').string(4, 'SkipSimplifiedLayerNormalization').string(7, 'com.microsoft');
  node.message(5, new Proto().string(1, 'epsilon').float(2, eps).int(20, ATTR_FLOAT));
  const graph = new Proto().message(1, node).string(2, 'skip-simplified-graph');
  const raw = new Uint8Array(gamma.buffer.slice(gamma.byteOffset, gamma.byteOffset + gamma.byteLength));
  graph.message(5, new Proto().int(1, gamma.length).int(2, type).string(8, 'gamma').bytes(9, raw));
  for (const [field, name] of [[11, 'input'], [11, 'skip'], [12, 'output'], [12, 'input_skip_bias_sum']] as const) {
    const shape = new Proto();
    for (const d of [1, 'rows', cols]) shape.message(1, typeof d === 'number' ? new Proto().int(1, d) : new Proto().string(2, d));
    const tensorType = new Proto().int(1, type).message(2, shape);
    graph.message(field, new Proto().string(1, name).message(2, new Proto().message(1, tensorType)));
  }
  return new Proto()
    .int(1, 8)
    .string(2, 'rmsnorm-test')
    .message(8, new Proto().string(1, '').int(2, 17))
    .message(8, new Proto().string(1, 'com.microsoft').int(2, 1))
    .message(7, graph)
    .finish();
}
