/**
 * A small in-memory SCIM 2.0 Users endpoint for the rules' end-to-end tests (test/rules-*.test.ts): many targets in
 * one test process, each recording every call in order, so a test can say what reached which target, in which order
 * and how many times. Users only (connectors are configured without a group endpoint) and PUT for updates
 * (`updateMethod: put`), which is all a delivery needs.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Instance } from './harness.js';

export interface TargetCall {
  method: string;
  path: string;
  body?: Record<string, unknown>;
}

export interface ScimTarget {
  readonly base: string;
  readonly calls: TargetCall[];
  /** The users it holds, by id. */
  readonly users: Map<string, Record<string, unknown>>;
  byUserName(userName: string): Record<string, unknown> | undefined;
  /** The writes (POST, PUT, DELETE) that named this userName (or its remote id), in order. */
  writesFor(userName: string): TargetCall[];
  /** While true, the target is down: every request is answered 503 (transient: the delivery retries) and not recorded. */
  down: boolean;
  /** How many requests were answered 503 while down. */
  readonly refusedWhileDown: number;
  close(): Promise<void>;
}

const SCIM = 'application/scim+json';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

export async function startScimTarget(): Promise<ScimTarget> {
  const calls: TargetCall[] = [];
  const users = new Map<string, Record<string, unknown>>();
  /** remote id -> userName, kept after a delete so writesFor still finds the DELETE. */
  const names = new Map<string, string>();
  const byUserName = (userName: string) => [...users.values()].find((u) => String(u.userName).toLowerCase() === userName.toLowerCase());
  const state = { down: false, refusedWhileDown: 0 };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      const method = req.method ?? 'GET';
      if (state.down) {
        state.refusedWhileDown += 1;
        res.writeHead(503, { 'content-type': SCIM });
        res.end(JSON.stringify({ schemas: [ERROR], status: '503', detail: 'down' }));
        return;
      }
      calls.push({ method, path: url.pathname, ...(body && { body }) });
      const send = (status: number, payload?: unknown) => {
        res.writeHead(status, { 'content-type': SCIM });
        res.end(payload === undefined ? '' : JSON.stringify(payload));
      };
      const id = /^\/Users\/([^/]+)$/.exec(url.pathname)?.[1];
      if (url.pathname === '/Users' && method === 'POST' && body) {
        if (byUserName(String(body.userName))) return send(409, { schemas: [ERROR], status: '409', scimType: 'uniqueness', detail: 'userName exists' });
        const created = { ...body, id: crypto.randomUUID() };
        users.set(created.id, created);
        names.set(created.id, String(body.userName));
        return send(201, created);
      }
      if (url.pathname === '/Users' && method === 'GET') {
        const m = /^userName eq "(.*)"$/.exec(url.searchParams.get('filter') ?? '');
        const found = m ? [byUserName(m[1]!)].filter((u) => u) : [...users.values()];
        return send(200, { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: found.length, Resources: found });
      }
      if (id && (method === 'PUT' || method === 'GET' || method === 'DELETE')) {
        const existing = users.get(id);
        if (!existing) return send(404, { schemas: [ERROR], status: '404', detail: 'no such user' });
        if (method === 'GET') return send(200, existing);
        if (method === 'DELETE') {
          users.delete(id);
          return send(204);
        }
        const replaced = { ...body, id };
        users.set(id, replaced);
        return send(200, replaced);
      }
      return send(404, { schemas: [ERROR], status: '404', detail: `no ${method} ${url.pathname}` });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    calls,
    users,
    byUserName,
    writesFor(userName: string) {
      return calls.filter((c) => {
        if (c.method === 'GET') return false;
        if (typeof c.body?.userName === 'string' && c.body.userName.toLowerCase() === userName.toLowerCase()) return true;
        const id = /^\/Users\/([^/]+)$/.exec(c.path)?.[1];
        return id !== undefined && names.get(id)?.toLowerCase() === userName.toLowerCase();
      });
    },
    get down() {
      return state.down;
    },
    set down(value: boolean) {
      state.down = value;
    },
    get refusedWhileDown() {
      return state.refusedWhileDown;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * An identity provider `idpName` with a SCIM 2.0 connector to `target`, linked from the resident service provider (or
 * the application `applicationId`) with Enable Rules (and the link's other settings from `link`).
 */
export async function linkRuledTarget(
  instance: Instance,
  idpName: string,
  target: ScimTarget,
  link: Record<string, unknown> = {},
  applicationId = 'resident',
): Promise<{ connectorId: string; linkId: string }> {
  const res = await instance.request(
    'POST',
    '/api/server/v1/identity-providers',
    {
      name: idpName,
      outboundConnectors: [
        {
          type: 'scim2',
          settings: { userEndpoint: `${target.base}/Users`, updateMethod: 'put', timeoutMs: 5000 },
          retry: { initialIntervalMs: 200, maximumIntervalMs: 1000 },
        },
      ],
    },
    { 'Content-Type': 'application/json' },
  );
  if (res.status !== 201) throw new Error(`creating ${idpName} failed: ${res.status} ${await res.text()}`);
  const connectorId = ((await res.json()) as { outboundConnectors: { id: string }[] }).outboundConnectors[0]!.id;
  const linked = await instance.request('POST', `/api/server/v1/applications/${applicationId}/provisioning/outbound-connectors`, { connectorId, rulesEnabled: true, ...link }, { 'Content-Type': 'application/json' });
  if (linked.status !== 201) throw new Error(`linking ${idpName} failed: ${linked.status} ${await linked.text()}`);
  return { connectorId, linkId: ((await linked.json()) as { id: string }).id };
}

/** Saves (creates or updates) a policy through the admin API; throws with the answer when refused. */
export async function putPolicy(instance: Instance, xml: string, opts: { profile?: 'clean' | 'wso2'; update?: boolean } = {}): Promise<Record<string, unknown>> {
  const id = /(?:PolicyId|PolicySetId)="([^"]+)"/.exec(xml)?.[1];
  const path = opts.update ? `/api/server/v1/rules/policies/${encodeURIComponent(id!)}` : `/api/server/v1/rules/policies?profile=${opts.profile ?? 'clean'}`;
  const res = await instance.request(opts.update ? 'PUT' : 'POST', path, xml, { 'Content-Type': 'application/xml' });
  const text = await res.text();
  if (res.status !== (opts.update ? 200 : 201)) throw new Error(`saving policy ${id} failed: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}
