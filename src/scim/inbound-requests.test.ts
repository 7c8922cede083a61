import { ServiceError, type Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { InboundProvisionInput } from '../../workflows/inbound-provision.js';
import { KeyedDigest } from '../crypto/keyed-digest.js';
import { ScimError } from './errors.js';
import { INBOUND_REQUEST_ID, InboundRequests, inboundWorkflowId, requestFingerprint, startFailureOf, type WriteAdmission, type WriteRequest } from './inbound-requests.js';

describe('keyed write requests', () => {
  it('fingerprints a request independently of how its JSON was serialized', () => {
    const a = requestFingerprint('POST', '/users', { userName: 'a', name: { givenName: 'A', familyName: 'B' } }, null);
    const b = requestFingerprint('POST', '/users', JSON.parse('{"name":{"familyName":"B","givenName":"A"},"userName":"a"}'), null);
    expect(a).toBe(b);
    expect(requestFingerprint('POST', '/users', { userName: 'b' }, null)).not.toBe(a);
    expect(requestFingerprint('PUT', '/users', { userName: 'a', name: { givenName: 'A', familyName: 'B' } }, null)).not.toBe(a);
    expect(requestFingerprint('POST', '/users', { userName: 'a', name: { givenName: 'A', familyName: 'B' } }, 'W/"1"')).not.toBe(a);
    // Arrays keep their order: a different order is a different request.
    expect(requestFingerprint([1, 2])).not.toBe(requestFingerprint([2, 1]));
  });

  it('derives one workflow id per key and caller: other applications, users and Bulk operations get their own', () => {
    const app = { applicationId: 'app-1' };
    const id = inboundWorkflowId(app, { key: 'k' });
    expect(id).toMatch(INBOUND_REQUEST_ID);
    expect(inboundWorkflowId({ applicationId: 'app-1' }, { key: 'k' })).toBe(id);
    const others = [
      inboundWorkflowId({ applicationId: 'app-2' }, { key: 'k' }),
      inboundWorkflowId({ applicationId: 'app-1', userId: 'u' }, { key: 'k' }),
      inboundWorkflowId(app, { key: 'k', operation: 0 }),
      inboundWorkflowId(app, { key: 'k:0' }),
      inboundWorkflowId(app, { key: 'K' }),
    ];
    expect(new Set([id, ...others]).size).toBe(others.length + 1);
  });
});

/** A gRPC failure as the Temporal client reports it: a ServiceError caused by the status. */
const grpcFailure = (code: number, message = `gRPC status ${code}`) => new ServiceError(message, { cause: Object.assign(new Error(message), { code }) });

describe('what a failed start means for the caller', () => {
  it('RESOURCE_EXHAUSTED: refused for now (saturated); a bad argument or a missing namespace: refused; anything else: not confirmed', () => {
    expect(startFailureOf(grpcFailure(8))).toBe('saturated');
    for (const code of [3, 5, 7, 9, 11, 12, 16]) expect(startFailureOf(grpcFailure(code)), String(code)).toBe('refused');
    for (const code of [1, 2, 4, 10, 13, 14]) expect(startFailureOf(grpcFailure(code)), String(code)).toBe('unconfirmed');
    expect(startFailureOf(new Error('socket hang up'))).toBe('unconfirmed');
  });
});

/**
 * InboundRequests over a stand-in for the Temporal client, for the answers a start's failures get; what a real server
 * answers is test/idempotency.test.ts's and test/backpressure.test.ts's.
 */
describe('InboundRequests under a saturated engine', () => {
  const fingerprints = new KeyedDigest([{ id: 'k1', key: Buffer.alloc(32, 1) }], 'request-fingerprint');
  const input = { operation: 'create', user: { userName: 'a' } } as unknown as InboundProvisionInput;
  const scope = { applicationId: 'app' };

  function admission() {
    const seen: { overloaded: string[]; held: Promise<unknown>[] } = { overloaded: [], held: [] };
    let cut!: () => void;
    const lent: WriteAdmission = {
      cut: new Promise<void>((r) => (cut = r)),
      holdUntil: (p) => void seen.held.push(p),
      overloaded: (source, detail) => void seen.overloaded.push(`${source}: ${detail}`),
      retryAfterSeconds: () => 7,
    };
    return { lent, seen, cut: () => cut() };
  }

  function requests(workflow: { start: () => Promise<unknown>; getHandle?: () => unknown }, engineTimeoutMs?: number) {
    const deadlines: number[] = [];
    const temporal = {
      withDeadline: (deadline: number, fn: () => Promise<unknown>) => {
        deadlines.push(deadline);
        return fn();
      },
      workflow,
    } as unknown as Client;
    return { deadlines, requests: new InboundRequests({ temporal, taskQueue: 'q', requestTimeoutMs: 40_000, engineTimeoutMs, fingerprints }) };
  }

  const request = (a?: WriteAdmission): WriteRequest => ({ key: 'key-1', keyFromClient: false, fingerprint: 'f', deadline: Date.now() + 40_000, admission: a });

  it('RESOURCE_EXHAUSTED on start is 429 with the api\'s Retry-After and the key (nothing was recorded), and tells the bound', async () => {
    const a = admission();
    const { requests: r } = requests({ start: () => Promise.reject(grpcFailure(8)) });
    const err = await r.run(input, request(a.lent), scope, []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScimError);
    expect((err as ScimError).status).toBe(429);
    expect((err as ScimError).detail).toMatch(/saturated[\s\S]*nothing was applied/);
    expect((err as ScimError).headers).toEqual({ 'Retry-After': '7', 'Idempotency-Key': '"key-1"' });
    expect(a.seen.overloaded).toEqual(['engine: RESOURCE_EXHAUSTED on start']);
  });

  it('a start the engine does not confirm within ENGINE_TIMEOUT_MS is 503 with the key (it may have been recorded), never a wait to the deadline', async () => {
    const a = admission();
    const { requests: r, deadlines } = requests({ start: () => Promise.reject(grpcFailure(4, 'deadline exceeded')) }, 5000);
    const before = Date.now();
    const err = await r.run(input, request(a.lent), scope, []).catch((e: unknown) => e);
    expect((err as ScimError).status).toBe(503);
    expect((err as ScimError).detail).toMatch(/may have been accepted[\s\S]*same Idempotency-Key/);
    expect((err as ScimError).headers['Idempotency-Key']).toBe('"key-1"');
    expect(deadlines[0]).toBeLessThanOrEqual(Date.now() + 5000);
    expect(deadlines[0]).toBeGreaterThanOrEqual(before + 5000);
    expect(a.seen.overloaded).toHaveLength(1);
  });

  it('a start refused for good is still 500, and is no saturation', async () => {
    const a = admission();
    const { requests: r } = requests({ start: () => Promise.reject(grpcFailure(3, 'bad argument')) });
    const err = await r.run(input, request(a.lent), scope, []).catch((e: unknown) => e);
    expect((err as ScimError).status).toBe(500);
    expect(a.seen.overloaded).toEqual([]);
  });

  it('cut loose while the workflow runs: answered as still running (202), and the workflow keeps its place until it ends', async () => {
    const a = admission();
    let finish!: (v: unknown) => void;
    const result = new Promise((r) => (finish = r));
    const { requests: r } = requests({ start: () => Promise.resolve({ result: () => result }) });
    const outcome = r.run(input, request(a.lent), scope, []);
    a.cut();
    expect(await outcome).toEqual({ pending: { workflowId: inboundWorkflowId(scope, { key: 'key-1' }), key: 'key-1' } });
    expect(a.seen.held).toHaveLength(1);
    finish({ ok: true });
    await expect(a.seen.held[0]).resolves.toEqual({ ok: true });
  });

  it('a workflow that finishes first is answered with its result, whatever the cut does after', async () => {
    const a = admission();
    const { requests: r } = requests({ start: () => Promise.resolve({ result: () => Promise.resolve({ ok: true, user: { id: 'u1' } }) }) });
    expect(await r.run(input, request(a.lent), scope, [])).toEqual({ ok: true, user: { id: 'u1' } });
    a.cut();
    expect(a.seen.held).toEqual([]);
  });
});
