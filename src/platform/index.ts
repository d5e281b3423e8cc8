/**
 * The composition root: configuration (the only reader of the environment), the
 * project's layout, the backends by URL scheme, and `openPlatform()`.
 */
export { CONFIG_FILE, isDebug, loadConfig, type ConfigOverrides, type LoadConfigOptions, type LoomConfig } from './config.js';
export { projectLayout, type ProjectLayout } from './layout.js';
export { openPlatform, requireProject, withPlatform, type OpenPlatformOptions, type Platform } from './platform.js';
