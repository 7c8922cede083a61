/**
 * An HTTP proxy for fault tests (node:http), in front of one server instance:
 *   - `delayMs`: forwards each request at once and holds the upstream answer that long (deliveries in flight);
 *   - `failureRate` + `seed`: a pseudo-random (seeded, so reproducible) share of requests fails, in turn as
 *       503 with `Retry-After: 0` (not forwarded), a dropped connection before forwarding, and a dropped
 *       connection after forwarding (the target applied the change, the caller never hears of it).
 *   - `scripted`: faults in order, each for the next request it matches: answered with its status (default 500),
 *       before forwarding (the target never saw the request) or, with `afterForwarding`, after it (the target
 *       applied it, the caller hears an error);
 * Counts what it did, so a test can show the faults happened, and logs each request (method, path, the
 * Authorization scheme without the credential, the status answered).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { prng } from './prng.js';

export type FaultKind = '503' | 'drop-before' | 'drop-after';

/** One scripted fault: the next request it matches gets `status` instead of the upstream's answer. */
export interface ScriptedFault {
  /** Which requests it applies to (default: any). `path` includes the query string. */
  match?: (req: { method: string; path: string }) => boolean;
  /** The status answered (default 500), with a SCIM error body. */
  status?: number;
  /** Forward the request first, then answer `status` (the target applied the change). */
  afterForwarding?: boolean;
}

export interface ProxyLogEntry {
  method: string;
  path: string;
  /** The Authorization scheme (`Basic`, `Bearer`), never the credential. */
  auth: string | undefined;
  /** What the caller got: a status, or 'dropped'. */
  status: number | 'dropped';
}

export interface FaultProxyOptions {
  delayMs?: number;
  failureRate?: number;
  seed?: number;
  /** The Retry-After header of the 503 answers (seconds); default '0'. */
  retryAfter?: string;
  /** Faults in order, each consumed by the first request it matches (see ScriptedFault). */
  scripted?: ScriptedFault[];
}

export interface FaultProxy {
  url: string;
  stats: { requests: number; forwarded: number; faults: Record<FaultKind, number>; scripted: number };
  /** Every request, in arrival order. */
  log: ProxyLogEntry[];
  close(): Promise<void>;
}


const FORWARDED_HEADERS = ['authorization', 'content-type', 'accept', 'if-match', 'if-none-match'];

export async function startFaultProxy(upstreamBaseUrl: string, opts: FaultProxyOptions = {}): Promise<FaultProxy> {
  const random = prng(opts.seed ?? 1);
  const failureRate = opts.failureRate ?? 0;
  const kinds: FaultKind[] = ['503', 'drop-before', 'drop-after'];
  let nextKind = 0;
  const stats: FaultProxy['stats'] = { requests: 0, forwarded: 0, faults: { '503': 0, 'drop-before': 0, 'drop-after': 0 }, scripted: 0 };
  const log: ProxyLogEntry[] = [];
  const scripted = [...(opts.scripted ?? [])];

  const server = http.createServer((req, res) => {
    stats.requests += 1;
    const entry: ProxyLogEntry = { method: req.method ?? '', path: req.url ?? '', auth: req.headers.authorization?.split(' ')[0], status: 'dropped' };
    log.push(entry);
    const next = scripted[0];
    const script = next && (next.match?.({ method: entry.method, path: entry.path }) ?? true) ? scripted.shift() : undefined;
    const fault = !script && failureRate > 0 && random() < failureRate ? kinds[nextKind++ % kinds.length]! : undefined;
    const answerScripted = (status: number) => {
      stats.scripted += 1;
      entry.status = status;
      res.writeHead(status, { 'Content-Type': 'application/scim+json' });
      res.end(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), detail: 'scripted fault' }));
    };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        if (script && !script.afterForwarding) {
          answerScripted(script.status ?? 500);
          return;
        }
        if (fault === '503') {
          stats.faults['503'] += 1;
          entry.status = 503;
          res.writeHead(503, { 'Retry-After': opts.retryAfter ?? '0', 'Content-Type': 'application/scim+json' });
          res.end(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503', detail: 'flapping proxy' }));
          return;
        }
        if (fault === 'drop-before') {
          stats.faults['drop-before'] += 1;
          req.socket.destroy();
          return;
        }
        let status: number;
        let contentType: string;
        let body: string;
        try {
          const upstream = await fetch(`${upstreamBaseUrl}${req.url}`, {
            method: req.method,
            headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => FORWARDED_HEADERS.includes(k))) as Record<string, string>,
            ...(chunks.length > 0 && { body: Buffer.concat(chunks) }),
          });
          stats.forwarded += 1;
          status = upstream.status;
          contentType = upstream.headers.get('content-type') ?? 'application/json';
          body = await upstream.text();
        } catch {
          req.socket.destroy(); // the upstream is down: the caller sees a connection error
          return;
        }
        if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
        if (fault === 'drop-after') {
          stats.faults['drop-after'] += 1;
          req.socket.destroy();
          return;
        }
        if (script) {
          answerScripted(script.status ?? 500);
          return;
        }
        if (!res.destroyed) {
          entry.status = status;
          res.writeHead(status, { 'content-type': contentType });
          res.end(body);
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
