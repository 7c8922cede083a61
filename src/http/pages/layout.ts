/**
 * The one layout of the sign-in pages (login, identity provider choice, consent, logout, errors): plain HTML, no
 * script, one small inline style sheet with high-contrast colours (WCAG AA), a viewport meta so it reads on a phone,
 * labels on every field, visible keyboard focus, and errors announced (`role="alert"`). Every page is sent with
 * `Cache-Control: no-store` (it holds a CSRF token and possibly a username), a CSP that allows nothing but the
 * inline style, and framing refused (clickjacking).
 *
 * Texts come from src/http/pages/texts.ts; every value is escaped by `html` (src/http/pages/html.ts).
 */
import type { Response } from 'express';
import { html, type SafeHtml } from './html.js';
import { text, type TextKey } from './texts.js';

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#f3f4f6}
main{max-width:28rem;margin:2rem auto;padding:1.5rem;background:#fff;border:1px solid #d1d5db;border-radius:.5rem}
h1{font-size:1.5rem;margin:0 0 1rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=password]{width:100%;padding:.6rem;font:inherit;border:1px solid #6b7280;border-radius:.25rem}
button{display:block;width:100%;margin-top:1rem;padding:.7rem;font:inherit;font-weight:600;border:2px solid #1d4ed8;border-radius:.25rem;background:#1d4ed8;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1d4ed8}
:focus-visible{outline:3px solid #b45309;outline-offset:2px}
.hint{color:#4b5563;font-size:.9rem;margin:.25rem 0 0}
.error{padding:.75rem;border:1px solid #b91c1c;border-radius:.25rem;background:#fef2f2;color:#7f1d1d}
ul{padding-left:1.25rem}
hr{border:0;border-top:1px solid #d1d5db;margin:1.5rem 0}
@media (max-width:30rem){main{margin:0;border:0;border-radius:0;min-height:100vh}}
`;

/** Headers every page carries. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** A whole page: the title (also the heading) and its body. */
export function pageHtml(title: string, body: SafeHtml): string {
  return html`<!DOCTYPE html>
<html lang="${text('page.lang')}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · ${text('page.product')}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`.value;
}

/** An error paragraph, announced by screen readers. */
export function errorBlock(message: string | undefined): SafeHtml {
  return message === undefined ? html`` : html`<p class="error" role="alert">${message}</p>`;
}

/** Sends a page from an express handler. */
export function sendPage(res: Response, status: number, title: string, body: SafeHtml, headers: Record<string, string> = {}): void {
  res.status(status).set({ ...PAGE_HEADERS, ...headers }).send(pageHtml(title, body));
}

/** The body of an error page: the text, and an OAuth error code when there is one (never a stack or token content). */
export function errorBody(key: TextKey, values: Record<string, string | number> = {}, code?: string): SafeHtml {
  return html`${errorBlock(text(key, values))}${code === undefined ? '' : html`<p class="hint">${text('error.code', { code })}</p>`}`;
}

/**
 * Renders an error page in the sign-in layout: for the federation callback and everything else that must stop a
 * sign-in with a clear message.
 *
 * @example
 *   renderErrorPage(res, 400, 'error.expired');
 *   renderErrorPage(res, 502, 'error.generic', { code: 'idp_unreachable' });
 */
export function renderErrorPage(res: Response, status: number, key: TextKey, opts: { values?: Record<string, string | number>; code?: string; headers?: Record<string, string> } = {}): void {
  sendPage(res, status, text('error.title'), errorBody(key, opts.values, opts.code), opts.headers);
}
