/**
 * Passwords never appear in readable workflow history: every payload is encrypted by the payload codec,
 * and the codec endpoint that lets the Temporal UI decode them masks secrets.
 */
import { Connection, Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, startInstance, type Instance } from './harness.js';

let is: Instance;
let client: Client;

beforeAll(async () => {
  is = await startInstance('history');
  client = new Client({ connection: await Connection.connect({ address: is.temporalAddress }) });
});
afterAll(async () => {
  await client?.connection.close();
  await is?.stop();
});

it('keeps the password out of workflow history and masks it when the UI decodes', async () => {
  const password = 'Very-Secret-Pa55word';
  const res = await is.request('POST', '/scim2/Users', { userName: 'history-user', password, emails: [{ value: 'h@example.org' }] });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };

  // Found through the custom search attributes, as an operator would in the UI.
  // The raw service call: this client has no key, so it must not try to decode memos.
  const workflowId = await eventually(async () => {
    const { executions } = await client.workflowService.listWorkflowExecutions({
      namespace: 'default',
      query: `UserId = "${id}" AND WorkflowType = "inboundProvision"`,
    });
    return executions[0]?.execution?.workflowId ?? undefined;
  }, 20_000, 'the workflow in visibility');
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const raw = JSON.stringify(history);
  const payloads = history.events!.flatMap((e) => [
    ...(e.workflowExecutionStartedEventAttributes?.input?.payloads ?? []),
    ...(e.activityTaskScheduledEventAttributes?.input?.payloads ?? []),
    // Local activities (the store write among them) record their results in markers; the marker's other
    // detail is the SDK's own bookkeeping (activity type, attempt), which the raw checks below still cover.
    ...(e.markerRecordedEventAttributes?.details?.result?.payloads ?? []),
    ...(e.workflowExecutionCompletedEventAttributes?.result?.payloads ?? []),
  ]);
  expect(payloads.length).toBeGreaterThan(2);
  for (const p of payloads) expect(Buffer.from(p.metadata!.encoding!).toString()).toBe('binary/encrypted');
  expect(raw).not.toContain(password);
  expect(raw).not.toContain(Buffer.from(password).toString('base64'));
  expect(raw).not.toContain('history-user');

  // The codec endpoint decodes for the operator, with the password masked.
  const body = {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      data: Buffer.from(p.data!).toString('base64'),
    })),
  };
  const decodedRes = await is.request('POST', '/codec/decode', JSON.stringify(body), { 'Content-Type': 'application/json' });
  expect(decodedRes.status).toBe(200);
  const decoded = ((await decodedRes.json()) as { payloads: { data: string }[] }).payloads.map((p) => Buffer.from(p.data, 'base64').toString());
  const all = decoded.join('\n');
  expect(all).toContain('history-user');
  expect(all).toContain('"password":"********"');
  expect(all).not.toContain(password);

  // Without the credential a production deployment refuses to decode.
  const anonymous = await fetch(`${is.baseUrl}/codec/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  expect(anonymous.status).toBe(401);
});
