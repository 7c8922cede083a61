/** Route parameters of the admin API. */
import type { Request } from 'express';
import { AdminError } from '../../provisioning/connectors.js';
import { isUuid } from '../../userstore/users.js';

/** A route parameter that must be a resource id: anything else is a 404 (no resource can have it). */
export function uuidParam(req: Request, name: string): string {
  const value = req.params[name];
  if (typeof value !== 'string' || !isUuid(value)) throw new AdminError(404, 'not_found', `No resource with id '${String(value)}'`);
  return value;
}
