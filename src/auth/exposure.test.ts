import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideExposure, isAllowedHost, isLoopback } from './exposure.js';

describe('exposure', () => {
  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.ok(isLoopback(host), host);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.5', 'example.com', '128.0.0.1']) assert.ok(!isLoopback(host), host);
  });

  it('runs open only on loopback unless forced, and never when authentication is required', () => {
    const local = decideExposure({ host: '127.0.0.1', authRequired: false, forceOpen: false });
    assert.equal(local.open, true);
    assert.match(local.notice, /open on loopback/);
    assert.throws(() => decideExposure({ host: '0.0.0.0', authRequired: false, forceOpen: false }), { code: 'FAILED_PRECONDITION' });
    const forced = decideExposure({ host: '0.0.0.0', authRequired: false, forceOpen: true });
    assert.deepEqual([forced.open, forced.allowedHosts], [true, undefined]);
    assert.match(forced.notice, /WARNING/);
    assert.equal(decideExposure({ host: '0.0.0.0', authRequired: true, forceOpen: false }).open, false);
    assert.equal(decideExposure({ host: '127.0.0.1', authRequired: true, forceOpen: true }).open, false);
  });

  it('accepts only the allowed Host names, with any port (DNS rebinding)', () => {
    const allowed = decideExposure({ host: '127.0.0.1', authRequired: false, forceOpen: false }).allowedHosts!;
    for (const header of ['localhost:5000', '127.0.0.1', '[::1]:8080', 'LOCALHOST']) assert.ok(isAllowedHost(header, allowed), header);
    for (const header of [undefined, '', 'evil.example:5000', '127.0.0.1.evil.example', 'localhost:5000:1', 'localhost@evil']) assert.ok(!isAllowedHost(header, allowed), String(header));
  });
});
