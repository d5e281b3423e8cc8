import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { currentOwner, ownerGoneReason, ownerOfPid, ownerState, parseOwner } from './process-owner.js';

test('a killed process is gone, a running one alive, one on another host unknown', async () => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  const owner = ownerOfPid(child.pid!);
  assert.equal(ownerState(owner), 'alive');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  assert.equal(ownerState(owner), 'gone');
  assert.equal(ownerState({ ...owner, host: `not-${hostname()}` }), 'unknown');
  assert.equal(ownerGoneReason(owner), `owner process ${owner.pid} on host ${hostname()} exited without finishing`);
});

test('a pid reused by another process is gone: the start token differs', () => {
  const self = currentOwner();
  assert.equal(ownerState(self), 'alive');
  if (self.startToken === null) return; // no /proc here: only the pid can be checked
  assert.equal(ownerState({ ...self, startToken: `${self.startToken}0` }), 'gone');
});

test('stored owners are parsed, anything else is not an owner', () => {
  const self = currentOwner();
  assert.deepEqual(parseOwner(JSON.stringify(self)), self);
  assert.deepEqual(parseOwner(self), self);
  for (const bad of ['{', 'null', '{"pid":"1","host":"h","startToken":null}', { pid: 0, host: 'h', startToken: null }, undefined]) assert.equal(parseOwner(bad), undefined);
});

test('a process of another pid namespace on this host (a container sharing its hostname) is unknown, not gone: its pid cannot be checked from here', { skip: !existsSync('/proc/self/ns/pid') }, () => {
  const self = currentOwner();
  // A pid above Linux's largest: no process has it in this namespace.
  const elsewhere = { pid: 4_194_305, host: hostname(), startToken: self.startToken, pidNamespace: 'pid:[1]' };
  assert.equal(ownerState(elsewhere), 'unknown');
  assert.deepEqual(parseOwner(JSON.stringify(elsewhere)), elsewhere, 'the namespace is kept when stored');
  assert.equal(ownerState({ ...elsewhere, pidNamespace: self.pidNamespace }), 'gone', 'in this namespace the pid is checked');
});
