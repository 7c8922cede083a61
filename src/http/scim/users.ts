/**
 * /scim2/Users (RFC 7644 §3.3-§3.6). Reads go straight to the store; every write runs an InboundProvision
 * workflow, so outbound provisioning follows every inbound change.
 */
import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { WorkflowFailedError } from '@temporalio/client';
import { ScimError } from '../../scim/errors.js';
import { SCHEMA_LIST_RESPONSE } from '../../scim/schemas.js';
import { etagOf, parseUserInput, PRIMARY_DOMAIN, toScimUser } from '../../scim/user-resource.js';
import { ProvisioningOperationKey, UserIdKey, UserNameKey } from '../../temporal/search-attributes.js';
import { getUser, isUuid, listUsers, type UserFilter } from '../../userstore/users.js';
import type { InboundProvisionInput, InboundProvisionResult, inboundProvision } from '../../../workflows/inbound-provision.js';
import { callerOf } from '../auth.js';
import type { AppContext } from '../context.js';
import { sendScim } from './respond.js';

/** Parses `If-Match: W/"3"` into a version; `*` or absent means no precondition (RFC 7232 §3.1). */
function ifMatchVersion(req: Request): number | undefined {
  const header = req.headers['if-match'];
  if (header === undefined || header.trim() === '*') return undefined;
  const m = /^(?:W\/)?"(\d+)"$/.exec(header.trim());
  if (!m) throw new ScimError(412, `If-Match ${header} does not match the resource's version`);
  return Number(m[1]);
}

/** The equality filters of this slice: `userName|externalId|id eq "value"` (full grammar: issue 3). */
function parseSimpleFilter(filter: unknown): UserFilter | undefined {
  if (filter === undefined) return undefined;
  if (typeof filter !== 'string') throw ScimError.badRequest('filter must be a single string', 'invalidFilter');
  const m = /^\s*(userName|externalId|id)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(filter);
  if (!m) throw ScimError.badRequest(`Unsupported or malformed filter: ${filter}`, 'invalidFilter');
  const attribute = ({ username: 'userName', externalid: 'externalId', id: 'id' } as const)[m[1]!.toLowerCase() as 'username'];
  return { attribute, value: JSON.parse(`"${m[2]!}"`) as string };
}

function positiveInt(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n)) throw ScimError.badRequest(`${name} must be an integer`);
  return Math.max(n, min);
}

export function usersRouter(ctx: AppContext): Router {
  const router = Router();
  const base = ctx.config.api.publicBaseUrl;

  async function runInbound(input: InboundProvisionInput, userName?: string): Promise<InboundProvisionResult> {
    const id = 'userId' in input ? input.userId : undefined;
    try {
      return await ctx.temporal.workflow.execute<typeof inboundProvision>('inboundProvision', {
        workflowId: `inbound-${input.operation}-${randomUUID()}`,
        taskQueue: ctx.config.temporal.taskQueue,
        args: [input],
        typedSearchAttributes: [
          { key: ProvisioningOperationKey, value: input.operation },
          ...(userName !== undefined ? [{ key: UserNameKey, value: userName }] : []),
          ...(id !== undefined ? [{ key: UserIdKey, value: id }] : []),
        ],
      });
    } catch (err) {
      if (err instanceof WorkflowFailedError) {
        throw new ScimError(500, `Provisioning failed: ${err.cause?.message ?? err.message}`);
      }
      throw err;
    }
  }

  function answer(res: Response, result: InboundProvisionResult, status: 200 | 201): void {
    if (!result.ok) throw new ScimError(result.rejection.status, result.rejection.detail, result.rejection.scimType as never);
    if (result.pendingTargets.length > 0) res.setHeader('X-Provisioning-Pending', result.pendingTargets.join(', '));
    if (result.failedTargets.length > 0) {
      res.setHeader('X-Provisioning-Failed', result.failedTargets.map((f) => `${f.label}: ${f.error ?? 'failed'}`).join('; ').replace(/[\r\n]/g, ' '));
    }
    const body = toScimUser(result.user, base);
    res.setHeader('ETag', etagOf(result.user.version));
    if (status === 201) res.setHeader('Location', `${base}/scim2/Users/${result.user.id}`);
    sendScim(res, status, body);
  }

  router.post('/', async (req, res) => {
    const user = parseUserInput(req.body, { defaultDomain: PRIMARY_DOMAIN });
    const result = await runInbound(
      { operation: 'create', user, initiator: callerOf(res).initiator, blockingTimeoutMs: ctx.config.blockingTimeoutMs },
      user.userName,
    );
    answer(res, result, 201);
  });

  router.get('/', async (req, res) => {
    const filter = parseSimpleFilter(req.query.filter);
    const startIndex = positiveInt(req.query.startIndex, 'startIndex', 1, 1);
    const count = Math.min(positiveInt(req.query.count, 'count', 100, 0), 1000);
    const { total, users } = await listUsers(ctx.db, { filter, startIndex, count });
    sendScim(res, 200, {
      schemas: [SCHEMA_LIST_RESPONSE],
      totalResults: total,
      startIndex,
      itemsPerPage: users.length,
      Resources: users.map((u) => toScimUser(u, base)),
    });
  });

  router.get('/:id', async (req, res) => {
    const user = await getUser(ctx.db, req.params.id);
    if (!user) throw ScimError.notFound('User', req.params.id);
    res.setHeader('ETag', etagOf(user.version));
    sendScim(res, 200, toScimUser(user, base));
  });

  router.put('/:id', async (req, res) => {
    const id = req.params.id;
    if (!isUuid(id)) throw ScimError.notFound('User', id);
    const current = await getUser(ctx.db, id);
    if (!current) throw ScimError.notFound('User', id);
    // A PUT without a domain prefix keeps the user in its domain.
    const user = parseUserInput(req.body, { defaultDomain: current.domain });
    const result = await runInbound(
      {
        operation: 'replace',
        userId: id,
        user,
        ifMatchVersion: ifMatchVersion(req),
        initiator: callerOf(res).initiator,
        blockingTimeoutMs: ctx.config.blockingTimeoutMs,
      },
      user.userName,
    );
    answer(res, result, 200);
  });

  router.delete('/:id', async (req, res) => {
    const id = req.params.id;
    if (!isUuid(id)) throw ScimError.notFound('User', id);
    const result = await runInbound({
      operation: 'delete',
      userId: id,
      ifMatchVersion: ifMatchVersion(req),
      initiator: callerOf(res).initiator,
      blockingTimeoutMs: ctx.config.blockingTimeoutMs,
    });
    if (!result.ok) throw new ScimError(result.rejection.status, result.rejection.detail, result.rejection.scimType as never);
    if (result.pendingTargets.length > 0) res.setHeader('X-Provisioning-Pending', result.pendingTargets.join(', '));
    res.status(204).end();
  });

  return router;
}
