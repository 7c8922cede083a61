/**
 * What the federation callback and the prompt page call (issue #9): start (or join) the JitProvision of a federated
 * login and get its outcome, and hand it the person's answer to a prompt. The workflow runs on the api's task queue
 * through the api's Client (its data converter encrypts every payload, src/temporal/connection.ts).
 *
 * @example
 *   const { workflowId, outcome } = await startJitLogin(ctx.temporal, ctx.config.temporal.taskQueue, input);
 *   if (outcome.state === 'prompt') renderPrompt(workflowId, outcome);
 *   // later, from the prompt's form:
 *   const next = await answerJitPrompt(ctx.temporal, workflowId, { consent: true, password }, ctx.sealer);
 */
import crypto from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { SecretSealer } from '../crypto/sealed-secret.js';
import { IdentityProviderKey, ProvisioningOperationKey, boundedKeyword } from '../temporal/search-attributes.js';
import type { jitProvision } from '../../workflows/jit-provision.js';
import { jitAnswerUpdate, jitProgressUpdate } from '../../workflows/messages.js';
import { JIT_WORKFLOW_PREFIX, type JitAnswer, type JitOutcome, type JitProvisionInput } from './jit-types.js';

/** The longest password a prompt accepts (before sealing); the password policy decides the rest. */
export const MAX_PROMPT_PASSWORD_LENGTH = 1024;

/**
 * The JitProvision id of a federated identity: `jit-<idp name>-<hash>`, the hash a SHA-256 of issuer and subject
 * (length-prefixed, so no two pairs give one string). Every login of that identity is a run of this id; logins at
 * the same time are one run.
 */
export function jitWorkflowId(idpName: string, issuer: string, subject: string): string {
  const hash = crypto.createHash('sha256').update(`${issuer.length}:${issuer}\n${subject.length}:${subject}`).digest('hex').slice(0, 40);
  return `${JIT_WORKFLOW_PREFIX}${boundedKeyword(idpName, 200)}-${hash}`;
}

/**
 * Starts the login's JitProvision, or joins the one running for that identity (update-with-start, conflict policy
 * USE_EXISTING: ten concurrent first logins make one user), and waits for its outcome: done, a prompt, or failed.
 */
export async function startJitLogin(client: Client, taskQueue: string, input: JitProvisionInput): Promise<{ workflowId: string; outcome: JitOutcome }> {
  const workflowId = jitWorkflowId(input.identity.idpName, input.identity.issuer, input.identity.subject);
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof jitProvision>('jitProvision', {
    workflowId,
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [
      { key: IdentityProviderKey, value: [boundedKeyword(input.identity.idpName)] },
      { key: ProvisioningOperationKey, value: 'jit-login' },
    ],
    memo: { summary: `JIT login through ${input.identity.idpName}` },
  });
  const outcome = await client.workflow.executeUpdateWithStart(jitProgressUpdate, { startWorkflowOperation });
  return { workflowId, outcome };
}

/**
 * Hands the person's answer to the prompt of a login. The password is sealed here (it reaches the workflow only
 * sealed; the store's activity opens it to hash it). An answer the workflow's validator refuses (no prompt waiting,
 * a wrong shape) answers the prompt again with the refusal as its error, not an exception; a login that is no
 * longer running (it timed out, or finished) answers `abandoned`.
 */
export async function answerJitPrompt(client: Client, workflowId: string, answer: JitAnswer, sealer: SecretSealer): Promise<JitOutcome> {
  const handle = client.workflow.getHandle<typeof jitProvision>(workflowId);
  if (answer.password !== undefined && answer.password.length > MAX_PROMPT_PASSWORD_LENGTH) {
    return withError(await progressJitLogin(client, workflowId), `The password is longer than ${MAX_PROMPT_PASSWORD_LENGTH} characters`);
  }
  const sealed: JitAnswer = {
    consent: answer.consent,
    ...(answer.userName !== undefined && { userName: answer.userName }),
    ...(answer.password !== undefined && { password: sealer.seal(answer.password) }),
  };
  try {
    return await handle.executeUpdate(jitAnswerUpdate, { args: [sealed] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return withError(await progressJitLogin(client, workflowId), err.cause?.message ?? err.message);
    if (err instanceof WorkflowNotFoundError || isClosed(err)) return gone();
    throw err;
  }
}

/**
 * The login's outcome now (waiting while it works): for a prompt page opened again, or after an answer was refused.
 * A login whose workflow has closed answers with its result (a finished login stays finished), else `abandoned`.
 */
export async function progressJitLogin(client: Client, workflowId: string): Promise<JitOutcome> {
  const handle = client.workflow.getHandle<typeof jitProvision>(workflowId);
  try {
    return await handle.executeUpdate(jitProgressUpdate);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError || isClosed(err))) throw err;
    try {
      return await handle.result();
    } catch {
      return gone();
    }
  }
}

/** An Update to a closed workflow fails with "workflow execution already completed" (gRPC NOT_FOUND). */
function isClosed(err: unknown): boolean {
  return err instanceof Error && /already completed|not found/i.test(err.message);
}

function gone(): JitOutcome {
  return { state: 'failed', reason: 'abandoned', message: 'This sign-in is no longer waiting for an answer; sign in again to start over.' };
}

function withError(outcome: JitOutcome, error: string): JitOutcome {
  return outcome.state === 'prompt' ? { ...outcome, error, errorCode: 'answer_refused' } : outcome;
}
