/**
 * The codec endpoint for the Temporal Web UI (https://docs.temporal.io/production-deployment/data-encryption):
 * the UI posts encrypted payloads to `/codec/decode` and shows what comes back. Secrets are masked on the
 * way out, so an operator reads workflow inputs and results, never a password or a connector credential.
 *
 * Who may call it: with the admin credential (HTTP Basic), always. Without it, only in embedded mode,
 * where the api listens on loopback and the dev server's UI (itself unauthenticated) calls it from the
 * browser. In production, put the UI behind its own authentication and give operators the credential.
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Payload } from '@temporalio/common';
import type { EncryptionCodec } from '../temporal/codec.js';
import { authenticateAdmin, throttledMessage } from './auth.js';
import type { AppContext } from './context.js';

const SECRET_KEY = /^(password|defaultPassword|secret|secrets|clientSecret|client_secret|privateKey|apiKey|token)$/i;
export const MASK = '********';

/** Replaces the values of secret-looking keys, at any depth. */
export function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) && v !== null && v !== undefined ? MASK : maskSecrets(v)]));
  }
  return value;
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

function masked(p: Payload): Payload {
  const encoding = Buffer.from(p.metadata?.encoding ?? new Uint8Array()).toString();
  if (encoding !== 'json/plain' || !p.data) return p;
  try {
    const value = JSON.parse(Buffer.from(p.data).toString('utf8')) as unknown;
    return { ...p, data: Buffer.from(JSON.stringify(maskSecrets(value))) };
  } catch {
    return p;
  }
}

export function codecRouter(ctx: AppContext, codec: EncryptionCodec, uiOrigins: string[]): Router {
  const router = Router();
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
    // Embedded mode lets anybody in (see above), so a credential there is not even looked at: no guessing oracle.
    if (ctx.config.mode !== 'embedded') {
      const auth = await authenticateAdmin(ctx, req);
      if (auth.outcome === 'throttled') {
        res.setHeader('Retry-After', String(auth.retryAfterSeconds));
        res.status(429).json({ code: 'too_many_requests', message: throttledMessage(auth.retryAfterSeconds) });
        return;
      }
      if (auth.outcome === 'refused') {
        res.setHeader('WWW-Authenticate', 'Basic realm="provisioning codec"');
        res.status(401).json({ code: 'unauthorized', message: 'The codec endpoint needs the admin credential' });
        return;
      }
    }
    next();
  });
  router.use(express.json({ limit: '4mb' }));
  const payloadsOf = (body: unknown): JsonPayload[] => {
    const list = (body as { payloads?: unknown } | undefined)?.payloads;
    return Array.isArray(list) ? (list as JsonPayload[]) : [];
  };
  router.post('/decode', async (req, res) => {
    const decoded = await codec.decode(payloadsOf(req.body).map(fromJson));
    res.json({ payloads: decoded.map(masked).map(toJson) });
  });
  router.post('/encode', async (req, res) => {
    const encoded = await codec.encode(payloadsOf(req.body).map(fromJson));
    res.json({ payloads: encoded.map(toJson) });
  });
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(400).json({ code: 'invalid_request', message: err instanceof Error ? err.message : 'cannot decode' });
  });
  return router;
}
