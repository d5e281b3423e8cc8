import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { readValues, ValueWriter, wireBuffers } from './prediction-log-wire.js';

test('values cross as typed arrays and come back equal: numbers (-0, NaN, ±Infinity, fractions), strings (empty, non-ASCII, lone surrogates, NUL), booleans, null, anything else', () => {
  const values: unknown[] = [0, -0, 1.5, -7, 2 ** 53 + 2, NaN, Infinity, -Infinity, '', 'SFO', 'Zürich ☃ 🚀', '\ud800', 'a\udc00b', '\0', true, false, null, undefined, 12n, { nested: [1] }];
  const writer = new ValueWriter(2);
  for (const value of values) writer.put(value);
  const wire = writer.take();
  assert.equal(wire.length, values.length);
  // As the log's worker gets them: moved through a port, the sender's buffers detached.
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(wire, wireBuffers(wire));
  assert.equal(wire.numbers.byteLength, 0, 'the buffers moved, not copied');
  const received = receiveMessageOnPort(port2)!.message as typeof wire;
  port1.close();
  const back = readValues(received);
  assert.equal(back.length, values.length);
  values.forEach((value, i) => assert.ok(Object.is(back[i], value) || (typeof value === 'object' && value !== null && (assert.deepEqual(back[i], value), true)), `value ${i}: ${String(back[i])}`));
});

test('a writer made with no room at all still grows, and keeps every value', () => {
  const writer = new ValueWriter(0);
  for (const value of [1, 'two', true, null, 5]) writer.put(value);
  assert.deepEqual(readValues(writer.take()), [1, 'two', true, null, 5]);
});

test('a writer grows past its buffers (values and characters) and starts each sequence empty after take', () => {
  const writer = new ValueWriter(4);
  const long = 'x'.repeat(100_000);
  const first = Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? `v${i}` : i));
  for (const value of first) writer.put(value);
  writer.put(long);
  assert.deepEqual(readValues(writer.take()), [...first, long]);
  writer.put('next');
  writer.put(1);
  assert.deepEqual(readValues(writer.take()), ['next', 1]);
  assert.deepEqual(readValues(writer.take()), []);
});

test('strings come back unit for unit when the characters end in half a surrogate pair, or hold a pair split across two values', () => {
  const values = ['pair \ud83d', '\ude80 split', 'two-byte Zürich', '\0', 'last \udbff'];
  const writer = new ValueWriter(1);
  for (const value of values) writer.put(value);
  const back = readValues(writer.take());
  assert.deepEqual(back, values);
  assert.deepEqual(back.map((value) => (value as string).length), values.map((value) => value.length));
});

test('shared strings cross once per sequence and come back in place, mixed with the others, and the writer forgets them after take', () => {
  const writer = new ValueWriter(2);
  const values: unknown[] = [];
  for (let i = 0; i < 5; i++) {
    for (const shared of ['flights', 'primary', 'half\ud800', '']) {
      writer.putShared(shared);
      values.push(shared);
    }
    writer.put(`r${i}`);
    values.push(`r${i}`);
  }
  const wire = writer.take();
  assert.deepEqual(wire.shared, ['flights', 'primary', 'half\ud800', '']);
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(wire, wireBuffers(wire));
  const received = receiveMessageOnPort(port2)!.message as typeof wire;
  port1.close();
  assert.deepEqual(readValues(received), values);
  writer.putShared('canary');
  const next = writer.take();
  assert.deepEqual(next.shared, ['canary']);
  assert.deepEqual(readValues(next), ['canary']);
});

test('buffers handed back after their sequence was read start a later sequence (no new ones zeroed), and what they held does not show through', () => {
  const writer = new ValueWriter(4);
  const first = [...Array.from({ length: 2000 }, (_, i) => (i % 2 ? i / 3 : `value ${i}`)), 'x'.repeat(5000)];
  for (const value of first) writer.put(value);
  const wire = writer.take();
  // As the log's worker does: the buffers move to the reader, it reads the values, they move back.
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(wire, wireBuffers(wire));
  const received = receiveMessageOnPort(port2)!.message as typeof wire;
  assert.deepEqual(readValues(received), first);
  port2.postMessage(wireBuffers(received), wireBuffers(received));
  const handedBack = receiveMessageOnPort(port1)!.message as ArrayBuffer[];
  port1.close();
  writer.recycle(handedBack);

  // The sequence being written when they came back has its own buffers; the next one starts with the handed-back ones.
  writer.put('second');
  assert.deepEqual(readValues(writer.take()), ['second']);
  const third = [true, 'SFO', 2.5, null, 'ORD'];
  for (const value of third) writer.put(value);
  const reused = writer.take();
  assert.equal(reused.tags.buffer, handedBack[0]);
  assert.equal(reused.numbers.buffer, handedBack[1]);
  assert.equal(reused.chars.buffer, handedBack[2]);
  assert.deepEqual(readValues(reused), third);

  // Buffers too small for the sequences being written are not kept: new ones are made.
  const small = new ValueWriter();
  small.put(1);
  small.recycle(wireBuffers(new ValueWriter(8).take()));
  small.take();
  small.put(2);
  const fresh = small.take();
  assert.ok(fresh.tags.length >= 1024);
  assert.deepEqual(readValues(fresh), [2]);
});
