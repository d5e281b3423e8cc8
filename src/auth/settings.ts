/**
 * Authentication settings, as the platform config carries them (`auth:` in the config
 * file; the config module validates with this schema).
 */
import { z } from 'zod';
import { jwtSettingsSchema } from './jwt.js';

export const authSettingsSchema = z
  .object({
    /** Every request needs a token or a JWT. Without it a server runs open, which only loopback may. */
    required: z.boolean().default(false),
    /** Run open on a non-loopback address anyway (warned about at start). */
    insecureOpen: z.boolean().default(false),
    /** An identity provider's JWTs are accepted too. */
    jwt: jwtSettingsSchema.optional(),
  })
  .strict();
export type AuthSettings = z.output<typeof authSettingsSchema>;
