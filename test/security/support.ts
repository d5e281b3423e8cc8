/**
 * Helpers for the robustness tests: a project with a served model, the real `loom serve` /
 * `loom server` started as a user starts them, and raw loopback sockets for what `fetch`
 * cannot send (pipelined requests, malformed request lines, trickled bodies).
 *
 * Usage: `const served = await startLoom(['serve', 'flights', '--port', '0'], { home, t });`
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import type { TestContext } from 'node:test';
import { LOOM_BIN } from '../support/cli.js';

export interface RunningLoom {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or signal name) when the process exits. */
  exited: Promise<number | string>;
}

/** Starts `loom <args>` in `home` and waits until it prints the URL it listens on. */
export async function startLoom(args: string[], options: { home: string; t: TestContext; env?: Record<string, string> }): Promise<RunningLoom> {
  const child = spawn(process.execPath, [LOOM_BIN, ...args], {
    cwd: options.home,
    env: { ...process.env, LOOM_HOME: options.home, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  options.t.after(() => void child.kill('SIGKILL'));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const match = /(?:serving at|Loom API at) (http:\/\/[^\s)]+)/.exec(stderr);
    if (match) return { url: match[1]!, child, stderr: () => stderr, exited };
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) throw new Error(`loom ${args.join(' ')} did not start:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The process ids of a process's children (Linux `/proc`). */
export async function childPids(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.split(/\s+/).filter(Boolean).map(Number);
}

export interface RawResponse {
  status: number;
  head: string;
  body: string;
}

/**
 * Writes `raw` bytes on one connection and reads responses until `expected` have arrived or
 * the server closes the connection. Responses are split on their status lines and
 * Content-Length (every Loom response carries one, or is chunked and then the last).
 */
export function rawExchange(url: string, raw: string | Buffer, expected: number, timeoutMs = 15_000): Promise<{ responses: RawResponse[]; closed: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let data = Buffer.alloc(0);
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ responses: splitResponses(data), closed });
    };
    const timer = setTimeout(() => {
      settled = true;
      socket.destroy();
      reject(new Error(`no ${expected} responses within ${timeoutMs} ms; got: ${data.toString('latin1').slice(0, 500)}`));
    }, timeoutMs);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (splitResponses(data).length >= expected) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.write(raw);
  });
}

function splitResponses(data: Buffer): RawResponse[] {
  const responses: RawResponse[] = [];
  let offset = 0;
  while (offset < data.length) {
    const headEnd = data.indexOf('\r\n\r\n', offset);
    if (headEnd < 0) break;
    const head = data.subarray(offset, headEnd).toString('latin1');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
    if (!status) break;
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    const bodyStart = headEnd + 4;
    if (length) {
      const end = bodyStart + Number(length[1]);
      if (end > data.length) break;
      responses.push({ status, head, body: data.subarray(bodyStart, end).toString('utf8') });
      offset = end;
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const terminator = data.indexOf('\r\n0\r\n\r\n', bodyStart - 2);
      if (terminator < 0) break;
      responses.push({ status, head, body: data.subarray(bodyStart, terminator).toString('utf8') });
      offset = terminator + 7;
    } else {
      responses.push({ status, head, body: data.subarray(bodyStart).toString('utf8') });
      offset = data.length;
    }
  }
  return responses;
}

/** One HTTP/1.1 request as bytes, with a Content-Length when it has a body. */
export function rawRequest(method: string, path: string, options: { headers?: Record<string, string>; body?: string } = {}): string {
  const headers = { host: 'localhost', ...options.headers, ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}) };
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(headers).map(([key, value]) => `${key}: ${value}\r\n`).join('')}\r\n${options.body ?? ''}`;
}

/** `[[[...0...]]]` nested `depth` deep, the body that once blew the stack. */
export function deeplyNested(depth: number): string {
  return `${'['.repeat(depth)}0${']'.repeat(depth)}`;
}

/** A loopback port free right now (for servers whose port must stay the same across restarts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Sends `head` and then `body` one byte every `intervalMs`, the way a slowloris client
 * does, and resolves when the server closes the connection (with whatever it answered),
 * or rejects after `giveUpMs` (the server never closed it).
 */
export function trickle(url: string, head: string, body: string, intervalMs: number, giveUpMs = 20_000): Promise<{ answer: string; bytesSent: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let answer = '';
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < body.length && socket.writable) socket.write(body[sent++]!);
    }, intervalMs);
    const giveUp = setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      reject(new Error(`the server kept a trickling connection open for ${giveUpMs} ms (${sent} bytes sent)`));
    }, giveUpMs);
    const done = () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ answer, bytesSent: sent });
    };
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', done);
    socket.on('close', done);
    socket.write(head);
  });
}
