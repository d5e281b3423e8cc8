/**
 * `GET /api/loom/session`: who the request acts for, as the principal plugin resolved it, so the
 * dashboard can say who is signed in and, on a server with authentication on, learn from the 401
 * that it must ask for a token. It reveals nothing the caller did not send.
 *
 * Usage: `await app.register(loomSessionRoutes, { prefix: LOOM_API_PREFIX })` (done by `buildPlatformApp`).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ModelGrant, PrincipalSource, Role } from '../../auth/types.js';

/** The caller as the dashboard shows it. */
export interface SessionView {
  subject: string;
  role: Role;
  /** 'token' or 'jwt' when authenticated; 'open' on a server without authentication. */
  source: PrincipalSource;
  /** Per-model permissions that replace the role's for those models. */
  grants: ModelGrant[];
}

export const loomSessionRoutes: FastifyPluginAsync = async (app) => {
  app.get('/session', { schema: { summary: 'Who the request acts for (the signed-in principal)', tags: ['loom'] } }, async (request): Promise<SessionView> => {
    const { subject, role, source, grants } = request.principal;
    return { subject, role, source, grants };
  });
};
