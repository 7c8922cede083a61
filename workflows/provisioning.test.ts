/**
 * Workflow behaviour on a real Temporal dev server (TestWorkflowEnvironment.createLocal with the
 * project's Temporal CLI), with a real worker running the workflows and in-memory activities that record
 * what they were asked to do.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { createActivities } from '../activities/index.js';
import type { DeliveryReport, OutboundTarget, ProvisioningEvent, UserRecord } from '../src/provisioning/types.js';
import { MAX_KEYWORD_BYTES, ProvisioningOperationKey, ProvisioningOutcomeKey, UserNameKey } from '../src/temporal/search-attributes.js';
import type { inboundProvision } from './inbound-provision.js';
import { HISTORIES, recordHistory, signalFanOut, useWorkflowEnvironment } from './test-support.js';

type Activities = ReturnType<typeof createActivities>;

const env = useWorkflowEnvironment();



const retry = { initialIntervalMs: 50, maximumIntervalMs: 200, backoffCoefficient: 2, maximumAttempts: 0 };
const target = (id: string, blocking = false): OutboundTarget => ({
  connectorId: id,
  connectorType: 'scim2',
  label: `idp/${id}`,
  idpName: 'idp',
  blocking,
  rulesEnabled: false,
  jitEnabled: false,
  retry,
});

function user(version: number): UserRecord {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    domain: 'PRIMARY',
    userName: 'alice',
    active: true,
    emails: [{ value: `v${version}@example.org` }],
    phoneNumbers: [],
    addresses: [],
    version,
    created: '2026-01-01T00:00:00.000Z',
    lastModified: '2026-01-01T00:00:00.000Z',
  };
}

function event(version: number, targets: OutboundTarget[], operation: ProvisioningEvent['operation'] = 'update'): ProvisioningEvent {
  return {
    eventId: `event-${version}`,
    resourceType: 'User',
    operation,
    localId: user(version).id,
    version,
    user: user(version),
    targets,
    initiator: { applicationId: 'resident', channel: 'test', label: 'test' },
  };
}

/**
 * In-memory activities: deliveries are recorded per target and in global order; `flaky` targets fail
 * the first attempts of their first event (of every event with `flakyEveryEvent`).
 */
function fakeActivities(opts: { flaky?: Record<string, number>; flakyEveryEvent?: boolean; reject?: string[]; rejectVersions?: Record<string, number[]> } = {}) {
  const delivered = new Map<string, number[]>();
  /** Per target, the versions folded into a newer delivery (audited as superseded, never sent). */
  const superseded = new Map<string, number[]>();
  const order: string[] = [];
  const attempts = new Map<string, number>();
  const enqueued: ProvisioningEvent[] = [];
  const compensations: string[] = [];
  const activities: Partial<Activities> = {
    async deliverToTarget({ event: e, target: t, superseded: folded }): Promise<DeliveryReport> {
      const key = `${t.connectorId}:${e.eventId}`;
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      const flaky = opts.flakyEveryEvent || e.version === 1 ? (opts.flaky?.[t.connectorId] ?? 0) : 0;
      if (n <= flaky) throw ApplicationFailure.retryable(`attempt ${n} failed`, 'ConnectorTransient');
      if (opts.reject?.includes(t.connectorId) || opts.rejectVersions?.[t.connectorId]?.includes(e.version)) throw ApplicationFailure.nonRetryable('400 invalid value', 'ConnectorRejected');
      await new Promise((r) => setTimeout(r, 5));
      delivered.set(t.connectorId, [...(delivered.get(t.connectorId) ?? []), e.version]);
      superseded.set(t.connectorId, [...(superseded.get(t.connectorId) ?? []), ...(folded ?? []).map((f) => f.version)]);
      order.push(`${t.connectorId}:${e.version}`);
      return { eventId: e.eventId, connectorId: t.connectorId, label: t.label, outcome: 'delivered', remoteId: `remote-${t.connectorId}` };
    },
  };
  return { activities, delivered, superseded, attempts, enqueued, order, compensations };
}

describe('OutboundFanOut', () => {
  it('delivers every event to every target in order, drops duplicate signals, and a flapping target holds back only itself', async () => {
    const fake = fakeActivities({ flaky: { flapping: 3 } });
    const taskQueue = 'fan-out-order';
    const worker = await Worker.create({
      connection: env().nativeConnection,
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundle') },
      activities: fake.activities,
    });
    await worker.runUntil(async () => {
      const targets = [target('steady'), target('flapping')];
      const workflowId = `outbound-order-${Date.now()}`;
      const start = (e: ProvisioningEvent) =>
        signalFanOut(env(), { workflowId, taskQueue }, e);
      await start(event(1, targets, 'create'));
      for (let v = 2; v <= 6; v++) await start(event(v, targets));
      await start(event(3, targets)); // a retried enqueue of an event already taken
      await env().client.workflow.getHandle(workflowId).result();
      recordHistory(env(), 'outbound-fan-out-ordered', workflowId);
    });
    // Every version is accounted for once per target: sent, or folded into a newer one sent in its place.
    for (const t of ['steady', 'flapping']) {
      const sent = fake.delivered.get(t) ?? [];
      expect([...sent, ...(fake.superseded.get(t) ?? [])].sort()).toEqual([1, 2, 3, 4, 5, 6]);
      expect(sent).toEqual([...sent].sort()); // never an older version after a newer one
      expect(sent.at(-1)).toBe(6);
    }
    // Updates 2-5 piled up while the flapping target retried the create: one delivery of 6 served them all.
    expect(fake.delivered.get('flapping')).toEqual([1, 6]);
    expect(fake.superseded.get('flapping')).toEqual([2, 3, 4, 5]);
    expect(fake.attempts.get('flapping:event-1')).toBe(4);
    // While the flapping target retried its first event, the steady one delivered everything.
    expect(fake.order.indexOf('steady:6')).toBeLessThan(fake.order.indexOf('flapping:1'));
  });

  it('when the target refuses the newest of the updates folded together, delivers the newest of the others next', async () => {
    const fake = fakeActivities({ flaky: { picky: 3 }, rejectVersions: { picky: [6] } });
    const taskQueue = 'fan-out-fold-rejected';
    const worker = await Worker.create({
      connection: env().nativeConnection,
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundle') },
      activities: fake.activities,
    });
    await worker.runUntil(async () => {
      const workflowId = `outbound-fold-${Date.now()}`;
      for (let v = 1; v <= 6; v++) {
        await signalFanOut(env(), { workflowId, taskQueue }, event(v, [target('picky')], v === 1 ? 'create' : 'update'));
      }
      await env().client.workflow.getHandle(workflowId).result();
      recordHistory(env(), 'outbound-fan-out-folded', workflowId);
      // What an operator filters on in the Temporal UI.
      const described = await env().client.workflow.getHandle(workflowId).describe();
      expect(described.typedSearchAttributes.get(ProvisioningOutcomeKey)).toBe('failed');
      expect(described.typedSearchAttributes.get(ProvisioningOperationKey)).toBe('update');
      expect(described.memo).toEqual({ summary: expect.stringMatching(/: 5 delivered, 1 failed; targets: /) as unknown });
    });
    // 6 was refused (state never sent: 2-5 were folded into it); 5, folding 2-4, went next.
    expect(fake.attempts.get('picky:event-6')).toBe(1);
    expect(fake.delivered.get('picky')).toEqual([1, 5]);
    expect(fake.superseded.get('picky')).toEqual([2, 3, 4]);
  });
});

describe('InboundProvision', () => {
  function storeActivities(fake: ReturnType<typeof fakeActivities>, targets: OutboundTarget[]): Partial<Activities> {
    return {
      ...fake.activities,
      createUser({ id, input }) {
        const { password: _password, ...rest } = input;
        return Promise.resolve({ ok: true as const, user: { ...user(1), ...rest, id } });
      },
      deleteUser({ id }) {
        fake.compensations.push(`delete ${id}`);
        return Promise.resolve({ ok: true as const, user: { ...user(2), id } });
      },
      resolveOutboundTargets() {
        return Promise.resolve(targets);
      },
      async enqueueOutboundEvent(e) {
        fake.enqueued.push(e);
        await signalFanOut(env(), { workflowId: `outbound-${e.localId}`, taskQueue: 'inbound', idleMs: 500 }, e);
      },
    };
  }

  const input = (blockingTimeoutMs = 20_000) => ({
    operation: 'create' as const,
    user: { domain: 'PRIMARY', userName: 'bob', active: true, emails: [], phoneNumbers: [], addresses: [], password: 'S3cret!pass' },
    initiator: { applicationId: 'resident', channel: 'test', label: 'test' },
    blockingTimeoutMs,
  });

  it('waits for blocking targets; one refusing undoes the create (saga) and names the target, without waiting for non-blocking targets', async () => {
    const fake = fakeActivities({ flaky: { slow: 2 }, reject: ['strict'] });
    const targets = [target('slow', true), target('strict', true), target('async', false)];
    const worker = await Worker.create({
      connection: env().nativeConnection,
      taskQueue: 'inbound',
      workflowBundle: { codePath: inject('workflowBundle') },
      activities: storeActivities(fake, targets),
    });
    const workflowId = `inbound-create-test-${Date.now()}`;
    const result = await worker.runUntil(async () => {
      const r = await env().client.workflow.execute<typeof inboundProvision>('inboundProvision', { workflowId, taskQueue: 'inbound', args: [input()] });
      recordHistory(env(), 'inbound-provision-blocking', workflowId);
      return r;
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.rejection).toEqual(expect.objectContaining({ status: 400, scimType: 'invalidValue' }));
    expect(result.rejection.detail).toMatch(/^Refused by blocking target idp\/strict: .*400 invalid value.*undone here/);
    expect(fake.delivered.get('slow')?.[0]).toBe(1); // answered only after the slow target's third attempt
    // The create was undone in the store, and the undoing delete went to every target after the create.
    const userId = fake.enqueued[0]!.localId;
    expect(fake.compensations).toEqual([`delete ${userId}`]);
    expect(fake.enqueued.map((e) => [e.operation, e.version])).toEqual([
      ['create', 1],
      ['delete', 2],
    ]);
    // The event carried the password to the fan-out (inside encrypted payloads in production).
    const enqueued = fake.enqueued[0]!;
    expect(enqueued.resourceType === 'User' && enqueued.user.password).toBe('S3cret!pass');
    expect(fake.enqueued[0]!.replyTo).toMatch(/^inbound-create-test-/);
  });

  it('answers after the blocking timeout with the targets still pending', async () => {
    const fake = fakeActivities({ flaky: { down: 1000 }, flakyEveryEvent: true });
    const worker = await Worker.create({
      connection: env().nativeConnection,
      taskQueue: 'inbound',
      workflowBundle: { codePath: inject('workflowBundle') },
      activities: storeActivities(fake, [target('down', true)]),
    });
    const result = await worker.runUntil(async () => {
      const r = await env().client.workflow.execute<typeof inboundProvision>('inboundProvision', {
        workflowId: `inbound-create-timeout-${Date.now()}`,
        taskQueue: 'inbound',
        args: [input(1500)],
      });
      // Stop the still-retrying delivery so the worker can shut down.
      await env().client.workflow.getHandle(`outbound-${fake.enqueued[0]!.localId}`).terminate('test over');
      return r;
    });
    expect(result.ok && 'pendingTargets' in result && result.pendingTargets).toEqual(['idp/down']);
  });

  it('a 10,000-character userName (which Temporal refuses as a search attribute) is cut to the keyword bound, in both workflows', async () => {
    const fake = fakeActivities();
    const worker = await Worker.create({
      connection: env().nativeConnection,
      taskQueue: 'inbound',
      workflowBundle: { codePath: inject('workflowBundle') },
      activities: storeActivities(fake, [target('async', false)]),
    });
    const long = `${'é'.repeat(5000)}${'x'.repeat(5000)}`;
    const workflowId = `inbound-create-long-${Date.now()}`;
    const base = input();
    const { result, inbound, fanOut } = await worker.runUntil(async () => {
      const r = await env().client.workflow.execute<typeof inboundProvision>('inboundProvision', {
        workflowId,
        taskQueue: 'inbound',
        args: [{ ...base, user: { ...base.user, userName: long } }],
      });
      const fanOutHandle = env().client.workflow.getHandle(`outbound-${fake.enqueued[0]!.localId}`);
      await fanOutHandle.result();
      return { result: r, inbound: await env().client.workflow.getHandle(workflowId).describe(), fanOut: await fanOutHandle.describe() };
    });
    expect(result.ok).toBe(true);
    // 'é' is two bytes: 128 of them fill the bound exactly.
    expect(inbound.typedSearchAttributes.get(UserNameKey)).toBe('é'.repeat(MAX_KEYWORD_BYTES / 2));
    expect(fanOut.typedSearchAttributes.get(UserNameKey)).toBe('é'.repeat(MAX_KEYWORD_BYTES / 2));
    expect(fake.delivered.get('async')).toEqual([1]);
  });
});

describe('recorded histories', () => {
  const files = fs.existsSync(HISTORIES) ? fs.readdirSync(HISTORIES).filter((f) => f.endsWith('.json')) : [];

  it('exist for every provisioning workflow, the fan-out from before and after updates were folded', () => {
    // outbound-fan-out-ordered predates the 'fold-superseded-updates' patch: replaying it checks that patch's guard.
    // The JitProvision ones are recorded by workflows/jit-provision.test.ts.
    expect(files.sort()).toEqual([
      'inbound-provision-blocking.json',
      'jit-provision-prompt.json',
      'jit-provision-silent.json',
      'outbound-fan-out-folded.json',
      'outbound-fan-out-ordered.json',
      // Recorded by workflows/outbound-fan-out-rules.test.ts: the rule check ('rules-decision' patch), and the check
      // asked for at delivery of a target accepted without Enable Rules ('rules-at-delivery').
      'outbound-fan-out-rules-at-delivery.json',
      'outbound-fan-out-rules.json',
    ]);
  });

  it.each(files)('%s replays deterministically on the current workflow code', async (file) => {
    // The SDK converts the JSON form itself (it accepts History or its JSON).
    const history: unknown = JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundle') } }, history, file);
  });
});
