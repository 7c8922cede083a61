/**
 * The embedded Temporal Web UI, served through the api at /temporal-ui/ to signed-in operators only.
 *
 * Why through the api: the dev server's UI has no authentication of its own, and its codec requests carry no
 * credential unless they are same-origin. Served from the api's origin, every UI request is an operator's request
 * (a session from /login), and the UI's calls to the codec endpoint (/codec, src/http/codec.ts) are same-origin, so
 * they carry the session cookie: the operator who signed in reads decoded histories (secrets masked), nobody else
 * does. The launcher starts the dev server's UI on loopback with the public path /temporal-ui and tells the api
 * where it is (TEMPORAL_UI_UPSTREAM).
 *
 * A plain reverse proxy: method, path, query, body and the UI's own headers and cookies (its CSRF cookie) pass
 * through; the operator's session cookie and any Authorization header do not.
 */
import http from 'node:http';
import { Router, type Request, type Response } from 'express';
import type { Logger } from '../log.js';
import { SESSION_COOKIE, type OperatorSessions } from './operator/sessions.js';

export const TEMPORAL_UI_PATH = '/temporal-ui';

/** Hop-by-hop headers (RFC 9110 §7.6.1), never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** The request's cookies minus the operator session's, which is this server's business only. */
function forwardedCookies(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const kept = header
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c !== '' && !c.startsWith(`${SESSION_COOKIE}=`));
  return kept.length > 0 ? kept.join('; ') : undefined;
}

export function temporalUiRouter(upstream: string, sessions: OperatorSessions, log: Logger): Router {
  const router = Router();
  const target = new URL(upstream);

  router.use(TEMPORAL_UI_PATH, async (req: Request, res: Response) => {
    if (!(await sessions.find(req))) {
      if (req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) {
        res.redirect(303, `/login?return=${encodeURIComponent(req.originalUrl)}`);
      } else {
        res.status(401).json({ code: 'unauthorized', message: 'Sign in at /login to use the Temporal UI' });
      }
      return;
    }
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name) || name === 'authorization' || name === 'cookie') continue;
      headers[name] = value;
    }
    const cookies = forwardedCookies(req.headers.cookie);
    if (cookies) headers.cookie = cookies;
    headers.host = target.host;
    const upstreamReq = http.request(
      { protocol: target.protocol, hostname: target.hostname, port: target.port, method: req.method, path: req.originalUrl, headers },
      (upstreamRes) => {
        const out: http.OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(upstreamRes.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
        }
        res.writeHead(upstreamRes.statusCode ?? 502, out);
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.setTimeout(60_000, () => upstreamReq.destroy(new Error('the Temporal UI did not answer in 60 s')));
    upstreamReq.on('error', (err) => {
      log.warn('Temporal UI proxy failed', { path: req.path, error: err.message });
      if (!res.headersSent) res.status(502).json({ code: 'bad_gateway', message: 'The Temporal UI is not reachable right now' });
      else res.destroy();
    });
    req.pipe(upstreamReq);
  });
  return router;
}
