/**
 * The one ONNX graph builder, shared by the transform and every trainer's exporter.
 * Inputs and outputs are declared like a `TensorSpec` (`-1` is a dynamic dimension,
 * written as the symbolic `N`), constants come from typed arrays, attributes are typed
 * explicitly (`attr.int(1)`, `attr.floats([...])`) because a JavaScript number alone
 * cannot say whether ONNX wants an int or a float.
 *
 * Usage:
 *   const g = new GraphBuilder('model');
 *   g.addInput('features', 'float32', [-1, 3]);
 *   g.addInitializer('w', new Float32Array([1, 2, 3]), [3, 1]);
 *   g.addNode('MatMul', ['features', 'w'], ['probability']);
 *   g.addOutput('probability', 'float32', [-1, 1]);
 *   await writeFile('model.onnx', g.toBytes());
 */
import { LoomError } from '../core/errors.js';
import type { TensorSpec } from './signature.js';
import {
  AttributeType,
  DataType,
  encodeModel,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './proto.js';

export type ElementType = TensorSpec['type'];

/** ONNX element type of each `TensorSpec` type. */
export const ELEMENT_TYPES: Record<ElementType, number> = {
  float32: DataType.FLOAT,
  float64: DataType.DOUBLE,
  int64: DataType.INT64,
  int32: DataType.INT32,
  string: DataType.STRING,
  bool: DataType.BOOL,
};

/** The opsets Loom's graphs import; ONNX Runtime 1.30 runs all ops used at these versions. */
export const DEFAULT_OPSETS: Record<string, number> = { '': 17, 'ai.onnx.ml': 3 };
export const IR_VERSION = 8;
/**
 * The standard opset of the string ops a graph that reads text uses (RegexFullMatch,
 * StringConcat; checked to run in onnxruntime-node and onnxruntime-web 1.30). Only such
 * graphs import it, with the IR version that opset belongs to; the others stay at 17.
 */
export const STRING_OPSET = 20;
const STRING_OPSET_IR_VERSION = 9;
/** Name of a dynamic dimension (the batch). */
export const BATCH_DIM = 'N';

/** Constant data for an initializer or a tensor attribute. */
export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | string[];

export type AttributeValue = Omit<AttributeProto, 'name'>;

const encoder = new TextEncoder();

/** Typed attribute values. */
export const attr = {
  int: (value: number): AttributeValue => ({ type: AttributeType.INT, i: checkInt(value) }),
  float: (value: number): AttributeValue => ({ type: AttributeType.FLOAT, f: value }),
  string: (value: string): AttributeValue => ({ type: AttributeType.STRING, s: encoder.encode(value) }),
  ints: (values: readonly number[]): AttributeValue => ({ type: AttributeType.INTS, ints: values.map(checkInt) }),
  floats: (values: readonly number[]): AttributeValue => ({ type: AttributeType.FLOATS, floats: [...values] }),
  strings: (values: readonly string[]): AttributeValue => ({
    type: AttributeType.STRINGS,
    strings: values.map((value) => encoder.encode(value)),
  }),
  tensor: (data: TensorData, dims: readonly number[]): AttributeValue => ({ type: AttributeType.TENSOR, t: tensorProto('', data, dims) }),
};

function checkInt(value: number): number {
  if (!Number.isSafeInteger(value)) {
    throw new LoomError('INVALID_ARGUMENT', `ONNX int attribute ${value} is not an integer within ±2^53`);
  }
  return value;
}

/** A TensorProto holding `data` with shape `dims`; numbers go in `raw_data` (little-endian). */
export function tensorProto(name: string, data: TensorData, dims: readonly number[]): TensorProto {
  const size = dims.reduce((product, dim) => product * dim, 1);
  if (data.length !== size) {
    throw new LoomError('INVALID_ARGUMENT', `tensor "${name}" has ${data.length} values but shape [${dims.join(', ')}] needs ${size}`);
  }
  const base = { name, dims: [...dims] };
  if (Array.isArray(data)) return { ...base, data_type: DataType.STRING, string_data: data.map((value) => encoder.encode(value)) };
  const typed = data as Exclude<TensorData, string[]>;
  // Node runs on little-endian hosts only, so the typed array's bytes are already the layout ONNX requires.
  const raw = new Uint8Array(typed.buffer.slice(typed.byteOffset, typed.byteOffset + typed.byteLength));
  const dataType =
    typed instanceof Float32Array ? DataType.FLOAT
    : typed instanceof Float64Array ? DataType.DOUBLE
    : typed instanceof BigInt64Array ? DataType.INT64
    : DataType.INT32;
  return { ...base, data_type: dataType, raw_data: raw };
}

/** A ValueInfoProto for a tensor; `-1` dimensions become the symbolic batch dimension. */
export function valueInfo(name: string, type: ElementType, shape: readonly number[]): ValueInfoProto {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: ELEMENT_TYPES[type],
        shape: { dim: shape.map((dim) => (dim < 0 ? { dim_param: BATCH_DIM } : { dim_value: dim })) },
      },
    },
  };
}

export class GraphBuilder {
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly nodes: NodeProto[] = [];
  private readonly metadata = new Map<string, string>();
  private readonly defined = new Set<string>();
  private readonly reserved = new Set<string>();
  private counter = 0;

  constructor(
    readonly name: string,
    private readonly opsets: Record<string, number> = DEFAULT_OPSETS,
  ) {}

  /** A graph input of a TensorSpec type; returns its name. */
  addInput(name: string, type: ElementType, shape: readonly number[]): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, type, shape));
    return name;
  }

  /** A constant; returns its name. */
  addInitializer(name: string, data: TensorData, dims: readonly number[]): string {
    this.claim(name);
    this.initializers.push(tensorProto(name, data, dims));
    return name;
  }

  /** A node; `domain` is '' for standard ops, 'ai.onnx.ml' for the classical ML ops. */
  addNode(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    domain = '',
  ): NodeProto {
    if (!(domain in this.opsets)) {
      throw new LoomError('INVALID_ARGUMENT', `node ${opType} uses domain "${domain}" that graph "${this.name}" does not import`);
    }
    for (const output of outputs) this.claim(output);
    const node: NodeProto = {
      name: `${opType}_${this.nodes.length}`,
      op_type: opType,
      domain,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attributes).map(([name, value]) => ({ name, ...value })),
    };
    this.nodes.push(node);
    return node;
  }

  /** Declares an existing value as a graph output. */
  addOutput(name: string, type: ElementType, shape: readonly number[]): void {
    this.outputs.push(valueInfo(name, type, shape));
  }

  setMetadata(key: string, value: string): void {
    this.metadata.set(key, value);
  }

  /** A value name not used or handed out yet, starting with `prefix`; define it once with addNode/addInitializer. */
  uniqueName(prefix: string): string {
    let name = prefix;
    while (this.defined.has(name) || this.reserved.has(name)) name = `${prefix}_${++this.counter}`;
    this.reserved.add(name);
    return name;
  }

  toModel(): ModelProto {
    return {
      ir_version: (this.opsets[''] ?? 0) >= STRING_OPSET ? STRING_OPSET_IR_VERSION : IR_VERSION,
      producer_name: 'loom',
      producer_version: '0.1.0',
      opset_import: Object.entries(this.opsets).map(([domain, version]) => ({ domain, version })),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadata_props: [...this.metadata].map(([key, value]) => ({ key, value })),
    };
  }

  toBytes(): Uint8Array {
    return encodeModel(this.toModel());
  }

  private claim(name: string): void {
    if (this.defined.has(name)) {
      throw new LoomError('INVALID_ARGUMENT', `value "${name}" is defined twice in graph "${this.name}"`);
    }
    this.defined.add(name);
    this.reserved.delete(name);
  }
}
