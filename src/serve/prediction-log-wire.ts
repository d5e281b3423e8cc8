/**
 * The values of a packed batch as they cross from the serving thread to the log's worker:
 * typed arrays, moved with the message (postMessage's transfer list) instead of copied. Each
 * value is a tag and a number (a number itself, or a string's length in UTF-16 units, its
 * units appended to one character buffer); booleans and null are tags only; anything else (no
 * feature or output holds it today) is kept aside as it is and cloned. Arrays of plain values
 * cost the serving thread three times over: pushing onto arrays that outlive the young
 * generation, tracing them in the old one, and cloning them element by element; these cost a
 * store per value, and the worker turns them back into arrays of values.
 *
 * Strings are copied as UTF-16 units (not encoded as UTF-8), so every string, a lone surrogate
 * included, arrives exactly as it was logged. Strings that nearly every record repeats (its
 * model's name, role, protocol, output names and types: `putShared`) go once per sequence, as
 * strings cloned with the message, and each value refers to one by index: nothing per record is
 * copied unit by unit here or rebuilt as a new string in the worker.
 *
 * Usage: `const values = new ValueWriter(); values.put(x); values.putShared(name); const wire = values.take(); transfer(wire)`;
 * in the worker `readValues(wire)`.
 */

const NUMBER = 0;
const TEXT = 1;
const TRUE = 2;
const FALSE = 3;
const NULL = 4;
/** Anything else, kept in `others` (its index in `numbers`). */
const OTHER = 5;
/** A string put with `putShared`, kept once in `shared` (its index in `numbers`). */
const SHARED = 6;

/** A sequence of values as typed arrays (see the module comment): `length` values, `charCount` string units. */
export interface WireValues {
  length: number;
  tags: Uint8Array;
  numbers: Float64Array;
  charCount: number;
  chars: Uint16Array;
  others: unknown[];
  shared: string[];
}

/** The smallest buffers a writer starts with (in values); it starts again at the size of its last sequence. */
const MIN_VALUES = 1024;

/** Appends values to typed arrays that grow by doubling; `take` hands them over and starts new ones. */
export class ValueWriter {
  private tags: Uint8Array;
  private numbers: Float64Array;
  private chars: Uint16Array;
  private others: unknown[] = [];
  private shared: string[] = [];
  private sharedIndex = new Map<string, number>();
  private length = 0;
  private charCount = 0;
  /** Buffers of an earlier sequence, handed back by its reader (`recycle`), for `take` to start the next one with. */
  private spare: { tags: Uint8Array; numbers: Float64Array; chars: Uint16Array } | undefined;

  constructor(capacity = MIN_VALUES) {
    // At least one value: growing doubles, and twice nothing is nothing (writes past a typed array's end are dropped silently).
    capacity = Math.max(1, Math.floor(capacity));
    this.tags = new Uint8Array(capacity);
    this.numbers = new Float64Array(capacity);
    this.chars = new Uint16Array(capacity * 4);
  }

  put(value: unknown): void {
    if (this.length === this.tags.length) this.grow();
    const n = this.length++;
    if (typeof value === 'number') {
      this.tags[n] = NUMBER;
      this.numbers[n] = value;
    } else if (typeof value === 'string') {
      this.tags[n] = TEXT;
      this.numbers[n] = value.length;
      this.text(value);
    } else if (value === true) this.tags[n] = TRUE;
    else if (value === false) this.tags[n] = FALSE;
    else if (value === null) this.tags[n] = NULL;
    else {
      this.tags[n] = OTHER;
      this.numbers[n] = this.others.length;
      this.others.push(value);
    }
  }

  /** Puts a string that many values of the sequence repeat: the first time as itself, after that by reference. */
  putShared(value: string): void {
    if (this.length === this.tags.length) this.grow();
    let index = this.sharedIndex.get(value);
    if (index === undefined) {
      index = this.shared.length;
      this.shared.push(value);
      this.sharedIndex.set(value, index);
    }
    const n = this.length++;
    this.tags[n] = SHARED;
    this.numbers[n] = index;
  }

  /** The values put so far; the writer starts a new sequence, with buffers the size this one needed. */
  take(): WireValues {
    const wire: WireValues = { length: this.length, tags: this.tags, numbers: this.numbers, charCount: this.charCount, chars: this.chars, others: this.others, shared: this.shared };
    const capacity = Math.max(MIN_VALUES, this.length);
    const charCapacity = Math.max(MIN_VALUES * 4, this.charCount);
    const spare = this.spare;
    this.spare = undefined;
    // Spare buffers large enough for a sequence like this one are used again (every value and
    // unit is written before it is read, so what they held does not matter); else new ones.
    const reuse = spare !== undefined && spare.tags.length >= capacity && spare.chars.length >= charCapacity;
    this.tags = reuse ? spare.tags : new Uint8Array(capacity);
    this.numbers = reuse ? spare.numbers : new Float64Array(capacity);
    this.chars = reuse ? spare.chars : new Uint16Array(charCapacity);
    this.others = [];
    this.shared = [];
    this.sharedIndex = new Map();
    this.length = 0;
    this.charCount = 0;
    return wire;
  }

  /**
   * Takes back the buffers of a sequence this writer made (`wireBuffers`' three, in that order)
   * once its reader is done with them, for `take` to use again: no new buffers zeroed per batch.
   */
  recycle([tags, numbers, chars]: readonly ArrayBuffer[]): void {
    if (!tags || !numbers || !chars || tags.byteLength === 0) return;
    const spare = { tags: new Uint8Array(tags), numbers: new Float64Array(numbers), chars: new Uint16Array(chars) };
    if (spare.numbers.length !== spare.tags.length) return;
    if (!this.spare || spare.tags.length > this.spare.tags.length) this.spare = spare;
  }

  private text(value: string): void {
    const end = this.charCount + value.length;
    if (end > this.chars.length) {
      const chars = new Uint16Array(Math.max(end, this.chars.length * 2));
      chars.set(this.chars.subarray(0, this.charCount));
      this.chars = chars;
    }
    const chars = this.chars;
    for (let i = 0, at = this.charCount; i < value.length; i++, at++) chars[at] = value.charCodeAt(i);
    this.charCount = end;
  }

  private grow(): void {
    const tags = new Uint8Array(this.tags.length * 2);
    tags.set(this.tags);
    const numbers = new Float64Array(this.numbers.length * 2);
    numbers.set(this.numbers);
    this.tags = tags;
    this.numbers = numbers;
  }
}

/** The buffers to move with a message carrying `wire` (they are unusable on the sending side afterwards). */
export function wireBuffers(wire: WireValues): ArrayBuffer[] {
  return [wire.tags.buffer as ArrayBuffer, wire.numbers.buffer as ArrayBuffer, wire.chars.buffer as ArrayBuffer];
}

/** The values of a sequence as one array, strings rebuilt from their units. */
export function readValues(wire: WireValues): unknown[] {
  const { tags, numbers, others, shared } = wire;
  const text = unitsText(wire.chars, wire.charCount);
  const values: unknown[] = new Array<unknown>(wire.length);
  let at = 0;
  for (let n = 0; n < wire.length; n++) {
    switch (tags[n]) {
      case NUMBER:
        values[n] = numbers[n];
        break;
      case TEXT: {
        const end = at + numbers[n]!;
        values[n] = text.slice(at, end);
        at = end;
        break;
      }
      case TRUE:
        values[n] = true;
        break;
      case FALSE:
        values[n] = false;
        break;
      case NULL:
        values[n] = null;
        break;
      case SHARED:
        values[n] = shared[numbers[n]!];
        break;
      default:
        values[n] = others[numbers[n]!];
    }
  }
  return values;
}

/**
 * Whether no string of the sequence holds a surrogate (paired or not) or a NUL, and nothing is
 * kept aside: then no JSON text made of its values holds an escape that `wellFormedJson`
 * (prediction-log-spool.ts) would rewrite. A scan of the units as they came, cheaper than
 * searching the JSON text for such escapes; a batch with an emoji is only searched as before.
 */
export function plainWireText(wire: WireValues): boolean {
  if (wire.others.length > 0) return false;
  const chars = wire.chars;
  for (let i = 0; i < wire.charCount; i++) {
    const unit = chars[i]!;
    if (unit === 0 || (unit >= 0xd800 && unit <= 0xdfff)) return false;
  }
  return wire.shared.every(plainText);
}

/** Whether a string holds no surrogate and no NUL (see `plainWireText`). */
export function plainText(value: string): boolean {
  return !SURROGATE_OR_NUL.test(value);
}

const SURROGATE_OR_NUL = /[\ud800-\udfff\0]/;

/**
 * UTF-16 units as one string, unchanged: Buffer's UTF-16LE decoding copies the units as they are
 * (a lone surrogate and NUL included), where a TextDecoder would replace a lone surrogate and
 * `String.fromCharCode` over slices cost the worker several times as much per batch.
 */
function unitsText(chars: Uint16Array, count: number): string {
  return Buffer.from(chars.buffer, chars.byteOffset, count * 2).toString('utf16le');
}
