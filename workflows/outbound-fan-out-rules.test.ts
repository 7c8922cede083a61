/**
 * OutboundFanOut's rule check (issue #10) on a real Temporal dev server, with in-memory activities: a target with Enable
 * Rules is decided before each delivery (decideRules), a Deny is handed to deliverToTarget as a skip and the queue goes
 * on, an Indeterminate quarantines the connector and holds that target's queue (and only it) until a resume signal,
 * after which the held change is decided again; a target without rules is never decided; a target accepted without
 * Enable Rules whose link has them by delivery is decided then (the delivery answers rulesRequired). Histories are recorded
 * (RECORD_HISTORIES=1) in workflows/histories/outbound-fan-out-rules.json and outbound-fan-out-rules-at-delivery.json and
 * replayed by workflows/provisioning.test.ts.
 */
import { Worker } from '@temporalio/worker';
import { expect, inject, it } from 'vitest';
import type { createActivities } from '../activities/index.js';
import type { RuleVerdict } from '../activities/rules.js';
import type { DeliveryReport, OutboundTarget, ProvisioningEvent } from '../src/provisioning/types.js';
import { resumeConnectorSignal } from './messages.js';
import { recordHistory, signalFanOut, useWorkflowEnvironment } from './test-support.js';

type Activities = ReturnType<typeof createActivities>;

const env = useWorkflowEnvironment();


const retry = { initialIntervalMs: 50, maximumIntervalMs: 200, backoffCoefficient: 2, maximumAttempts: 0 };
const target = (id: string, rulesEnabled: boolean): OutboundTarget => ({ connectorId: id, connectorType: 'scim2', label: `idp/${id}`, idpName: 'idp', blocking: false, rulesEnabled, jitEnabled: false, retry });

function event(version: number, targets: OutboundTarget[]): ProvisioningEvent {
  const id = '22222222-2222-4222-8222-222222222222';
  return {
    eventId: `rules-event-${version}`,
    resourceType: 'User',
    operation: version === 1 ? 'create' : 'update',
    localId: id,
    version,
    // A password makes each update stand alone (never folded into a newer one), so every version is decided.
    user: { id, domain: 'PRIMARY', userName: 'rita', emails: [], phoneNumbers: [], addresses: [], version, created: '', lastModified: '', password: `pw-${version}` },
    targets,
    initiator: { applicationId: 'resident', channel: 'test', label: 'test' },
  };
}

it('decides Enable Rules targets before delivering: Deny skips, Indeterminate holds until resumed, the plain target is never held', async () => {
  const decided: number[] = [];
  const delivered = new Map<string, number[]>();
  const skipped: number[] = [];
  const quarantined: string[] = [];
  let released = false;
  const activities: Partial<Activities> = {
    async decideRules({ event: e }): Promise<RuleVerdict> {
      decided.push(e.version);
      await Promise.resolve();
      if (e.version === 2) return { action: 'skip', decision: 'Deny', decidedBy: 'urn:p@1', reason: 'no' };
      if (e.version === 3 && !released) return { action: 'hold', decision: 'Indeterminate', decidedBy: 'urn:p@1', reason: 'missing department' };
      return { action: 'deliver', decision: 'Permit', decidedBy: 'urn:p@2' };
    },
    async deliverToTarget({ event: e, target: t, rules }): Promise<DeliveryReport> {
      await Promise.resolve();
      if (rules?.action === 'skip') {
        skipped.push(e.version);
        return { eventId: e.eventId, connectorId: t.connectorId, label: t.label, outcome: 'denied', error: rules.reason };
      }
      delivered.set(t.connectorId, [...(delivered.get(t.connectorId) ?? []), e.version]);
      return { eventId: e.eventId, connectorId: t.connectorId, label: t.label, outcome: 'delivered' };
    },
    async quarantineConnector({ connectorId, reason }): Promise<void> {
      await Promise.resolve();
      quarantined.push(`${connectorId}: ${reason}`);
    },
  };
  const taskQueue = 'fan-out-rules';
  const worker = await Worker.create({ connection: env().nativeConnection, taskQueue, workflowBundle: { codePath: inject('workflowBundle') }, activities });
  const workflowId = `outbound-rules-${Date.now()}`;
  await worker.runUntil(async () => {
    const targets = [target('ruled', true), target('plain', false)];
    const send = (e: ProvisioningEvent) =>
      signalFanOut(env(), { workflowId, taskQueue }, e);
    for (let v = 1; v <= 4; v++) await send(event(v, targets));
    // The plain target gets everything while the ruled one holds version 3.
    const deadline = Date.now() + 20_000;
    while ((delivered.get('plain')?.length ?? 0) < 4 || quarantined.length === 0) {
      if (Date.now() > deadline) throw new Error(`plain ${String(delivered.get('plain'))}, quarantined ${quarantined.length}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 2000)); // past the idle time: it must still hold
    expect(delivered.get('ruled')).toEqual([1]);
    expect(quarantined).toEqual(['ruled: rules: missing department']);
    released = true;
    await env().client.workflow.getHandle(workflowId).signal(resumeConnectorSignal, { connectorId: 'ruled' });
    await env().client.workflow.getHandle(workflowId).result();
  });
  recordHistory(env(), 'outbound-fan-out-rules', workflowId);
  expect(delivered.get('plain')).toEqual([1, 2, 3, 4]);
  expect(delivered.get('ruled')).toEqual([1, 3, 4]);
  expect(skipped).toEqual([2]);
  // Version 3 was decided twice: held, then again after the resume.
  expect(decided).toEqual([1, 2, 3, 3, 4]);
});

it('a backlog accepted before Enable Rules is decided at delivery: the delivery asks for the check, nothing goes out unchecked', async () => {
  // The target was accepted without Enable Rules; an operator turns it on while versions 1 and 2 wait (the target is
  // down). The delivery activity, asked to look at the links (rulesAtDelivery), answers rulesRequired from then on.
  let rulesOn = false;
  let down = true;
  const asked: boolean[] = [];
  const decided: number[] = [];
  const delivered: number[] = [];
  const denied: number[] = [];
  const activities: Partial<Activities> = {
    async decideRules({ event: e }): Promise<RuleVerdict> {
      await Promise.resolve();
      decided.push(e.version);
      return e.version === 3 ? { action: 'deliver', decision: 'Permit', decidedBy: 'urn:p@1' } : { action: 'skip', decision: 'Deny', decidedBy: 'urn:p@1', reason: 'closed' };
    },
    async deliverToTarget({ event: e, target: t, rules, rulesAtDelivery }) {
      await Promise.resolve();
      if (!rules) asked.push(rulesAtDelivery === true);
      const base = { eventId: e.eventId, connectorId: t.connectorId, label: t.label };
      if (!rules && rulesAtDelivery && rulesOn) return { ...base, outcome: 'held' as const, rulesRequired: true as const };
      if (rules?.action === 'skip') {
        denied.push(e.version);
        return { ...base, outcome: 'denied' as const, error: rules.reason };
      }
      if (down) throw new Error('target down'); // retried by the activity's policy
      delivered.push(e.version);
      return { ...base, outcome: 'delivered' as const };
    },
  };
  const taskQueue = 'fan-out-rules-at-delivery';
  const worker = await Worker.create({ connection: env().nativeConnection, taskQueue, workflowBundle: { codePath: inject('workflowBundle') }, activities });
  const workflowId = `outbound-rules-at-delivery-${Date.now()}`;
  await worker.runUntil(async () => {
    const send = (e: ProvisioningEvent) =>
      signalFanOut(env(), { workflowId, taskQueue }, e);
    await send(event(1, [target('late', false)]));
    await send(event(2, [target('late', false)]));
    const deadline = Date.now() + 20_000;
    while (asked.length < 2) {
      if (Date.now() > deadline) throw new Error(`asked ${asked.length}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    rulesOn = true;
    down = false;
    // Accepted after Enable Rules: still a target accepted without it in this event (as a change in flight would be).
    await send(event(3, [target('late', false)]));
    await env().client.workflow.getHandle(workflowId).result();
  });
  recordHistory(env(), 'outbound-fan-out-rules-at-delivery', workflowId);
  // Every delivery without a verdict asked the activity to look; none went out unchecked.
  expect(asked.length).toBeGreaterThanOrEqual(4);
  expect(asked.every((x) => x)).toBe(true);
  expect(decided).toEqual([1, 2, 3]);
  expect(denied).toEqual([1, 2]);
  expect(delivered).toEqual([3]);
});
