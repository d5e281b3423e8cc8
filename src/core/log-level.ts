/** The log levels a Loom server takes (pino's), most severe first; `silent` logs nothing. */
import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const logLevelSchema = z.enum(LOG_LEVELS, { error: `is not a log level; use one of ${LOG_LEVELS.join(', ')}` });
