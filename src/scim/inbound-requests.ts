/**
 * Running a SCIM write as its InboundProvision workflow, so that every answer tells the truth and a retry is safe:
 *
 * - The workflow id is derived from the request's Idempotency-Key and its caller (the application, and the user of a
 *   password-grant token), so a repeated request joins the first attempt instead of applying the change again:
 *   while it runs, the retry waits for it; once it finished, the retry gets its result. The same key with another
 *   request (method, path, body) is 422 (IETF httpapi idempotency-key draft §2.7); the request's fingerprint is kept
 *   in the workflow's memo (encrypted, like every payload) to compare with. Keys are remembered as long as the
 *   namespace keeps closed workflows (its retention).
 * - The api waits for the result at most until the request's deadline (REQUEST_TIMEOUT_MS). A workflow that started
 *   but has not finished by then is answered 202 Accepted with where its outcome can be read: never "try again" for
 *   a change that is in fact going on.
 * - When the engine does not confirm the start (unreachable, or ENGINE_TIMEOUT_MS or the deadline passed first), the
 *   change may or may not have been recorded: 503 with Retry-After and the key to repeat the request with, which can
 *   never apply it twice.
 * - When the engine refuses the start because it is saturated (RESOURCE_EXHAUSTED: its rate or resource limits), nothing
 *   was recorded: 429 with Retry-After and the key. The api's client does not retry RESOURCE_EXHAUSTED by itself
 *   (src/temporal/connection.ts): the SDK's retries would hold the request for half a minute.
 * - Backpressure (src/http/admission.ts): a write admitted by the api's bound carries its place (`admission`). While the
 *   bound is full or refusing writes, a workflow not finished after ENGINE_TIMEOUT_MS is answered 202 as above, and
 *   keeps its place until it finishes (or its deadline), so the bound still counts what it leaves in the engine.
 */
import { createHash } from 'node:crypto';
import {
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import type { KeyedDigest } from '../crypto/keyed-digest.js';
import type { Logger } from '../log.js';
import type { InboundProvisionInput, InboundProvisionResult, inboundProvision } from '../../workflows/inbound-provision.js';
import { ScimError } from './errors.js';
import { formatIdempotencyKey } from './idempotency-key.js';

/**
 * What the api's admission bound (src/http/admission.ts) lends a write it admitted. Declared here, where it is used,
 * so that the protocol core needs nothing of src/http.
 */
export interface WriteAdmission {
  /** Settles when the write should stop waiting for its workflow (the api is saturated): it is answered 202. Never for a Bulk request. */
  readonly cut: Promise<void>;
  /** Keeps the write's place in the bound until `work` settles (its workflow, still running after the answer). */
  holdUntil(work: Promise<unknown>): void;
  /** The engine or the database said it is saturated: the bound shrinks, and the overload is logged once per episode. */
  overloaded(source: 'engine' | 'database', detail: string): void;
  /** Seconds to ask the client to wait before repeating the request. */
  retryAfterSeconds(): number;
}

/** A write as the api received it: the key it runs under and what it asked for. */
export interface WriteRequest {
  /** The Idempotency-Key to repeat the request with: the client's, or one generated for this request. */
  key: string;
  /** Whether the client sent the key (only then can a request be a repetition of an earlier one). */
  keyFromClient: boolean;
  /** sha256 of the request (method, path, body, If-Match): a key reused for another request is refused. */
  fingerprint: string;
  /**
   * In a Bulk request, the operation's index (each operation is its own workflow, keyed by key and index), or a run
   * of user creates written by one workflow (`creates:<first>-<last>`, src/scim/bulk.ts).
   */
  operation?: number | string | undefined;
  /** When the caller must be answered (epoch ms); unset: REQUEST_TIMEOUT_MS from the start. A Bulk request shares one. */
  deadline?: number | undefined;
  /** Its place in the api's admission bound, when it was admitted by one (src/http/write-admission.ts). */
  admission?: WriteAdmission | undefined;
}

/** Whose keys these are: a key means one request per application (and per user of a password-grant token). */
export interface KeyScope {
  applicationId: string;
  userId?: string | undefined;
}

/** What the workflow's memo keeps of the request that started it. */
export interface RequestMemo {
  fingerprint: string;
  applicationId: string;
  userId?: string | undefined;
  operation: InboundProvisionInput['operation'];
  resourceType: 'User' | 'Group';
}

/** A write whose workflow had not finished by the deadline: accepted, still being applied. */
export interface Pending {
  pending: { workflowId: string; key: string };
}

export type InboundOutcome = InboundProvisionResult | Pending;

/** How the ids of InboundProvision workflows of keyed requests begin. */
export const INBOUND_REQUEST_PREFIX = 'inbound-idem-';

/** The ids of InboundProvision workflows of keyed requests: what the status resource accepts. */
export const INBOUND_REQUEST_ID = new RegExp(`^${INBOUND_REQUEST_PREFIX}[0-9a-f]{64}$`);

/** Seconds a client is asked to wait before repeating a request the engine did not confirm. */
export const RETRY_AFTER_SECONDS = 5;

/** gRPC RESOURCE_EXHAUSTED: the Temporal server refused the call for its rate or resource limits (grpc/doc/statuscodes.md). */
const RESOURCE_EXHAUSTED = 8;

/** The race of a workflow's result against the admission's cut: the cut won. */
const CUT: unique symbol = Symbol('cut');

/** JSON with object keys sorted, so two serializations of the same body give the same fingerprint. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The fingerprint of a request from its parts (method, path, body, preconditions). */
export function requestFingerprint(...parts: unknown[]): string {
  return createHash('sha256').update(canonical(parts)).digest('hex');
}

/** The workflow id of a keyed request: the same key from the same caller is the same workflow. */
/**
 * What a failed start means for the caller, by the gRPC status of the error: the engine refused the request for good
 * (`refused`: a bad argument, no such namespace, no permission), refused it for now because it is saturated
 * (`saturated`: nothing was recorded), or did not confirm it (`unconfirmed`: unavailable, deadline exceeded, a broken
 * connection; it may have been recorded).
 */
export function startFailureOf(err: unknown): 'refused' | 'saturated' | 'unconfirmed' {
  const code = grpcCode(err);
  if (code === RESOURCE_EXHAUSTED) return 'saturated';
  if (code !== undefined && REFUSED.has(code)) return 'refused';
  return 'unconfirmed';
}

export function inboundWorkflowId(scope: KeyScope, request: Pick<WriteRequest, 'key' | 'operation'>): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([scope.applicationId, scope.userId ?? null, request.key, request.operation ?? null]))
    .digest('hex');
  return `${INBOUND_REQUEST_PREFIX}${digest}`;
}

/** The gRPC status of a Temporal client error, if it has one. */
function grpcCode(err: unknown): number | undefined {
  const code = (err instanceof ServiceError ? (err.cause as { code?: unknown } | undefined)?.code : undefined) ?? (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * gRPC statuses with which the server says it did not and will not take the request (RFC: grpc/doc/statuscodes.md):
 * a bad argument, no such namespace, no permission. Anything else (unavailable, deadline exceeded, internal,
 * unknown, a broken connection) leaves open whether the start was recorded.
 */
const REFUSED = new Set([3, 5, 7, 9, 11, 12, 16]);

export interface InboundRequestsDeps {
  temporal: Client;
  taskQueue: string;
  requestTimeoutMs: number;
  /**
   * How long the engine may take to confirm a start (ENGINE_TIMEOUT_MS), within the request's deadline; unset: the
   * deadline alone.
   */
  engineTimeoutMs?: number | undefined;
  log?: Logger | undefined;
  /**
   * Keys the fingerprint kept in the workflow's memo. A request's fingerprint covers its body, passwords included,
   * and the memo is decoded for operators: unkeyed, it would let anyone who reads a history test guesses of the
   * password offline (one SHA-256 a guess). Keyed, it says nothing without the server's key.
   */
  fingerprints: KeyedDigest;
}

export class InboundRequests {
  constructor(private readonly deps: InboundRequestsDeps) {}

  /** Whether a memo's (keyed) fingerprint is this request's, under any key of the ring. */
  private sameRequest(memo: RequestMemo | undefined, request: { fingerprint: string }): boolean {
    return memo !== undefined && this.deps.fingerprints.candidates(request.fingerprint).includes(memo.fingerprint);
  }

  /**
   * Starts the request's workflow, or joins the one its key already started, and waits for its result until the
   * request's deadline: the result, or Pending when it is still running then. Throws ScimError 422 (the key was
   * used for another request), 503 (the engine did not confirm the start) or 500 (the workflow failed).
   */
  async run(input: InboundProvisionInput, request: WriteRequest, scope: KeyScope, searchAttributes: SearchAttributePair[]): Promise<InboundOutcome> {
    const { temporal } = this.deps;
    const workflowId = inboundWorkflowId(scope, request);
    const deadline = request.deadline ?? Date.now() + this.deps.requestTimeoutMs;
    if (Date.now() >= deadline) {
      throw this.unavailable(request, 'The request ran out of time before this operation was started; it was not applied');
    }
    const memo: RequestMemo = {
      fingerprint: this.deps.fingerprints.digest(request.fingerprint),
      applicationId: scope.applicationId,
      ...(scope.userId !== undefined && { userId: scope.userId }),
      operation: input.operation,
      resourceType: input.resourceType === 'Group' ? 'Group' : 'User',
    };
    const startBy = this.startBy(deadline);
    let handle: WorkflowHandle<typeof inboundProvision>;
    try {
      handle = await temporal.withDeadline(startBy, () =>
        temporal.workflow.start<typeof inboundProvision>('inboundProvision', {
          workflowId,
          taskQueue: this.deps.taskQueue,
          args: [input],
          typedSearchAttributes: searchAttributes,
          memo: { request: memo },
          // A key is one request: a running workflow is joined (the start fails and we attach), a closed one is
          // answered from its result, never run again.
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        }),
      );
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw this.notConfirmed(request, err);
      handle = await this.joined(workflowId, request, startBy);
    }
    return this.wait(handle, workflowId, request, deadline);
  }

  /** When a start (or the describe of the workflow a key already started) must be confirmed by. */
  private startBy(deadline: number): number {
    return this.deps.engineTimeoutMs === undefined ? deadline : Math.min(deadline, Date.now() + this.deps.engineTimeoutMs);
  }

  /**
   * The outcome of an earlier attempt of this request, for a retry that failed the checks made before the workflow
   * (404 once a delete applied, 412 once a versioned change did); undefined when there is none (or the engine
   * cannot say), and the check's own answer stands.
   */
  async earlier(request: WriteRequest, scope: KeyScope): Promise<InboundOutcome | undefined> {
    if (!request.keyFromClient) return undefined;
    const workflowId = inboundWorkflowId(scope, request);
    const deadline = request.deadline ?? Date.now() + this.deps.requestTimeoutMs;
    const handle = this.deps.temporal.workflow.getHandle<typeof inboundProvision>(workflowId);
    let memo: RequestMemo | undefined;
    try {
      memo = (await this.deps.temporal.withDeadline(this.startBy(deadline), () => handle.describe())).memo?.request as RequestMemo | undefined;
    } catch {
      return undefined;
    }
    if (!this.sameRequest(memo, request)) throw this.reused(request);
    return this.wait(handle, workflowId, request, deadline);
  }

  /** A request's workflow as the status resource shows it; undefined when there is no such request. */
  async status(workflowId: string): Promise<
    | { memo: RequestMemo; startedAt: Date; closedAt?: Date | undefined; state: 'running' }
    | { memo: RequestMemo; startedAt: Date; closedAt?: Date | undefined; state: 'completed'; result: InboundProvisionResult }
    | { memo: RequestMemo; startedAt: Date; closedAt?: Date | undefined; state: 'failed'; reason: string }
    | undefined
  > {
    if (!INBOUND_REQUEST_ID.test(workflowId)) return undefined;
    const handle = this.deps.temporal.workflow.getHandle<typeof inboundProvision>(workflowId);
    let description;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
    const memo = description.memo?.request as RequestMemo | undefined;
    if (!memo) return undefined;
    const times = { memo, startedAt: description.startTime, closedAt: description.closeTime };
    if (description.status.name === 'RUNNING') return { ...times, state: 'running' };
    try {
      return { ...times, state: 'completed', result: await handle.result() };
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      return { ...times, state: 'failed', reason: `Provisioning failed: ${err.cause?.message ?? err.message}` };
    }
  }

  /** Attaches to the workflow a key already started, if it was started for this same request. */
  private async joined(workflowId: string, request: WriteRequest, confirmBy: number): Promise<WorkflowHandle<typeof inboundProvision>> {
    const handle = this.deps.temporal.workflow.getHandle<typeof inboundProvision>(workflowId);
    let memo: RequestMemo | undefined;
    try {
      memo = (await this.deps.temporal.withDeadline(confirmBy, () => handle.describe())).memo?.request as RequestMemo | undefined;
    } catch (err) {
      throw this.notConfirmed(request, err);
    }
    if (!this.sameRequest(memo, request)) throw this.reused(request);
    return handle;
  }

  private async wait(handle: WorkflowHandle<typeof inboundProvision>, workflowId: string, request: WriteRequest, deadline: number): Promise<InboundOutcome> {
    const result = this.deps.temporal.withDeadline(deadline, () => handle.result());
    let outcome: InboundProvisionResult | typeof CUT;
    try {
      const cut = request.admission?.cut;
      outcome = cut ? await Promise.race([result, cut.then((): typeof CUT => CUT)]) : await result;
    } catch (err) {
      if (err instanceof WorkflowFailedError) throw new ScimError(500, `Provisioning failed: ${err.cause?.message ?? err.message}`);
      // The engine has the request: it goes on whether we wait or not (deadline reached, or the engine went away
      // while we waited). The caller is told so, and where to read the outcome.
      if (!(err instanceof ServiceError)) throw err;
      return { pending: { workflowId, key: request.key } };
    }
    if (outcome === CUT) {
      // The api is saturated (its bound full or refusing) and this workflow is slow to finish: its client is answered 202
      // now, and the workflow keeps its place in the bound while it runs on (until its deadline), so the bound still
      // counts it.
      result.catch(() => undefined);
      request.admission!.holdUntil(result);
      return { pending: { workflowId, key: request.key } };
    }
    return outcome;
  }

  private reused(request: WriteRequest): ScimError {
    return new ScimError(
      422,
      `Idempotency-Key ${formatIdempotencyKey(request.key)} was already used for a different request (method, path or body); use a new key for a new request`,
    );
  }

  /** 503 with the key to repeat the request with (and a header carrying it), Retry-After, and `detail`. */
  private unavailable(request: WriteRequest, detail: string): ScimError {
    const key = formatIdempotencyKey(request.key);
    return new ScimError(503, `${detail}. Repeat it with the same Idempotency-Key (${key}) to apply it exactly once.`, undefined, {
      'Retry-After': String(RETRY_AFTER_SECONDS),
      'Idempotency-Key': key,
    });
  }

  /** 429 (RFC 6585 §4): the engine is saturated and took nothing; Retry-After from the api's backlog, and the key. */
  private saturated(request: WriteRequest): ScimError {
    const key = formatIdempotencyKey(request.key);
    const seconds = request.admission?.retryAfterSeconds() ?? RETRY_AFTER_SECONDS;
    return new ScimError(
      429,
      `The provisioning engine is saturated and refused the request: nothing was applied; retry in ${seconds} s with the same Idempotency-Key (${key}) to apply it exactly once.`,
      undefined,
      { 'Retry-After': String(seconds), 'Idempotency-Key': key },
    );
  }

  /** The start failed: refused outright (500), refused for now (429), or not confirmed and possibly recorded (503). */
  private notConfirmed(request: WriteRequest, err: unknown): ScimError {
    const failure = startFailureOf(err);
    const error = err instanceof Error ? err.message : String(err);
    if (failure === 'refused') {
      this.deps.log?.warn('provisioning engine refused a request', { error, grpcCode: grpcCode(err) });
      return new ScimError(500, 'The provisioning engine refused the request');
    }
    // Saturation is logged once per overload episode by the admission bound, not once per request.
    if (request.admission) request.admission.overloaded('engine', failure === 'saturated' ? 'RESOURCE_EXHAUSTED on start' : `start not confirmed: ${error}`);
    else this.deps.log?.warn('provisioning engine did not start a request', { error, grpcCode: grpcCode(err) });
    if (failure === 'saturated') return this.saturated(request);
    return this.unavailable(request, 'The provisioning engine did not confirm the request; it may have been accepted');
  }
}
