/**
 * Authentication of API calls. This slice knows the operator's admin credential (HTTP Basic); OAuth
 * access tokens for applications come with the token endpoint.
 */
import type { NextFunction, Request, Response } from 'express';
import { safeEqual } from '../crypto/password.js';
import { RESIDENT_APPLICATION_ID } from '../provisioning/defaults.js';
import type { Initiator } from '../provisioning/types.js';

export interface Caller {
  initiator: Initiator;
}

export function basicCredentials(req: Request): { username: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (!header?.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  if (sep < 0) return undefined;
  return { username: decoded.slice(0, sep), password: decoded.slice(sep + 1) };
}

/** Whether the request carries the admin credential (compared in constant time, both parts always). */
export function isAdminRequest(req: Request, admin: { username: string; password: string }): boolean {
  const creds = basicCredentials(req);
  const okUser = creds !== undefined && safeEqual(creds.username, admin.username);
  const okPassword = creds !== undefined && safeEqual(creds.password, admin.password);
  return okUser && okPassword;
}

/**
 * Accepts the admin credential; otherwise calls `deny`. The caller acts for the resident service provider,
 * as an operator in WSO2's management console does.
 */
export function requireAdmin(
  admin: { username: string; password: string },
  channel: string,
  deny: (res: Response) => void,
) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!isAdminRequest(req, admin)) {
      res.setHeader('WWW-Authenticate', 'Basic realm="provisioning", charset="UTF-8"');
      deny(res);
      return;
    }
    const caller: Caller = {
      initiator: { applicationId: RESIDENT_APPLICATION_ID, channel, label: `${admin.username} via ${channel}` },
    };
    res.locals.caller = caller;
    next();
  };
}

export function callerOf(res: Response): Caller {
  return res.locals.caller as Caller;
}
