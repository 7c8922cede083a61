/**
 * The codec endpoint for the Temporal Web UI (https://docs.temporal.io/production-deployment/data-encryption):
 * the UI posts encrypted payloads to `/codec/decode` and shows what comes back.
 *
 * Who may call it: an operator, in every mode: with the admin credential (HTTP Basic), or with an operator
 * session (the sign-in page, src/http/operator/router.ts), which is how the Temporal UI's own requests carry it:
 * the embedded UI is served through this api (src/http/temporal-ui.ts), so its requests to /codec are
 * same-origin and carry the session cookie; a UI on another origin (docker-compose) sends it with
 * `includeCredentials`, and its origin must be TEMPORAL_UI_URL's (CORS below).
 *
 * What it shows: the payloads in clear, but never a secret. Passwords are sealed before they enter a workflow
 * (src/crypto/sealed-secret.ts), so they reach this endpoint as ciphertext it cannot open, and show as a mask;
 * values of secret-looking keys are masked too, and so are the passwords of SCIM PATCH operations in histories
 * recorded before sealing existed (they sit under `value`, not under a key that says password).
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Payload } from '@temporalio/common';
import { isSealed } from '../crypto/sealed-secret.js';
import { mapPatchPasswords } from '../scim/patch-password.js';
import type { EncryptionCodec } from '../temporal/codec.js';
import { authenticateAdmin, throttledMessage } from './auth.js';
import type { AppContext } from './context.js';
import { jsonBody } from './input.js';
import type { OperatorSessions } from './operator/sessions.js';

const SECRET_KEY = /^(password|passwordHash|defaultPassword|secret|secrets|clientSecret|client_secret|privateKey|apiKey|token|access_token|refresh_token)$/i;
export const MASK = '********';

/**
 * Masks every secret of a decoded value, at any depth: sealed values, values of secret-looking keys, and the
 * passwords a PATCH body sets. Iterative over an explicit stack, so no payload is too deep for it.
 */
export function maskSecrets(value: unknown): unknown {
  const visit = (v: unknown, depth: number): unknown => {
    if (isSealed(v)) return MASK;
    if (v === null || typeof v !== 'object') return v;
    if (depth > 64) return '[not shown: nested too deep]';
    if (Array.isArray(v)) return v.map((x) => visit(x, depth + 1));
    const masked = mapPatchPasswords(v, () => MASK) as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(masked).map(([k, x]) => [k, SECRET_KEY.test(k) && x !== null && x !== undefined ? MASK : visit(x, depth + 1)]),
    );
  };
  return visit(value, 0);
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/** A decoded payload as the UI may see it: JSON with its secrets masked; anything it cannot inspect, withheld. */
function masked(p: Payload): Payload {
  const encoding = Buffer.from(p.metadata?.encoding ?? new Uint8Array()).toString();
  if (encoding === 'binary/null') return p;
  const withheld = (why: string): Payload => ({
    metadata: { encoding: Buffer.from('json/plain') },
    data: Buffer.from(JSON.stringify(`[not shown: ${why}]`)),
  });
  if (encoding !== 'json/plain') return withheld(`a ${encoding || 'untyped'} payload`);
  try {
    const value = JSON.parse(Buffer.from(p.data ?? new Uint8Array()).toString('utf8')) as unknown;
    return { ...p, data: Buffer.from(JSON.stringify(maskSecrets(value))) };
  } catch {
    return withheld('not valid JSON');
  }
}

export function codecRouter(ctx: AppContext, codec: EncryptionCodec, sessions: OperatorSessions, uiOrigins: string[]): Router {
  const router = Router();
  const ownOrigin = new URL(ctx.config.api.publicBaseUrl).origin;
  router.use(async (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (origin && uiOrigins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    // The admin credential, under the login guard (a wrong one counts as a failure from this address; none, nothing).
    const auth = await authenticateAdmin(ctx, req);
    if (auth.outcome === 'accepted') {
      next();
      return;
    }
    if (auth.outcome === 'throttled') {
      res.setHeader('Retry-After', String(auth.retryAfterSeconds));
      res.status(429).json({ code: 'too_many_requests', message: throttledMessage(auth.retryAfterSeconds) });
      return;
    }
    // A session cookie counts only on requests from this server's pages or from the configured UI: another site
    // cannot make a signed-in browser decode for it (its fetch would carry the cookie, but not an allowed Origin).
    const allowedOrigin = origin === undefined || origin === ownOrigin || uiOrigins.includes(origin);
    if (allowedOrigin && (await sessions.find(req))) {
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', 'Basic realm="provisioning codec"');
    res.status(401).json({ code: 'unauthorized', message: 'The codec endpoint needs an operator: the admin credential, or a session from /login' });
  });
  // A payload's data is one base64 string, as long as the payload: only the body as a whole is bounded.
  router.use(jsonBody({ type: ['application/json'], limit: '4mb', maxStringLength: 4 * 1024 * 1024 }));
  const payloadsOf = (body: unknown): JsonPayload[] => {
    const list = (body as { payloads?: unknown } | undefined)?.payloads;
    return Array.isArray(list) ? (list as JsonPayload[]) : [];
  };
  router.post('/decode', async (req, res) => {
    const decoded = await codec.decode(payloadsOf(req.body).map(fromJson));
    res.setHeader('Cache-Control', 'no-store');
    res.json({ payloads: decoded.map(masked).map(toJson) });
  });
  router.post('/encode', async (req, res) => {
    const encoded = await codec.encode(payloadsOf(req.body).map(fromJson));
    res.json({ payloads: encoded.map(toJson) });
  });
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: unknown }).status;
    const code = typeof status === 'number' && status >= 400 && status < 500 ? status : 400;
    res.status(code).json({ code: 'invalid_request', message: 'The payloads could not be decoded (malformed, or encrypted with a key this server does not have)' });
  });
  return router;
}
