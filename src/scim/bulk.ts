/**
 * SCIM Bulk (RFC 7644 §3.7): many operations in one request, run through the same ScimService as single requests
 * would be, in order, with `bulkId` references resolved to the ids the earlier operations created.
 *
 * - Consecutive user creates that refer to no bulkId (the bulk of a directory load: Entra's and Okta's initial
 *   sync) are written by one InboundProvision (`createBatch`, workflows/inbound-provision.ts) in chunks, and sent on in
 *   one OutboundBatch per chunk: a 1,000-operation request is a few workflows, not a thousand, which is what lets a
 *   load go faster than the engine starts workflows. Each create is still its own store write (its own ledger entry
 *   and audit record) and answers as POST /Users would. When a target is Blocking the workflow writes nothing and the
 *   creates run one per workflow, as below.
 * - Every other operation is its own InboundProvision workflow, as the single request would be.
 *
 * - `maxOperations` and `maxPayloadSize` (advertised in ServiceProviderConfig) are enforced: 413 tooLarge.
 * - `failOnErrors`: processing stops after that many errors; the response lists what ran.
 * - An operation naming `bulkId:x` before x is created waits until x has run (RFC 7644 §3.7.2); a reference
 *   that is never created, or a cycle, fails that operation (409 invalidValue), not the whole request.
 * - Each operation needs its per-operation bulk scope (WSO2: internal_bulk_user_create, ...).
 * - Each operation runs under the request's Idempotency-Key and its index, so the whole request can be repeated with
 *   the same key: operations that were applied answer as they did, the others run. All share the request's deadline;
 *   an operation still being applied then is `202` with the location of its status, one the time did not reach is
 *   `503` and was not applied.
 */
import type { UserInput } from '../provisioning/types.js';
import type { BatchItem } from '../../workflows/inbound-provision.js';
import { ScimError, type ScimType } from './errors.js';
import { formatIdempotencyKey } from './idempotency-key.js';
import { requestFingerprint, RETRY_AFTER_SECONDS } from './inbound-requests.js';
import type { ScimCaller, ScimResult, ScimService } from './service.js';
import { SCIM_LIMITS } from './service-provider.js';
import { etagOf } from './user-resource.js';

export const SCHEMA_BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const SCHEMA_BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

type Method = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The fewest consecutive user creates written as one workflow; a lone create runs as POST /Users would. */
const MIN_RUN = 2;

interface BulkOperation {
  index: number;
  method: Method;
  path: string;
  bulkId?: string | undefined;
  version?: string | undefined;
  data?: unknown;
}

interface BulkOutcome {
  method: Method;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: unknown;
}

/** Per-operation scopes (WSO2's bulk scopes). */
const BULK_SCOPES: Record<'Users' | 'Groups', Record<Method, string>> = {
  Users: { POST: 'internal_bulk_user_create', PUT: 'internal_bulk_user_update', PATCH: 'internal_bulk_user_update', DELETE: 'internal_bulk_user_delete' },
  Groups: { POST: 'internal_bulk_group_create', PUT: 'internal_bulk_group_update', PATCH: 'internal_bulk_group_update', DELETE: 'internal_bulk_group_delete' },
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseRequest(body: unknown): { operations: BulkOperation[]; failOnErrors: number | undefined } {
  if (!isObject(body)) throw ScimError.badRequest('The bulk request must be a JSON object', 'invalidSyntax');
  if (!Array.isArray(body.schemas) || !body.schemas.includes(SCHEMA_BULK_REQUEST)) {
    throw ScimError.badRequest(`A bulk request's schemas must contain ${SCHEMA_BULK_REQUEST}`, 'invalidSyntax');
  }
  const failOnErrors = body.failOnErrors;
  if (failOnErrors !== undefined && (typeof failOnErrors !== 'number' || !Number.isInteger(failOnErrors) || failOnErrors < 1)) {
    throw ScimError.badRequest('failOnErrors must be a positive integer', 'invalidValue');
  }
  const ops = body.Operations;
  if (!Array.isArray(ops) || ops.length === 0) throw ScimError.badRequest('Operations must be a non-empty array', 'invalidSyntax');
  if (ops.length > SCIM_LIMITS.bulkMaxOperations) {
    throw new ScimError(413, `The bulk request has ${ops.length} operations; the maximum is ${SCIM_LIMITS.bulkMaxOperations}`, 'tooLarge');
  }
  const bulkIds = new Set<string>();
  const operations = ops.map((op, index): BulkOperation => {
    if (!isObject(op)) throw ScimError.badRequest(`Operations[${index}] must be an object`, 'invalidSyntax');
    const method = typeof op.method === 'string' ? op.method.toUpperCase() : undefined;
    if (method !== 'POST' && method !== 'PUT' && method !== 'PATCH' && method !== 'DELETE') {
      throw ScimError.badRequest(`Operations[${index}].method must be POST, PUT, PATCH or DELETE`, 'invalidSyntax');
    }
    if (typeof op.path !== 'string' || op.path === '') throw ScimError.badRequest(`Operations[${index}].path is required`, 'invalidSyntax');
    const bulkId = op.bulkId;
    if (bulkId !== undefined && (typeof bulkId !== 'string' || bulkId === '')) throw ScimError.badRequest(`Operations[${index}].bulkId must be a string`);
    if (method === 'POST' && bulkId === undefined) throw ScimError.badRequest(`Operations[${index}]: a POST needs a bulkId (RFC 7644 §3.7)`, 'invalidSyntax');
    if (typeof bulkId === 'string') {
      if (bulkIds.has(bulkId)) throw ScimError.badRequest(`bulkId '${bulkId}' is used twice`, 'invalidValue');
      bulkIds.add(bulkId);
    }
    if (method !== 'DELETE' && op.data === undefined) throw ScimError.badRequest(`Operations[${index}].data is required for ${method}`, 'invalidSyntax');
    if (op.version !== undefined && typeof op.version !== 'string') throw ScimError.badRequest(`Operations[${index}].version must be a string`);
    return { index, method, path: op.path, bulkId, version: op.version, data: op.data };
  });
  return { operations, failOnErrors };
}

/** Every `bulkId:x` named in a value (data or path). */
function references(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    const m = /^bulkId:(.+)$/.exec(value);
    if (m) out.add(m[1]!);
  } else if (Array.isArray(value)) {
    for (const v of value) references(v, out);
  } else if (isObject(value)) {
    for (const v of Object.values(value)) references(v, out);
  }
  return out;
}

/** The bulkIds an operation needs: in its path (`/Users/bulkId:u1`) and anywhere in its data. */
function referencesOf(op: BulkOperation): Set<string> {
  const refs = references(op.data);
  for (const m of op.path.matchAll(/bulkId:([^/]+)/g)) refs.add(m[1]!);
  return refs;
}

function substitute(value: unknown, ids: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') {
    const m = /^bulkId:(.+)$/.exec(value);
    return m && ids.has(m[1]!) ? ids.get(m[1]!) : value;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, ids));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, ids)]));
  return value;
}

/** A create of a run written by one workflow (createBatch), as POST /Users would answer it, without its bulkId. */
export function batchItemOutcome(item: BatchItem, scimBaseUrl: string): BulkOutcome {
  if ('rejection' in item) {
    const { status, detail, scimType } = item.rejection;
    return { method: 'POST', status: String(status), response: new ScimError(status, detail, scimType as ScimType | undefined).toBody() };
  }
  return { method: 'POST', version: etagOf(item.user.version), location: `${scimBaseUrl}/Users/${item.user.id}`, status: '201' };
}

function errorOutcome(op: BulkOperation, err: ScimError): BulkOutcome {
  return {
    method: op.method,
    ...(op.bulkId !== undefined && { bulkId: op.bulkId }),
    status: String(err.status),
    response: err.toBody(),
  };
}

export async function runBulk(
  service: ScimService,
  caller: ScimCaller,
  hasScope: (scope: string) => boolean,
  body: unknown,
): Promise<ScimResult> {
  const { operations, failOnErrors } = parseRequest(body);
  const created = new Map<string, string>(); // bulkId -> id
  const failedBulkIds = new Set<string>();
  const outcomes = new Map<number, BulkOutcome>();
  let errors = 0;
  let retryAfter = 0;
  const pending = [...operations];

  const runOne = async (op: BulkOperation): Promise<BulkOutcome> => {
    const path = op.path.replace(/bulkId:([^/]+)/g, (whole, ref: string) => created.get(ref) ?? whole);
    const m = /^\/(Users|Groups)(?:\/([^/]+))?$/.exec(path);
    if (!m) throw new ScimError(400, `Unsupported bulk path '${op.path}': use /Users, /Groups, /Users/{id} or /Groups/{id}`, 'invalidPath');
    const kind = m[1] as 'Users' | 'Groups';
    const id = m[2];
    if ((op.method === 'POST') !== (id === undefined)) {
      throw new ScimError(400, `${op.method} ${op.path}: ${op.method === 'POST' ? 'POST goes to the collection' : 'the path needs a resource id'}`, 'invalidPath');
    }
    const scope = BULK_SCOPES[kind][op.method];
    if (!hasScope(scope)) throw new ScimError(403, `The access token does not grant this operation: it requires the scope ${scope}`);
    const data = substitute(op.data, created);
    const pre = { ifMatch: op.version };
    const users = kind === 'Users';
    // The operation as the client wrote it (before bulkId substitution), so a repeated request matches it.
    const opCaller: ScimCaller = caller.request
      ? { ...caller, request: { ...caller.request, operation: op.index, fingerprint: requestFingerprint(op.method, op.path, op.data ?? null, op.version ?? null) } }
      : caller;
    let result: ScimResult;
    switch (op.method) {
      case 'POST':
        result = users ? await service.createUser(opCaller, data) : await service.createGroup(opCaller, data);
        break;
      case 'PUT':
        result = users ? await service.replaceUser(opCaller, id!, data, pre) : await service.replaceGroup(opCaller, id!, data, pre);
        break;
      case 'PATCH':
        result = users ? await service.patchUser(opCaller, id!, data, pre) : await service.patchGroup(opCaller, id!, data, pre);
        break;
      case 'DELETE':
        result = users ? await service.deleteUser(opCaller, id!, pre) : await service.deleteGroup(opCaller, id!, pre);
        break;
    }
    if (result.plain) {
      // Still being applied when the time ran out: where its outcome will be; its id is not known yet.
      return {
        method: op.method,
        ...(op.bulkId !== undefined && { bulkId: op.bulkId }),
        ...(typeof result.body?.location === 'string' && { location: result.body.location }),
        status: String(result.status),
        response: result.body,
      };
    }
    const resource = result.body;
    const newId = typeof resource?.id === 'string' ? resource.id : id;
    if (op.method === 'POST' && op.bulkId !== undefined && newId !== undefined) created.set(op.bulkId, newId);
    const location = newId !== undefined ? ((resource?.meta as { location?: string } | undefined)?.location ?? `${service.scimBaseUrl}/${kind}/${newId}`) : undefined;
    return {
      method: op.method,
      ...(op.bulkId !== undefined && { bulkId: op.bulkId }),
      ...(result.headers?.ETag !== undefined && { version: result.headers.ETag }),
      ...(location !== undefined && { location }),
      status: String(result.status),
    };
  };

  // Each operation's references, found once (a walk of its data), and the bulkIds the request declares: choosing the
  // next operation is then set lookups only, so 1,000 operations chained backwards cost milliseconds, not seconds.
  const refsOf = new Map(operations.map((op) => [op.index, [...referencesOf(op)]]));
  const declared = new Set(operations.flatMap((op) => (op.bulkId === undefined ? [] : [op.bulkId])));
  const settled = (r: string) => created.has(r) || failedBulkIds.has(r) || !declared.has(r);

  const record = (op: BulkOperation, outcome: BulkOutcome) => {
    if (Number(outcome.status) >= 400) {
      errors += 1;
      if (op.bulkId !== undefined) failedBulkIds.add(op.bulkId);
    }
    outcomes.set(op.index, outcome);
  };

  // A run of user creates is written by one workflow (runCreates) unless its targets need them one by one.
  const batchable = (op: BulkOperation) =>
    !oneByOne &&
    op.method === 'POST' &&
    op.path === '/Users' &&
    refsOf.get(op.index)!.length === 0 &&
    !('proxyMode' in caller.inbound) &&
    hasScope(BULK_SCOPES.Users.POST);
  let oneByOne = false;

  /**
   * Writes `run` (user creates, in order, none referring to a bulkId) as one InboundProvision. Answers which of them
   * it did not take (parse errors from the first one on, or all of them when a target needs them one per workflow):
   * they go back to the queue.
   */
  const runCreates = async (run: BulkOperation[]): Promise<BulkOperation[]> => {
    const users: { index: number; user: UserInput }[] = [];
    for (const op of run) {
      try {
        users.push({ index: op.index, user: await service.prepareUserCreate(caller, op.data) });
      } catch (err) {
        if (!(err instanceof ScimError)) throw err;
        break; // from here on, one by one: the next pass runs this one alone for its error
      }
    }
    const taken = run.slice(0, users.length);
    const rest = run.slice(users.length);
    if (taken.length < MIN_RUN) return run;
    const runCaller: ScimCaller = caller.request
      ? {
          ...caller,
          request: {
            ...caller.request,
            operation: `creates:${taken[0]!.index}-${taken.at(-1)!.index}`,
            fingerprint: requestFingerprint(taken.map((op) => [op.method, op.path, op.data ?? null, op.version ?? null])),
          },
        }
      : caller;
    let outcome: Awaited<ReturnType<ScimService['createUsers']>>;
    try {
      outcome = await service.createUsers(runCaller, users, failOnErrors === undefined ? undefined : failOnErrors - errors);
    } catch (err) {
      if (!(err instanceof ScimError)) throw err;
      const asked = Number(err.headers['Retry-After']);
      if (Number.isFinite(asked)) retryAfter = Math.max(retryAfter, asked);
      for (const op of taken) record(op, errorOutcome(op, err));
      return rest;
    }
    if ('pending' in outcome) {
      // Still being written at the deadline: each create answers where the run's outcome will be.
      const answer = await service.answer({ operation: 'createBatch', resourceType: 'User' }, outcome);
      for (const op of taken) {
        record(op, {
          method: op.method,
          ...(op.bulkId !== undefined && { bulkId: op.bulkId }),
          ...(typeof answer.body?.location === 'string' && { location: answer.body.location }),
          status: String(answer.status),
          response: answer.body,
        });
      }
      return rest;
    }
    if (!outcome.ok) throw new ScimError(outcome.rejection.status, outcome.rejection.detail);
    if (!('batch' in outcome)) throw new ScimError(500, 'Unexpected workflow result');
    if (outcome.perOperation !== undefined) {
      oneByOne = true;
      return run;
    }
    const byIndex = new Map(taken.map((op) => [op.index, op]));
    for (const item of outcome.batch) {
      const op = byIndex.get(item.index)!;
      if ('user' in item && op.bulkId !== undefined) created.set(op.bulkId, item.user.id);
      const { method, ...rest } = batchItemOutcome(item, service.scimBaseUrl);
      record(op, { method, ...(op.bulkId !== undefined && { bulkId: op.bulkId }), ...rest });
    }
    // Creates past failOnErrors were not run (absent from the batch): the loop stops before them.
    return outcome.batch.length === taken.length ? rest : [];
  };

  // Run in order; an operation whose references are not created yet waits for them (forward references).
  while (pending.length > 0 && (failOnErrors === undefined || errors < failOnErrors)) {
    const readyIndex = pending.findIndex((op) => refsOf.get(op.index)!.every(settled));
    const at = readyIndex === -1 ? 0 : readyIndex;
    if (batchable(pending[at]!)) {
      let end = at;
      while (end < pending.length && end - at < SCIM_LIMITS.bulkMaxOperations && batchable(pending[end]!)) end += 1;
      if (end - at >= MIN_RUN) {
        const run = pending.splice(at, end - at);
        const back = await runCreates(run);
        if (back.length === run.length) {
          // Not taken as a run: the first goes alone (its own error, or its own workflow), the rest stay queued.
          pending.splice(at, 0, ...back.slice(1));
          await runSingle(back[0]!);
        } else pending.splice(at, 0, ...back);
        continue;
      }
    }
    // None ready: the rest reference each other in a cycle. Run the first; its references fail below.
    await runSingle(pending.splice(at, 1)[0]!);
  }

  async function runSingle(op: BulkOperation): Promise<void> {
    const unresolved = refsOf.get(op.index)!.filter((r) => !created.has(r));
    let outcome: BulkOutcome;
    if (unresolved.length > 0) {
      outcome = errorOutcome(
        op,
        new ScimError(409, `bulkId ${unresolved.map((r) => `'${r}'`).join(', ')} could not be resolved (unknown, failed or circular)`, 'invalidValue'),
      );
    } else {
      try {
        outcome = await runOne(op);
      } catch (err) {
        if (!(err instanceof ScimError)) throw err;
        const asked = Number(err.headers['Retry-After']);
        if (Number.isFinite(asked)) retryAfter = Math.max(retryAfter, asked);
        outcome = errorOutcome(op, err);
      }
    }
    record(op, outcome);
  }

  // Operations the client may need to repeat: the key to repeat the whole request with.
  const statuses = [...outcomes.values()].map((o) => o.status);
  const headers: Record<string, string> = {};
  if (caller.request && statuses.some((st) => st === '202' || st === '429' || st === '503')) headers['Idempotency-Key'] = formatIdempotencyKey(caller.request.key);
  // Operations refused for now (429: the engine is saturated; 503: not confirmed or out of time): the longest wait any
  // of them asked for.
  if (statuses.includes('503')) headers['Retry-After'] = String(Math.max(RETRY_AFTER_SECONDS, retryAfter));
  else if (statuses.includes('429')) headers['Retry-After'] = String(Math.max(1, retryAfter));
  return {
    status: 200,
    headers,
    body: {
      schemas: [SCHEMA_BULK_RESPONSE],
      Operations: operations.flatMap((op) => {
        const o = outcomes.get(op.index);
        return o ? [o] : [];
      }),
    },
  };
}
