/**
 * Operator sessions: what an operator gets by signing in with the admin credential on the sign-in page
 * (src/http/operator/router.ts), so a browser can use the embedded Temporal UI and its codec endpoint without
 * sending the admin password with every request.
 *
 * - The cookie carries 256 random bits; the database keeps only their keyed digest (src/crypto/keyed-digest.ts),
 *   so the database files give nobody a session. Every api process accepts every session, and signing out ends
 *   it everywhere at once.
 * - The cookie is HttpOnly, SameSite=Lax (sent on top-level navigations and same-site requests, never on
 *   cross-site subrequests), Secure when the public base URL is https, and lives OPERATOR_SESSION_TTL_MINUTES.
 * - Sessions also end when the admin password changes: the digest of the password they were opened with is
 *   part of the row key (so a leaked cookie dies with the password it came from).
 */
import crypto from 'node:crypto';
import type { Request, Response } from 'express';
import { KeyedDigest } from '../../crypto/keyed-digest.js';
import { cookieOf } from '../cookies.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { PrismaClient } from '../../db/client.js';

export const SESSION_COOKIE = 'provisioning_operator';

export interface OperatorSession {
  username: string;
  expiresAt: Date;
}

const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

export class OperatorSessions {
  private readonly digest: KeyedDigest;
  private readonly secure: boolean;

  constructor(
    private readonly db: PrismaClient,
    box: SecretBox,
    private readonly opts: { admin: { username: string; password: string }; ttlMinutes: number; publicBaseUrl: string },
  ) {
    this.digest = new KeyedDigest(box.keyring, 'operator-session');
    this.secure = opts.publicBaseUrl.startsWith('https:');
  }

  /** The row ids a cookie value may have: bound to the admin credential it was opened with. */
  private ids(value: string): string[] {
    return this.digest.candidates(`${this.opts.admin.username}\n${this.opts.admin.password}\n${value}`);
  }

  /** Opens a session for an operator whose credential was just checked, and sets its cookie. */
  async open(res: Response, username: string, address: string | undefined): Promise<void> {
    const value = crypto.randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.opts.ttlMinutes * 60_000);
    await this.db.operatorSession.create({ data: { id: this.ids(value)[0]!, username, address: address ?? null, expiresAt } });
    // Expired sessions are swept when new ones open: operators sign in rarely, so this stays cheap.
    await this.db.operatorSession.deleteMany({ where: { expiresAt: { lt: new Date() } } });
    res.cookie(SESSION_COOKIE, value, {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secure,
      path: '/',
      maxAge: this.opts.ttlMinutes * 60_000,
    });
  }

  /** The live session of a request's cookie, if any. */
  async find(req: Request): Promise<OperatorSession | undefined> {
    const value = cookieOf(req, SESSION_COOKIE);
    if (value === undefined || !COOKIE_VALUE.test(value)) return undefined;
    const row = await this.db.operatorSession.findFirst({ where: { id: { in: this.ids(value) }, expiresAt: { gt: new Date() } } });
    return row ? { username: row.username, expiresAt: row.expiresAt } : undefined;
  }

  /** Ends the request's session (everywhere) and clears its cookie. */
  async close(req: Request, res: Response): Promise<void> {
    const value = cookieOf(req, SESSION_COOKIE);
    if (value !== undefined && COOKIE_VALUE.test(value)) await this.db.operatorSession.deleteMany({ where: { id: { in: this.ids(value) } } });
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: this.secure, path: '/' });
  }
}
