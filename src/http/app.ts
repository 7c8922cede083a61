/**
 * The express application: SCIM 2.0 at /scim2, the admin API at /api/server/v1, the OAuth 2.0 authorization
 * server and OpenID Provider under /oauth2 (with its sign-in pages under /authenticationendpoint), liveness at /health and readiness at /ready; writes wait for readiness (write-gate.ts)
 * and for a place in the bound on writes in flight (admission.ts, mounted by each API's router after authentication;
 * here for the admin API's writes that start workflows).
 * Handlers authenticate, validate and answer; they never call connectors themselves.
 */
import express, { type Express } from 'express';
import type { Logger } from '../log.js';
import { EncryptionCodec } from '../temporal/codec.js';
import { adminRouter } from './admin/router.js';
import { codecRouter } from './codec.js';
import { checkUrl } from './input.js';
import { refuse } from './refuse.js';
import type { AppContext } from './context.js';
import { healthRouter } from './health.js';
import { oauthRouter } from './oauth/provider.js';
import { federationRouter } from './federation/router.js';
import { interactionRouter } from './pages/interactions.js';
import { operatorRouter } from './operator/router.js';
import { OperatorSessions } from './operator/sessions.js';
import { scimRouter } from './scim/router.js';
import { scim11Router } from './scim11/router.js';
import { temporalUiRouter } from './temporal-ui.js';
import { ADMIN_WORKFLOW_WRITE, admitWrites } from './write-admission.js';
import { writeGate } from './write-gate.js';

export function createApp(ctx: AppContext, log: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // SCIM ETags are resource versions, set by the handlers
  // Before routing: express cannot decode a malformed route parameter and would answer 500 (src/http/input.ts).
  app.use(checkUrl(refuse));
  app.use(healthRouter(ctx.readiness));
  app.use(writeGate(ctx.readiness));
  // The provisioning APIs first: they carry nearly all the traffic, and a request walks every router mounted before
  // the one that answers it (the routers below them own paths of their own and never see a SCIM path).
  app.use('/scim2', scimRouter(ctx, log));
  app.use('/wso2/scim', scim11Router(ctx, log));
  const sessions = new OperatorSessions(ctx.db, ctx.box, {
    admin: ctx.admin,
    ttlMinutes: ctx.config.operatorSessionTtlMinutes,
    publicBaseUrl: ctx.config.api.publicBaseUrl,
  });
  app.use(operatorRouter(ctx, sessions));
  if (ctx.config.temporal.uiUpstream) app.use(temporalUiRouter(ctx.config.temporal.uiUpstream, sessions, log));
  // Discovery where WSO2 publishes it (under the issuer, /oauth2/token) and at the root; RP-initiated logout at
  // WSO2's /oidc/logout too (src/http/oauth/provider.ts).
  app.get(['/oauth2/token/.well-known/openid-configuration', '/.well-known/openid-configuration'], oauthRouter(ctx, '/.well-known/openid-configuration'));
  app.use('/oidc/logout', oauthRouter(ctx, '/logout'));
  app.use('/oauth2', oauthRouter(ctx));
  // The sign-in pages (login, IdP choice, consent) under /authenticationendpoint (src/http/pages/).
  // Federated sign-in: the hand-off to an identity provider, its callback at /commonauth, the JIT prompts
  // (src/http/federation/router.ts).
  const federation = federationRouter(ctx, log);
  app.use(federation.router);
  app.use(interactionRouter(ctx, { federation }));
  // Before the admin router and its credential check: the admin API has one caller (the operator), so its places cannot
  // be taken by anybody else, and only its few writes that start workflows count (see ADMIN_WORKFLOW_WRITE).
  app.use('/api/server/v1', admitWrites(ctx.admission, 'admin', { only: (req) => ADMIN_WORKFLOW_WRITE.test(req.path) }));
  app.use('/api/server/v1', adminRouter(ctx, log));
  app.use('/codec', codecRouter(ctx, new EncryptionCodec(ctx.box), sessions, ctx.config.temporal.uiUrl ? [new URL(ctx.config.temporal.uiUrl).origin] : []));
  app.use((req, res) => {
    res.status(404).json({ code: 'not_found', message: `Nothing at ${req.method} ${req.path}` });
  });
  return app;
}
