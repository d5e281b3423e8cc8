/**
 * `loom monitor retention [--json]`: applies the prediction log's retention policy
 * (`monitor.retention` in loom.config.json) now, and says what it removed. `loom serve` applies
 * the same policy on its own every `everyMinutes`; this command is for a log that no server
 * is writing, or for a pass on demand.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { applyRetention, retentionConfigured } from '../../monitor/retention.js';
import { loadConfig } from '../../platform/config.js';
import { requireProject } from '../../platform/platform.js';
import { predictionLogLocation } from '../../platform/prediction-log-location.js';
import { parseOptions } from '../options.js';
import { printJson } from '../output.js';

const retentionOptions = z.object({ json: z.boolean().optional() });

export function registerMonitorRetentionCommand(monitor: Command): void {
  monitor
    .command('retention')
    .description("apply the prediction log's retention policy (monitor.retention in loom.config.json) now")
    .option('--json', 'print what was removed as JSON')
    .action(async (raw: unknown) => {
      const options = parseOptions(retentionOptions, raw);
      const config = loadConfig();
      requireProject(config);
      const policy = config.monitor.retention;
      if (!retentionConfigured(policy)) {
        throw new LoomError('FAILED_PRECONDITION', 'no retention policy is set, so the prediction log keeps everything', {
          field: 'monitor.retention',
          fix: 'set "monitor": { "retention": { "maxAgeDays": 30 } } (or "maxSize": "10GiB") in loom.config.json',
        });
      }
      const result = await applyRetention(predictionLogLocation(config), policy);
      if (options.json) return printJson(result);
      const removed = result.removedRows !== undefined ? `${result.removedRows} rows` : `${result.removedFiles.length} files${result.removedOrphanProfiles.length > 0 ? ` and ${result.removedOrphanProfiles.length} profiles left without their file` : ''}`;
      process.stdout.write(`removed ${removed}; the prediction log now takes ${(result.bytes / 2 ** 20).toFixed(1)} MiB\n`);
    });
}
