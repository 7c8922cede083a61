/**
 * GET /api/server/v1/provisioning/requests/{id}: the status of a SCIM write that was answered `202 Accepted` because
 * its workflow had not finished within REQUEST_TIMEOUT_MS (the 202 points here), or of any keyed write. `running`, or
 * `completed` with the SCIM answer the request would have had (`response`: status, headers, body); `failed` when the
 * workflow itself failed.
 *
 * Read with the admin credential (any request) or with an access token of the application that made the request
 * (and, for a password-grant token, of the same user): an application polls its own requests without the operator
 * credential, and learns nothing of anyone else's (another's request is 404, as one that does not exist).
 *
 * @example
 *   GET /api/server/v1/provisioning/requests/inbound-idem-3f0c...   (Authorization: Bearer <the application's token>)
 *   200 { "id": "inbound-idem-3f0c...", "status": "completed", "operation": "create", "resourceType": "User",
 *         "startedAt": "...", "closedAt": "...", "response": { "status": 201, "headers": { "Location": "..." }, "body": { ... } } }
 */
import { ServiceError } from '@temporalio/client';
import { Router, type Request, type Response } from 'express';
import type { Logger } from '../../log.js';
import { ScimError } from '../../scim/errors.js';
import { RETRY_AFTER_SECONDS } from '../../scim/inbound-requests.js';
import type { ScimResult, ScimService } from '../../scim/service.js';
import { callerOf, scimAuthenticate, throttledMessage } from '../auth.js';
import type { AppContext } from '../context.js';
import { createScimService } from '../scim/router.js';

export function requestsAdminRouter(ctx: AppContext, log: Logger): Router {
  const router = Router();
  const service = createScimService(ctx, log);
  const notFound = (res: Response, id: string) => res.status(404).json({ code: 'not_found', message: `No provisioning request '${id}'` });

  router.get(
    '/provisioning/requests/:id',
    scimAuthenticate(
      ctx,
      (res) => res.status(401).json({ code: 'unauthorized', message: 'Authentication required' }),
      (res, retryAfter) => res.status(429).json({ code: 'too_many_requests', message: throttledMessage(retryAfter) }),
    ),
    async (req: Request, res: Response) => {
      const id = String(req.params.id);
      let status: Awaited<ReturnType<ScimService['requestStatus']>>;
      try {
        status = await service.requestStatus(id);
      } catch (err) {
        if (!(err instanceof ServiceError)) throw err;
        res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
        res.status(503).json({ code: 'unavailable', message: 'The provisioning engine is unavailable; the request status cannot be read now' });
        return;
      }
      const caller = callerOf(res);
      // Operators see every request; an application only its own (a user's token only that user's).
      const own = caller.scopes === 'all' || (status?.memo.applicationId === caller.applicationId && status.memo.userId === caller.userId);
      if (!status || !own) {
        notFound(res, id);
        return;
      }
      const body: Record<string, unknown> = {
        id,
        status: status.state,
        operation: status.memo.operation,
        resourceType: status.memo.resourceType,
        startedAt: status.startedAt.toISOString(),
        ...(status.closedAt && { closedAt: status.closedAt.toISOString() }),
      };
      if (status.state === 'running') {
        res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      } else {
        let answer: ScimResult;
        try {
          answer =
            status.state === 'completed'
              ? await service.answer({ operation: status.memo.operation, resourceType: status.memo.resourceType }, status.result)
              : { status: 500, body: new ScimError(500, status.reason).toBody() };
        } catch (err) {
          if (!(err instanceof ScimError)) throw err;
          answer = { status: err.status, body: err.toBody() };
        }
        body.response = { status: answer.status, ...(answer.headers && { headers: answer.headers }), ...(answer.body && { body: answer.body }) };
      }
      res.setHeader('Cache-Control', 'no-store');
      res.json(body);
    },
  );
  return router;
}
