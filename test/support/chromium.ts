/**
 * The Chromium the browser tests drive through playwright-core: Debian's package, found or
 * installed by scripts/chromium.mjs and named by LOOM_TEST_CHROMIUM under `npm test`.
 * Under CI a missing browser fails the test rather than skipping it.
 */
import assert from 'node:assert/strict';
import { chromium, type Browser } from 'playwright-core';

/** The executable's path, or undefined outside `npm test` (the caller skips then). */
export function testChromium(): string | undefined {
  const path = process.env.LOOM_TEST_CHROMIUM;
  if (!path && process.env.CI) assert.fail('LOOM_TEST_CHROMIUM is not set; run the tests with `npm test` (scripts/chromium.mjs installs Debian chromium)');
  return path;
}

/** Headless, offline-minded flags: no sandbox (tests run as root in containers), no background traffic. */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}
