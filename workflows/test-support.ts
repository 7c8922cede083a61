/**
 * What the workflow tests share: one real Temporal dev server per test file (TestWorkflowEnvironment with the
 * project's Temporal CLI and this server's search attributes), and recording a workflow's history into
 * workflows/histories/ (RECORD_HISTORIES=1) for workflows/provisioning.test.ts to replay on every run.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, inject } from 'vitest';
import type { ProvisioningEvent } from '../src/provisioning/types.js';
import { SEARCH_ATTRIBUTES } from '../src/temporal/search-attributes.js';
import { provisioningEventSignal } from './messages.js';
import type { outboundFanOut } from './outbound-fan-out.js';

export const HISTORIES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'histories');

/** Starts the file's Temporal dev server before its tests and stops it after; the returned getter reads it. */
export function useWorkflowEnvironment(): () => TestWorkflowEnvironment {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: inject('temporalCliPath') }, searchAttributes: [...SEARCH_ATTRIBUTES] },
    });
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return () => {
    if (!env) throw new Error('the workflow environment is not started yet (call inside a test)');
    return env;
  };
}

/** With RECORD_HISTORIES=1: writes the workflow's history as workflows/histories/<name>.json (the CLI's JSON form). */
export function recordHistory(env: TestWorkflowEnvironment, name: string, workflowId: string): void {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const json = execFileSync(inject('temporalCliPath'), ['workflow', 'show', '--address', env.address, '-w', workflowId, '-o', 'json'], { encoding: 'utf8' });
  fs.mkdirSync(HISTORIES, { recursive: true });
  fs.writeFileSync(path.join(HISTORIES, `${name}.json`), json);
}

/** Hands one event to a user's OutboundFanOut as the enqueue activity does (signal-with-start). */
export function signalFanOut(
  env: TestWorkflowEnvironment,
  to: { workflowId: string; taskQueue: string; idleMs?: number },
  event: ProvisioningEvent,
): Promise<unknown> {
  return env.client.workflow.signalWithStart<typeof outboundFanOut, [ProvisioningEvent]>('outboundFanOut', {
    workflowId: to.workflowId,
    taskQueue: to.taskQueue,
    args: [{ resourceType: 'User', localId: event.localId, idleMs: to.idleMs ?? 1500 }],
    signal: provisioningEventSignal,
    signalArgs: [event],
  });
}
