/**
 * One refusal, in the error shape of the protocol a request was sent to, for what answers before the protocol's own
 * router does (the URL check, the readiness gate, the HTTP parser's own errors): SCIM 2.0 (RFC 7644 §3.12),
 * SCIM 1.1 (Protocol 1.1 §3.9), OAuth 2.0 (RFC 6749 §5.2), or the admin API's `{ code, message }`.
 */
import type { Socket } from 'node:net';
import type { Request, Response } from 'express';
import { errorBody11 } from '../scim/scim11.js';
import { ScimError } from '../scim/errors.js';
import { SCIM_CONTENT_TYPE } from '../scim/schemas.js';

/** The content type and body of an error for a request to `path`. */
export function errorFor(path: string, status: number, detail: string, field?: string): { contentType: string; body: string } {
  if (path.startsWith('/scim2')) {
    // RFC 7644 §3.12: a bad `filter` is invalidFilter, any other bad value invalidValue.
    const scimType = status !== 400 ? undefined : field?.toLowerCase() === 'filter' ? 'invalidFilter' : 'invalidValue';
    return { contentType: SCIM_CONTENT_TYPE, body: JSON.stringify(new ScimError(status, detail, scimType).toBody()) };
  }
  if (path.startsWith('/wso2/scim')) return { contentType: 'application/json', body: JSON.stringify(errorBody11(status, detail)) };
  if (path.startsWith('/oauth2')) {
    return { contentType: 'application/json', body: JSON.stringify({ error: status === 503 ? 'temporarily_unavailable' : 'invalid_request', error_description: detail }) };
  }
  return { contentType: 'application/json', body: JSON.stringify({ code: status === 503 ? 'unavailable' : 'invalid_request', message: detail }) };
}

export function refuse(req: Request, res: Response, status: number, detail: string, field?: string): void {
  const { contentType, body } = errorFor(req.path, status, detail, field);
  res.status(status).type(contentType).send(body);
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 413: 'Content Too Large', 431: 'Request Header Fields Too Large' };

/**
 * The answer to a request the HTTP parser itself refused (Node's `clientError`: headers over the 16 KiB limit, a
 * malformed request line): Node would send a bare status line; this sends the protocol's error body, chosen from
 * the request line when the parser got that far.
 */
export function answerClientError(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket): void {
  if (!socket.writable || (err.code === 'ECONNRESET')) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const requestLine = err.rawPacket?.subarray(0, 8192).toString('latin1').split('\r\n', 1)[0] ?? '';
  const path = /^[A-Z]+ (\/\S*)/.exec(requestLine)?.[1] ?? '/';
  const detail =
    status === 431 ? 'The request line and headers exceed 16 KiB; send long filters with POST /.search' : status === 408 ? 'The request took too long to arrive' : 'The request is not valid HTTP/1.1';
  const { contentType, body } = errorFor(path, status, detail);
  socket.end(`HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
