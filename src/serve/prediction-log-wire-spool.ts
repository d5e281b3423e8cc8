/**
 * The log worker's spool of packed batches kept as they arrived: each batch's typed arrays
 * (prediction-log-wire.ts) written to the file as they are, after a small JSON header, one
 * frame per batch. Writing a batch costs the worker a header and a file append, nothing per
 * value: turning the values into the text DuckDB reads (prediction-log-frames.ts) and into
 * Parquet is left to the conversion (prediction-log-convert.ts), which runs at rotation,
 * by default in a low-priority process beside the server (prediction-log-converter.ts), so
 * that under full load the log's heavy work waits for idle time instead of taking the
 * serving core. The spool is on disk from the moment a batch is written, so waiting loses
 * nothing.
 *
 * A frame: the magic `LWS1`, the header's byte length and the values' byte length (u32
 * little-endian each), the header (JSON: the batch's counts, input names, failures, and each
 * value sequence's length, string unit count and odd values), then for the head and the body
 * in turn their tags (a byte per value), string units (UTF-16, two bytes each) and numbers
 * (float64). The typed arrays are written in the machine's byte order: a spool is read back
 * on the machine that wrote it. A crash can cut only the last frame short; it is found by its
 * lengths, and dropped whole, never half read.
 *
 * Usage: `appendFile(spool, wireFrame(batch))`; at conversion `readWireSpool(await readFile(spool)).batches`.
 */
import { LoomError } from '../core/errors.js';
import type { PackedBatch } from './prediction-log-pack.js';
import type { WireValues } from './prediction-log-wire.js';

const MAGIC = 0x3153574c; // "LWS1" read as a little-endian u32
const PREFIX_BYTES = 12;

interface FrameHeader {
  count: number;
  rows: number;
  names: string[][];
  failures: (string | number)[];
  head: { length: number; charCount: number; others: unknown[] };
  body: { length: number; charCount: number; others: unknown[] };
}

/** A packed batch as one spool frame. */
export function wireFrame(batch: PackedBatch): Buffer {
  const sequence = (wire: WireValues) => ({ length: wire.length, charCount: wire.charCount, others: wire.others });
  const header: FrameHeader = { count: batch.count, rows: batch.rows, names: batch.names, failures: batch.failures, head: sequence(batch.head), body: sequence(batch.body) };
  const headerBytes = Buffer.from(JSON.stringify(header));
  const parts = [...valueParts(batch.head), ...valueParts(batch.body)];
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.writeUInt32LE(MAGIC, 0);
  prefix.writeUInt32LE(headerBytes.length, 4);
  prefix.writeUInt32LE(
    parts.reduce((sum, part) => sum + part.length, 0),
    8,
  );
  return Buffer.concat([prefix, headerBytes, ...parts]);
}

/** A value sequence's tags, string units and numbers as bytes (views, not copies). */
function valueParts(wire: WireValues): Buffer[] {
  return [
    Buffer.from(wire.tags.buffer, wire.tags.byteOffset, wire.length),
    Buffer.from(wire.chars.buffer, wire.chars.byteOffset, wire.charCount * 2),
    Buffer.from(wire.numbers.buffer, wire.numbers.byteOffset, wire.length * 8),
  ];
}

/**
 * The batches of a wire spool's bytes, and where its last whole frame ends (less than the
 * bytes' length when a crash cut the last frame short). Throws FAILED_PRECONDITION when a
 * frame is not one this log wrote.
 */
export function readWireSpool(bytes: Buffer, spool: string): { batches: PackedBatch[]; end: number } {
  const batches: PackedBatch[] = [];
  let at = 0;
  while (bytes.length - at >= PREFIX_BYTES) {
    if (bytes.readUInt32LE(at) !== MAGIC) throw foreign(spool, `no frame starts at byte ${at}`);
    const headerLength = bytes.readUInt32LE(at + 4);
    const valuesLength = bytes.readUInt32LE(at + 8);
    const end = at + PREFIX_BYTES + headerLength + valuesLength;
    if (end > bytes.length) break;
    let header: FrameHeader;
    try {
      header = JSON.parse(bytes.toString('utf8', at + PREFIX_BYTES, at + PREFIX_BYTES + headerLength)) as FrameHeader;
    } catch {
      throw foreign(spool, `the frame at byte ${at} has no readable header`);
    }
    let from = at + PREFIX_BYTES + headerLength;
    const sequence = (described: FrameHeader['head']): WireValues => {
      const tags = new Uint8Array(described.length);
      tags.set(bytes.subarray(from, (from += described.length)));
      // Copied out (not viewed): the file's bytes are not aligned for 2- and 8-byte arrays.
      const chars = new Uint16Array(described.charCount);
      new Uint8Array(chars.buffer).set(bytes.subarray(from, (from += described.charCount * 2)));
      const numbers = new Float64Array(described.length);
      new Uint8Array(numbers.buffer).set(bytes.subarray(from, (from += described.length * 8)));
      return { length: described.length, tags, numbers, charCount: described.charCount, chars, others: described.others };
    };
    const head = sequence(header.head);
    const body = sequence(header.body);
    if (from !== end) throw foreign(spool, `the frame at byte ${at} holds ${end - at} bytes but describes ${from - at}`);
    batches.push({ count: header.count, rows: header.rows, names: header.names, failures: header.failures, head, body });
    at = end;
  }
  return { batches, end: at };
}

function foreign(spool: string, why: string): LoomError {
  return new LoomError('FAILED_PRECONDITION', `the prediction log spool ${spool} is not one this log wrote: ${why}`, {
    fix: 'move the spool out of the log directory (it is tried again at every start while it is there) and look at it by hand',
  });
}
