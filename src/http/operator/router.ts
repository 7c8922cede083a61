/**
 * The operator's sign-in page, at the server's root:
 *
 *   GET  /login[?return=/temporal-ui/]   the form
 *   POST /login                           username, password, return (form-encoded): opens an operator session
 *                                         (src/http/operator/sessions.ts) and goes back to `return` (303)
 *   POST /logout                          ends it
 *
 * The admin credential is the operator's; what it opens here is what HTTP Basic gives API clients. Forms are
 * accepted only from this server's own pages (the Origin or Referer must be the public base URL's origin), so
 * another site cannot sign a browser in or out. `return` must be a path on this server.
 */
import express, { Router, type Request, type Response } from 'express';
import { clientAddress } from '../../security/client-address.js';
import { authenticateOperator, throttledMessage } from '../auth.js';
import type { AppContext } from '../context.js';
import type { OperatorSessions } from './sessions.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A path on this server, never another origin (`//host`, `/\host` and schemes are refused). */
export function safeReturnPath(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || value.length > 2000) return fallback;
  return /^\/(?![/\\])[\x21-\x7e]*$/.test(value) ? value : fallback;
}

function page(res: Response, status: number, opts: { returnTo: string; message?: string }): void {
  res.status(status);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
  res.setHeader('X-Frame-Options', 'DENY');
  res.send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Provisioning server</title>
<style>body{font:16px system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}label{display:block;margin:.8rem 0 .2rem}
input{width:100%;padding:.4rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1rem}.error{color:#a00}</style></head>
<body><h1>Sign in</h1><p>Operators sign in with the admin credential.</p>
${opts.message ? `<p class="error" role="alert">${escapeHtml(opts.message)}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="return" value="${escapeHtml(opts.returnTo)}">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required maxlength="256">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
<button type="submit">Sign in</button></form></body></html>`);
}

/** Whether a form post comes from this server's own pages (RFC 6454 origin of the public base URL). */
function fromOwnPage(req: Request, ownOrigin: string): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) return origin === ownOrigin;
  const referer = req.headers.referer;
  if (referer === undefined) return false;
  try {
    return new URL(referer).origin === ownOrigin;
  } catch {
    return false;
  }
}

export function operatorRouter(ctx: AppContext, sessions: OperatorSessions): Router {
  const router = Router();
  const ownOrigin = new URL(ctx.config.api.publicBaseUrl).origin;
  const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 });

  router.get('/login', (req, res) => {
    page(res, 200, { returnTo: safeReturnPath(req.query.return) });
  });

  router.post('/login', form, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const returnTo = safeReturnPath(body.return);
    if (!fromOwnPage(req, ownOrigin)) {
      page(res, 403, { returnTo, message: 'This form can only be sent from the sign-in page of this server.' });
      return;
    }
    const username = typeof body.username === 'string' ? body.username : '';
    const password = typeof body.password === 'string' ? body.password : '';
    // Guarded as the admin credential is everywhere (src/security/login-guard.ts): per address, and per (operator,
    // address); while throttled the password is not even compared.
    const address = clientAddress(req, ctx.config.loginSecurity.trustProxyHops);
    const auth = await authenticateOperator(ctx, address, { username, password });
    if (auth.outcome === 'throttled') {
      res.setHeader('Retry-After', String(auth.retryAfterSeconds));
      page(res, 429, { returnTo, message: throttledMessage(auth.retryAfterSeconds) });
      return;
    }
    if (auth.outcome === 'refused') {
      page(res, 401, { returnTo, message: 'The username or password is not right.' });
      return;
    }
    await sessions.open(res, ctx.admin.username, address);
    res.redirect(303, returnTo);
  });

  router.post('/logout', form, async (req, res) => {
    if (!fromOwnPage(req, ownOrigin)) {
      res.status(403).json({ code: 'forbidden', message: 'Sign-out is only accepted from this server\'s own pages' });
      return;
    }
    await sessions.close(req, res);
    res.redirect(303, '/login');
  });

  return router;
}
