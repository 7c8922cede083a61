import type { Response } from 'express';
import { SCIM_CONTENT_TYPE } from '../../scim/schemas.js';

/** Sends a SCIM body as application/scim+json (RFC 7644 §3.1). */
export function sendScim(res: Response, status: number, body: unknown): void {
  res.status(status).type(SCIM_CONTENT_TYPE).send(JSON.stringify(body));
}
