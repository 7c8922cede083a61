/**
 * Sign-in protection, mounted inside the admin API (/api/server/v1, after its authentication and JSON body
 * parser); the records and events are the login guard's (src/security/login-guard.ts):
 *
 *   GET    /security/locks?kind=&account=&address=&blocked=true&limit=   current failure records: account locks
 *                                                                       and address throttles (blocked: in force),
 *                                                                       with failures counted and retryAfterSeconds
 *   DELETE /security/locks?address=                                     clear an address: its throttles and the
 *                                                                       operator/client locks counted for it
 *   POST   /users/{id}/unlock                                           unlock a user account (WSO2: accountLocked
 *                                                                       false); failures and lock count forgotten
 *   GET    /security/events?type=&kind=&account=&address=&from=&to=&limit=
 *                                                                       account_locked, account_unlocked,
 *                                                                       address_throttled, address_cleared; newest first
 *
 * @example
 *   curl -u admin:<pw> 'http://localhost:8080/api/server/v1/security/locks?blocked=true'
 *   curl -u admin:<pw> -X POST http://localhost:8080/api/server/v1/users/<id>/unlock
 *   curl -u admin:<pw> -X DELETE 'http://localhost:8080/api/server/v1/security/locks?address=203.0.113.7'
 */
import { Router, type Request } from 'express';
import { AdminError } from '../../provisioning/connectors.js';
import { normalizeAddress } from '../../security/client-address.js';
import { LOGIN_KINDS, SECURITY_EVENT_TYPES, type LoginKind, type SecurityEventType } from '../../security/login-guard.js';
import { isUuid } from '../../userstore/users.js';
import type { AppContext } from '../context.js';

const MAX_FILTER_CHARS = 256;

function text(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || v.length > MAX_FILTER_CHARS) throw new AdminError(400, 'invalid_request', `${name} must be one string of at most ${MAX_FILTER_CHARS} characters`);
  return v;
}

function oneOf<T extends string>(req: Request, name: string, allowed: readonly T[]): T | undefined {
  const v = text(req, name);
  if (v !== undefined && !(allowed as readonly string[]).includes(v)) throw new AdminError(400, 'invalid_request', `${name} must be one of ${allowed.join(', ')}`);
  return v as T | undefined;
}

function address(req: Request, required: boolean): string | undefined {
  const v = text(req, 'address');
  if (v === undefined) {
    if (required) throw new AdminError(400, 'invalid_request', 'address is required (an IPv4 or IPv6 address)');
    return undefined;
  }
  const normalized = normalizeAddress(v);
  if (!normalized) throw new AdminError(400, 'invalid_request', 'address must be an IPv4 or IPv6 address');
  return normalized;
}

function time(req: Request, name: string): Date | undefined {
  const v = text(req, name);
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new AdminError(400, 'invalid_request', `${name} must be an ISO 8601 date-time`);
  return d;
}

const limitOf = (req: Request) => Math.min(Math.max(Number(text(req, 'limit') ?? 100) || 100, 1), 1000);

export function securityAdminRouter(ctx: AppContext): Router {
  const router = Router();
  const actor = `${ctx.admin.username} via admin-api`;

  router.get('/security/locks', async (req, res) => {
    const blocked = oneOf(req, 'blocked', ['true', 'false'] as const);
    const kind = oneOf<LoginKind>(req, 'kind', LOGIN_KINDS);
    const account = text(req, 'account');
    const addr = address(req, false);
    res.json(
      await ctx.loginGuard.listRecords({
        limit: limitOf(req),
        ...(kind && { kind }),
        ...(account !== undefined && { account }),
        ...(addr !== undefined && { address: addr }),
        ...(blocked === 'true' && { blocked: true }),
      }),
    );
  });

  router.delete('/security/locks', async (req, res) => {
    res.json(await ctx.loginGuard.clearAddress(address(req, true)!, actor));
  });

  router.post('/users/:id/unlock', async (req, res) => {
    const id = String(req.params.id);
    const user = isUuid(id)
      ? await ctx.db.user.findUnique({ where: { id }, select: { id: true, userName: true, domain: { select: { name: true } } } })
      : null;
    if (!user) throw new AdminError(404, 'not_found', `No user '${id}'`);
    const unlocked = await ctx.loginGuard.unlockAccount('user', user.id, actor, `${user.domain.name}/${user.userName}`);
    res.json({ id: user.id, userName: user.userName, wasLocked: unlocked.wasLocked, locked: false });
  });

  router.get('/security/events', async (req, res) => {
    const type = oneOf<SecurityEventType>(req, 'type', SECURITY_EVENT_TYPES);
    const kind = oneOf<LoginKind>(req, 'kind', LOGIN_KINDS);
    const account = text(req, 'account');
    const addr = address(req, false);
    const from = time(req, 'from');
    const to = time(req, 'to');
    const rows = await ctx.db.securityEvent.findMany({
      where: {
        ...(type && { type }),
        ...(kind && { kind }),
        ...(account !== undefined && { account }),
        ...(addr !== undefined && { address: addr }),
        ...((from ?? to) && { createdAt: { ...(from && { gte: from }), ...(to && { lte: to }) } }),
      },
      orderBy: { createdAt: 'desc' },
      take: limitOf(req),
    });
    res.json(
      rows.map((r) => ({
        id: r.id,
        createdAt: r.createdAt.toISOString(),
        type: r.type,
        kind: r.kind,
        account: r.account,
        address: r.address,
        reason: r.reason,
        lockedUntil: r.lockedUntil?.toISOString() ?? null,
        actor: r.actor,
      })),
    );
  });

  return router;
}
