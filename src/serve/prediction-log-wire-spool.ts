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
 * A frame: the magic `LWS1`, the header's byte length, the values' byte length and the CRC-32
 * of both (u32 little-endian each), the header (JSON: the batch's counts, input names,
 * failures, and each value sequence's length, string unit count and odd values), then for the
 * head and the body in turn their tags (a byte per value), string units (UTF-16, two bytes
 * each) and numbers (float64). The typed arrays are written in the machine's byte order: a
 * spool is read back on the machine that wrote it. A crash can cut only the last frame short,
 * or leave zeros where the file grew but its data never reached the disk; either is found by
 * the lengths and the checksum, and the spool is cut there (`wireSpoolEnd`), never half read.
 *
 * Usage: `appendFile(spool, wireFrame(batch))`; at conversion `for await (const batch of wireBatches(spool)) …`.
 */
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { LoomError } from '../core/errors.js';
import type { PackedBatch } from './prediction-log-pack.js';
import type { WireValues } from './prediction-log-wire.js';

const MAGIC = 0x3153574c; // "LWS1" read as a little-endian u32
const PREFIX_BYTES = 16;

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
  let checksum = crc32(headerBytes);
  for (const part of parts) checksum = crc32(part, checksum);
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.writeUInt32LE(MAGIC, 0);
  prefix.writeUInt32LE(headerBytes.length, 4);
  prefix.writeUInt32LE(
    parts.reduce((sum, part) => sum + part.length, 0),
    8,
  );
  prefix.writeUInt32LE(checksum, 12);
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

/** A frame's bytes after its prefix, at `offset` in the spool. */
interface RawFrame {
  offset: number;
  headerLength: number;
  payload: Buffer;
}

/**
 * The whole frames of a wire spool, read one at a time; stops at the first frame that is cut
 * short, or whose checksum fails over bytes that are all zero (the tail a crash can leave).
 * `end` (when given) is told where the last whole frame ends. Throws FAILED_PRECONDITION at
 * anything else that is not a frame this log wrote.
 */
async function* rawFrames(spool: string, end?: (at: number) => void): AsyncGenerator<RawFrame> {
  const file = await open(spool, 'r');
  try {
    const size = (await file.stat()).size;
    const prefix = Buffer.alloc(PREFIX_BYTES);
    let at = 0;
    while (size - at >= PREFIX_BYTES) {
      await file.read(prefix, 0, PREFIX_BYTES, at);
      const headerLength = prefix.readUInt32LE(4);
      const payloadLength = headerLength + prefix.readUInt32LE(8);
      const magic = prefix.readUInt32LE(0) === MAGIC;
      if (magic && at + PREFIX_BYTES + payloadLength > size) break;
      const payload = magic ? Buffer.alloc(payloadLength) : Buffer.alloc(0);
      if (magic) await file.read(payload, 0, payloadLength, at + PREFIX_BYTES);
      if (!magic || crc32(payload) !== prefix.readUInt32LE(12)) {
        if (await zerosFrom(file, at, size)) break;
        throw foreign(spool, magic ? `the frame at byte ${at} fails its checksum` : `no frame starts at byte ${at}`);
      }
      yield { offset: at, headerLength, payload };
      at += PREFIX_BYTES + payloadLength;
    }
    end?.(at);
  } finally {
    await file.close();
  }
}

/** Whether every byte of the file from `at` to `size` is zero. */
async function zerosFrom(file: Awaited<ReturnType<typeof open>>, at: number, size: number): Promise<boolean> {
  const block = Buffer.alloc(64 * 1024);
  for (let from = at; from < size; from += block.length) {
    const { bytesRead } = await file.read(block, 0, Math.min(block.length, size - from), from);
    for (let i = 0; i < bytesRead; i++) if (block[i] !== 0) return false;
  }
  return true;
}

/** Where a wire spool's last whole frame ends (less than its size when a crash left a torn or zeroed tail). */
export async function wireSpoolEnd(spool: string): Promise<number> {
  let end = 0;
  for await (const frame of rawFrames(spool, (at) => (end = at))) void frame;
  return end;
}

/** The batches of a wire spool, read one at a time (a torn or zeroed tail is not read). */
export async function* wireBatches(spool: string): AsyncGenerator<PackedBatch> {
  for await (const { offset, headerLength, payload } of rawFrames(spool)) {
    let header: FrameHeader;
    try {
      header = JSON.parse(payload.toString('utf8', 0, headerLength)) as FrameHeader;
    } catch {
      throw foreign(spool, `the frame at byte ${offset} has no readable header`);
    }
    let from = headerLength;
    const sequence = (described: FrameHeader['head']): WireValues => {
      const tags = new Uint8Array(described.length);
      tags.set(payload.subarray(from, (from += described.length)));
      // Copied out (not viewed): the file's bytes are not aligned for 2- and 8-byte arrays.
      const chars = new Uint16Array(described.charCount);
      new Uint8Array(chars.buffer).set(payload.subarray(from, (from += described.charCount * 2)));
      const numbers = new Float64Array(described.length);
      new Uint8Array(numbers.buffer).set(payload.subarray(from, (from += described.length * 8)));
      return { length: described.length, tags, numbers, charCount: described.charCount, chars, others: described.others };
    };
    const head = sequence(header.head);
    const body = sequence(header.body);
    if (from !== payload.length) throw foreign(spool, `the frame at byte ${offset} holds ${payload.length} bytes but describes ${from}`);
    yield { count: header.count, rows: header.rows, names: header.names, failures: header.failures, head, body };
  }
}

function foreign(spool: string, why: string): LoomError {
  return new LoomError('FAILED_PRECONDITION', `the prediction log spool ${spool} is not one this log wrote: ${why}`, {
    fix: 'move the spool out of the log directory (it is tried again at every start while it is there) and look at it by hand',
  });
}
