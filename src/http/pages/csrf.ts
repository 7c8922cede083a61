/**
 * CSRF tokens for the sign-in forms (double submit, bound to the sign-in): the browser gets a random HttpOnly
 * cookie once; each form carries HMAC(secret, cookie ‖ interaction uid), so a token is good only in that browser
 * and for that sign-in, and a page from elsewhere can neither read the cookie nor compute the token. The secret is
 * one of the authorization server's cookie keys (src/http/oauth/keys.ts), the same in every api process.
 * The cookie is SameSite=Lax (the first page comes from a cross-site redirect, a POST back is same-site), HttpOnly,
 * and Secure when PUBLIC_BASE_URL is https.
 */
import crypto from 'node:crypto';
import type { Request, Response } from 'express';
import { cookieOf } from '../cookies.js';

export const CSRF_COOKIE = 'op_csrf';
export const CSRF_FIELD = 'csrf';

const COOKIE_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export class CsrfTokens {
  constructor(
    private readonly secret: string,
    private readonly secure: boolean,
    private readonly path: string,
  ) {}

  private token(cookie: string, uid: string): string {
    return crypto.createHmac('sha256', this.secret).update(`csrf\0${cookie}\0${uid}`).digest('base64url');
  }

  /** The token for a form of this sign-in; sets the cookie when the browser has none. */
  issue(req: Request, res: Response, uid: string): string {
    let cookie = cookieOf(req, CSRF_COOKIE);
    if (cookie === undefined || !COOKIE_SHAPE.test(cookie)) {
      cookie = crypto.randomBytes(32).toString('base64url');
      res.cookie(CSRF_COOKIE, cookie, { httpOnly: true, sameSite: 'lax', secure: this.secure, path: this.path });
    }
    return this.token(cookie, uid);
  }

  /** Whether the form's token is the one of this browser and this sign-in. */
  verify(req: Request, uid: string, presented: unknown): boolean {
    const cookie = cookieOf(req, CSRF_COOKIE);
    if (cookie === undefined || !COOKIE_SHAPE.test(cookie) || typeof presented !== 'string' || presented.length > 100) return false;
    const expected = Buffer.from(this.token(cookie, uid));
    const given = Buffer.from(presented);
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  }
}
