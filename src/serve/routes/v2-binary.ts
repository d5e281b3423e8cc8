/**
 * Triton's binary tensor data extension to the V2 protocol, which `tritonclient` uses by
 * default: a request or response body is a JSON header of `Inference-Header-Content-Length`
 * bytes followed by raw tensors, each named in the header by its
 * `parameters.binary_data_size`, in the order the tensors are listed. Numbers are
 * little-endian; BOOL is one byte per value; BYTES is each element's 4-byte little-endian
 * length, then its bytes. Every malformed part is a 400 naming the tensor, never a throw
 * from a typed-array constructor.
 *
 * Usage: `const body = splitBinaryRequest(buffer, headerLength, parseJson)`;
 * `const reply = encodeBinaryOutputs(header, tensors, wantsBinary)`.
 */
import { LoomError } from '../../core/errors.js';

/** The header that marks a body with binary tensors, and gives the JSON part's length. */
export const BINARY_HEADER = 'inference-header-content-length';

/** A tensor as the JSON header lists it. */
interface HeaderTensor {
  name?: unknown;
  datatype?: unknown;
  shape?: unknown;
  data?: unknown;
  parameters?: { binary_data_size?: unknown; binary_data?: unknown };
}

/** Bytes per value of the fixed-width datatypes Loom's models take and give. */
const WIDTH: Record<string, number> = { FP32: 4, FP64: 8, INT32: 4, INT64: 8, BOOL: 1 };

/** The JSON length a request announces: a whole number no larger than the body. */
export function headerLength(value: string | string[] | undefined, bodyBytes: number): number {
  const text = Array.isArray(value) ? value[0] : value;
  const length = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || length > bodyBytes) {
    throw new LoomError('INVALID_ARGUMENT', `Inference-Header-Content-Length must be a whole number of bytes no larger than the body (${bodyBytes}), got ${JSON.stringify(text)}`, {
      field: 'Inference-Header-Content-Length',
      fix: 'send the byte length of the JSON part of the body',
    });
  }
  return length;
}

/**
 * A binary request's JSON header, with the binary tensors it names decoded into each
 * input's `data`: after this the request is an ordinary V2 JSON request.
 */
export function decodeBinaryInputs(header: unknown, binary: Buffer): unknown {
  if (header === null || typeof header !== 'object' || !Array.isArray((header as { inputs?: unknown }).inputs)) return header;
  let offset = 0;
  const inputs = (header as { inputs: unknown[] }).inputs.map((input, i) => {
    const tensor = input as HeaderTensor | null;
    const size = tensor?.parameters?.binary_data_size;
    if (tensor === null || typeof tensor !== 'object' || size === undefined) return input;
    const field = `inputs[${i}].parameters.binary_data_size`;
    if (!Number.isInteger(size) || (size as number) < 0 || offset + (size as number) > binary.length) {
      throw new LoomError('INVALID_ARGUMENT', `${field} must be a whole number of bytes within the ${binary.length - offset} binary bytes left`, { field });
    }
    const bytes = binary.subarray(offset, offset + (size as number));
    offset += size as number;
    return { ...tensor, data: decodeTensor(String(tensor.datatype), bytes, `inputs[${i}]`) };
  });
  if (offset !== binary.length) {
    throw new LoomError('INVALID_ARGUMENT', `the body has ${binary.length - offset} binary bytes that no input's binary_data_size accounts for`, { field: 'body' });
  }
  return { ...(header as object), inputs };
}

/** One tensor's values from its raw bytes (Triton's binary data, or a gRPC request's `raw_input_contents`); `field` names it in errors. */
export function decodeTensor(datatype: string, bytes: Buffer, field: string): unknown[] {
  if (datatype === 'BYTES') return decodeStrings(bytes, field);
  const width = WIDTH[datatype];
  if (width === undefined) {
    throw new LoomError('INVALID_ARGUMENT', `${field}.datatype ${datatype} is not supported as binary data (supported: BYTES, ${Object.keys(WIDTH).join(', ')})`, { field: `${field}.datatype` });
  }
  if (bytes.length % width !== 0) {
    throw new LoomError('INVALID_ARGUMENT', `${field} has ${bytes.length} binary bytes, not a whole number of ${datatype} values (${width} bytes each)`, { field: `${field}.parameters.binary_data_size` });
  }
  const count = bytes.length / width;
  const values = new Array(count);
  for (let i = 0; i < count; i++) values[i] = readValue(datatype, bytes, i * width, field);
  return values;
}

function readValue(datatype: string, bytes: Buffer, at: number, field: string): unknown {
  switch (datatype) {
    case 'FP32':
      return bytes.readFloatLE(at);
    case 'FP64':
      return bytes.readDoubleLE(at);
    case 'INT32':
      return bytes.readInt32LE(at);
    case 'BOOL':
      return bytes[at] !== 0;
    default: {
      const value = bytes.readBigInt64LE(at);
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new LoomError('INVALID_ARGUMENT', `${field} holds the INT64 ${value}, beyond what Loom's models take exactly (±2^53)`, { field });
      }
      return Number(value);
    }
  }
}

/** BYTES elements: a 4-byte little-endian length, then that many bytes of UTF-8. */
function decodeStrings(bytes: Buffer, field: string): string[] {
  const values: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw new LoomError('INVALID_ARGUMENT', `${field} ends inside a BYTES element's 4-byte length`, { field });
    const length = bytes.readUInt32LE(at);
    at += 4;
    if (at + length > bytes.length) throw new LoomError('INVALID_ARGUMENT', `${field} has a BYTES element of ${length} bytes but only ${bytes.length - at} are left`, { field });
    values.push(bytes.toString('utf8', at, at + length));
    at += length;
  }
  return values;
}

/** An answer tensor, as the V2 route builds it. */
export interface AnswerTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: readonly unknown[];
}

/** Which outputs a request wants as binary: an output's own `binary_data` wins over the request's `binary_data_output`. */
export function binaryOutputChoice(body: unknown): (name: string) => boolean {
  const request = (body ?? {}) as { parameters?: { binary_data_output?: unknown }; outputs?: unknown };
  const all = request.parameters?.binary_data_output === true;
  const own = new Map<string, boolean>();
  if (Array.isArray(request.outputs)) {
    for (const output of request.outputs as HeaderTensor[]) {
      const wanted = output?.parameters?.binary_data;
      if (typeof output?.name === 'string' && typeof wanted === 'boolean') own.set(output.name, wanted);
    }
  }
  return (name) => own.get(name) ?? all;
}

/**
 * The response body for outputs some of which go as binary: the JSON header (those
 * outputs carry `binary_data_size` instead of `data`) and the bytes after it, and the
 * header's length for `Inference-Header-Content-Length`. Undefined when none is binary.
 */
export function encodeBinaryOutputs(answer: Record<string, unknown>, tensors: AnswerTensor[], wantsBinary: (name: string) => boolean): { body: Buffer; headerLength: number } | undefined {
  if (!tensors.some((tensor) => wantsBinary(tensor.name))) return undefined;
  const parts: Buffer[] = [];
  const outputs = tensors.map((tensor) => {
    if (!wantsBinary(tensor.name)) return tensor;
    const bytes = encodeTensor(tensor);
    parts.push(bytes);
    return { name: tensor.name, shape: tensor.shape, datatype: tensor.datatype, parameters: { binary_data_size: bytes.length } };
  });
  const header = Buffer.from(JSON.stringify({ ...answer, outputs }));
  return { body: Buffer.concat([header, ...parts]), headerLength: header.length };
}

/** One tensor's raw bytes (Triton's binary data, or a gRPC answer's `raw_output_contents`). */
export function encodeTensor(tensor: AnswerTensor): Buffer {
  if (tensor.datatype === 'BYTES') {
    const strings = tensor.data.map((value) => Buffer.from(String(value)));
    const bytes = Buffer.alloc(strings.reduce((sum, s) => sum + 4 + s.length, 0));
    let at = 0;
    for (const s of strings) {
      bytes.writeUInt32LE(s.length, at);
      s.copy(bytes, at + 4);
      at += 4 + s.length;
    }
    return bytes;
  }
  const width = WIDTH[tensor.datatype]!;
  const bytes = Buffer.alloc(tensor.data.length * width);
  tensor.data.forEach((value, i) => writeValue(tensor.datatype, bytes, i * width, value));
  return bytes;
}

function writeValue(datatype: string, bytes: Buffer, at: number, value: unknown): void {
  switch (datatype) {
    case 'FP32':
      bytes.writeFloatLE(value as number, at);
      return;
    case 'FP64':
      bytes.writeDoubleLE(value as number, at);
      return;
    case 'INT32':
      bytes.writeInt32LE(value as number, at);
      return;
    case 'BOOL':
      bytes[at] = value ? 1 : 0;
      return;
    default:
      bytes.writeBigInt64LE(BigInt(value as number), at);
  }
}
