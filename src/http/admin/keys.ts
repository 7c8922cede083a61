/**
 * The authorization server's signing keys, mounted inside the admin API (/api/server/v1, after its authentication):
 *
 *   POST /keys/rotate   a new signing key signs from now on; the previous ones stay in the JWKS until every ID token
 *                       they signed has expired (OAUTH_ACCESS_TOKEN_TTL_SECONDS plus a minute), and the rotation
 *                       after that drops them. Every api process switches within a few seconds (KEY_CHECK_MS,
 *                       src/http/oauth/provider.ts); this one at once.
 *   GET  /keys          the published key ids, the signing one first (never a private part)
 *
 * @example
 *   curl -u admin:<pw> -X POST http://localhost:8080/api/server/v1/keys/rotate
 *   // { "version": 2, "signingKid": "...", "publishedKids": ["<new>", "<old>"], "droppedKids": [] }
 */
import { Router } from 'express';
import type { AppContext } from '../context.js';
import { loadServerKeys, rotateServerKeys } from '../oauth/keys.js';
import { keyRetentionSeconds, recheckOAuthKeys } from '../oauth/provider.js';

export function keysAdminRouter(ctx: AppContext): Router {
  const router = Router();
  router.post('/keys/rotate', async (_req, res) => {
    const result = await rotateServerKeys(ctx.db, ctx.box, keyRetentionSeconds(ctx.config));
    recheckOAuthKeys(ctx);
    res.json(result);
  });
  router.get('/keys', async (_req, res) => {
    const keys = await loadServerKeys(ctx.db, ctx.box);
    res.json({
      version: keys.version,
      keys: keys.signing.map((k) => ({ kid: k.jwk.kid, alg: k.jwk.alg, createdAt: k.createdAt, retiredAt: k.retiredAt ?? null })),
    });
  });
  return router;
}
