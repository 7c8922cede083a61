/**
 * JitProvision on a real worker and Temporal dev server with in-memory activities: a silent first login through a
 * blocking Enable JIT target, and a prompted one answered through the jitAnswer Update. Both histories are recorded
 * (RECORD_HISTORIES=1) in workflows/histories/ and replayed by workflows/provisioning.test.ts on every run, so a
 * change to the workflow that would break logins in flight fails there: guard it with `patched()`.
 * The end-to-end behaviour (the store, links, groups, the security rules) is in test/jit-provision.test.ts.
 */
import { WithStartWorkflowOperation } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import type { createActivities } from '../activities/index.js';
import type { JitPreparation } from '../activities/jit.js';
import { jitInput } from '../src/federation/config.js';
import type { JitProvisionInput } from '../src/federation/jit-types.js';
import type { OutboundTarget, ProvisioningEvent, UserInput, UserRecord } from '../src/provisioning/types.js';
import type { jitProvision } from './jit-provision.js';
import { deliveryReportSignal, jitAnswerUpdate, jitProgressUpdate } from './messages.js';
import { recordHistory, useWorkflowEnvironment } from './test-support.js';

type Activities = ReturnType<typeof createActivities>;

const env = useWorkflowEnvironment();



const newUser: UserInput = { domain: 'PRIMARY', userName: 'jit-dana', displayName: 'Dana', emails: [{ value: 'dana@idp.example', primary: true }], phoneNumbers: [], addresses: [] };

function input(scheme: 'provision_silently' | 'prompt_password_consent'): JitProvisionInput {
  return {
    identity: { idpId: '22222222-2222-4222-8222-222222222222', idpName: 'corp', issuer: 'https://idp.example', subject: `sub-${scheme}` },
    claims: { sub: `sub-${scheme}`, preferred_username: 'jit-dana', name: 'Dana', email: 'dana@idp.example', email_verified: true },
    applicationId: '00000000-0000-4000-8000-000000000001',
    settings: jitInput.parse({ scheme }),
    blockingTimeoutMs: 10_000,
  };
}

const jitTarget: OutboundTarget = {
  connectorId: 'jit-target',
  connectorType: 'scim2',
  label: 'corp/scim2',
  idpName: 'corp',
  blocking: true,
  rulesEnabled: false,
  jitEnabled: true,
  retry: { initialIntervalMs: 50, maximumIntervalMs: 200, backoffCoefficient: 2, maximumAttempts: 0 },
};

/** In-memory activities: the store creates, the target takes the user and reports back to the waiting login. */
function fakeActivities() {
  const created: UserInput[] = [];
  const enqueued: ProvisioningEvent[] = [];
  const audits: string[] = [];
  const activities: Partial<Activities> = {
    prepareJitLogin(): Promise<JitPreparation> {
      return Promise.resolve({
        ok: true,
        userName: 'jit-dana',
        newUser,
        consent: [{ attribute: 'emails', value: 'dana@idp.example' }],
        emailVerified: true,
        groupIds: undefined,
        match: { kind: 'none', userNameTaken: false },
      });
    },
    createUser({ id, input: user }) {
      created.push(user);
      const { password: _password, ...attributes } = user;
      const record: UserRecord = { ...attributes, id, version: 1, created: '2026-12-01T00:00:00.000Z', lastModified: '2026-12-01T00:00:00.000Z' };
      return Promise.resolve({ ok: true, user: record });
    },
    recordJitLink() {
      return Promise.resolve({ ok: true as const, linkId: '33333333-3333-4333-8333-333333333333' });
    },
    resolveOutboundTargets() {
      return Promise.resolve([jitTarget]);
    },
    async enqueueOutboundEvent(e: ProvisioningEvent) {
      enqueued.push(e);
      if (e.replyTo) {
        await env().client.workflow.getHandle(e.replyTo).signal(deliveryReportSignal, { eventId: e.eventId, connectorId: jitTarget.connectorId, label: jitTarget.label, outcome: 'delivered', remoteId: 'remote-1' });
      }
    },
    finishJitLogin() {
      return Promise.resolve();
    },
    auditJit({ operation, outcome }) {
      audits.push(`${operation}:${outcome}`);
      return Promise.resolve();
    },
  };
  return { activities, created, enqueued, audits };
}

async function withWorker<T>(taskQueue: string, activities: Partial<Activities>, run: () => Promise<T>): Promise<T> {
  const worker = await Worker.create({ connection: env().nativeConnection, taskQueue, workflowBundle: { codePath: inject('workflowBundle') }, activities });
  return worker.runUntil(run);
}

const start = (workflowId: string, taskQueue: string, args: JitProvisionInput) =>
  env().client.workflow.executeUpdateWithStart(jitProgressUpdate, {
    startWorkflowOperation: new WithStartWorkflowOperation<typeof jitProvision>('jitProvision', { workflowId, taskQueue, args: [args], workflowIdConflictPolicy: 'USE_EXISTING' }),
  });

describe('JitProvision', () => {
  it('a silent first login creates the user, waits for the blocking Enable JIT target, and is done', async () => {
    const fake = fakeActivities();
    const workflowId = `jit-silent-${Date.now()}`;
    const outcome = await withWorker('jit-silent', fake.activities, async () => {
      const first = await start(workflowId, 'jit-silent', input('provision_silently'));
      await env().client.workflow.getHandle(workflowId).result();
      return first;
    });
    expect(outcome).toMatchObject({ state: 'done', userName: 'jit-dana', created: true, linkedBy: 'jit' });
    expect(fake.created).toHaveLength(1);
    expect(fake.enqueued.map((e) => [e.operation, e.targets.map((t) => t.connectorId)])).toEqual([['create', ['jit-target']]]);
    expect(fake.audits).toEqual(['jit-create:applied']);
    recordHistory(env(), 'jit-provision-silent', workflowId);
  });

  it('a prompted login waits for the answer Update, then creates the user with the sealed password it carried', async () => {
    const fake = fakeActivities();
    const workflowId = `jit-prompt-${Date.now()}`;
    const { prompt, answered } = await withWorker('jit-prompt', fake.activities, async () => {
      const shown = await start(workflowId, 'jit-prompt', input('prompt_password_consent'));
      const result = await env().client.workflow.getHandle(workflowId).executeUpdate(jitAnswerUpdate, { args: [{ consent: true, password: 'sealed:v1:k1:not-a-real-seal' }] });
      await env().client.workflow.getHandle(workflowId).result();
      return { prompt: shown, answered: result };
    });
    expect(prompt).toMatchObject({ state: 'prompt', prompt: 'password_consent', suggestedUserName: 'jit-dana' });
    expect(answered).toMatchObject({ state: 'done', created: true });
    expect(fake.created[0]!.password).toBe('sealed:v1:k1:not-a-real-seal');
    recordHistory(env(), 'jit-provision-prompt', workflowId);
  });
});
