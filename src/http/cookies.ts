/** Cookies of a request, read without a parser dependency. */
import type { Request } from 'express';

/**
 * The value of one cookie of a request (RFC 6265 §5.4 `cookie-string`), undefined when absent. A Cookie header longer
 * than 8 KiB is not read (no cookie of this server comes near it; Node bounds the whole header block at 16 KiB).
 */
export function cookieOf(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string' || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
