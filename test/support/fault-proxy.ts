/**
 * An HTTP proxy for fault tests (node:http), in front of one server instance:
 *   - `delayMs`: forwards each request at once and holds the upstream answer that long (deliveries in flight);
 *   - `failureRate` + `seed`: a pseudo-random (seeded, so reproducible) share of requests fails, in turn as
 *       503 with `Retry-After: 0` (not forwarded), a dropped connection before forwarding, and a dropped
 *       connection after forwarding (the target applied the change, the caller never hears of it).
 * Counts what it did, so a test can show the faults happened.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultKind = '503' | 'drop-before' | 'drop-after';

export interface FaultProxyOptions {
  delayMs?: number;
  failureRate?: number;
  seed?: number;
  /** The Retry-After header of the 503 answers (seconds); default '0'. */
  retryAfter?: string;
}

export interface FaultProxy {
  url: string;
  stats: { requests: number; forwarded: number; faults: Record<FaultKind, number> };
  close(): Promise<void>;
}

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with the same faults. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FORWARDED_HEADERS = ['authorization', 'content-type', 'accept', 'if-match', 'if-none-match'];

export async function startFaultProxy(upstreamBaseUrl: string, opts: FaultProxyOptions = {}): Promise<FaultProxy> {
  const random = prng(opts.seed ?? 1);
  const failureRate = opts.failureRate ?? 0;
  const kinds: FaultKind[] = ['503', 'drop-before', 'drop-after'];
  let nextKind = 0;
  const stats: FaultProxy['stats'] = { requests: 0, forwarded: 0, faults: { '503': 0, 'drop-before': 0, 'drop-after': 0 } };

  const server = http.createServer((req, res) => {
    stats.requests += 1;
    const fault = failureRate > 0 && random() < failureRate ? kinds[nextKind++ % kinds.length]! : undefined;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        if (fault === '503') {
          stats.faults['503'] += 1;
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
        if (!res.destroyed) {
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
