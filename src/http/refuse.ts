/**
 * One refusal, in the error shape of the protocol a request was sent to, for the middleware that runs before the
 * protocol's own router does (the URL check, the readiness gate): SCIM 2.0 (RFC 7644 §3.12), SCIM 1.1 (Protocol
 * 1.1 §3.9), OAuth 2.0 (RFC 6749 §5.2), or the admin API's `{ code, message }`.
 */
import type { Request, Response } from 'express';
import { errorBody11 } from '../connectors/scim11/schema.js';
import { ScimError } from '../scim/errors.js';
import { sendScim } from './scim/respond.js';

export function refuse(req: Request, res: Response, status: number, detail: string): void {
  const path = req.path;
  if (path.startsWith('/scim2')) {
    sendScim(res, status, new ScimError(status, detail, status === 400 ? 'invalidValue' : undefined).toBody());
  } else if (path.startsWith('/wso2/scim')) {
    res.status(status).type('application/json').send(JSON.stringify(errorBody11(status, detail)));
  } else if (path.startsWith('/oauth2')) {
    res.status(status).json({ error: status === 503 ? 'temporarily_unavailable' : 'invalid_request', error_description: detail });
  } else {
    res.status(status).json({ code: status === 503 ? 'unavailable' : 'invalid_request', message: detail });
  }
}
