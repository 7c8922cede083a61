/**
 * A local HTTP server for connector unit tests: it records every request (method, url, Authorization, Content-Type,
 * the body parsed as JSON, or a form as URLSearchParams) and answers each with the next scripted answer (200 `{}`
 * when the script has run out). Tests assign `target.answers` before a call and read `target.seen` after.
 *
 * @example
 * const target = await startScriptedTarget('application/scim+json');
 * target.answers = [{ status: 201, body: { id: 'r1' } }];
 * await connector(target.base).createUser(user);
 * expect(target.seen[0]!.method).toBe('POST');
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  authorization?: string | undefined;
  contentType?: string | undefined;
  /** A JSON body, parsed. */
  body?: unknown;
  /** A form body (an OAuth token request). */
  form?: URLSearchParams;
}

export interface ScriptedAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ScriptedTarget {
  readonly base: string;
  seen: SeenRequest[];
  answers: ScriptedAnswer[];
  /** Forgets what was seen and what was scripted. */
  reset(): void;
  close(): Promise<void>;
}

export async function startScriptedTarget(contentType: string): Promise<ScriptedTarget> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const type = req.headers['content-type'];
      const form = type?.startsWith('application/x-www-form-urlencoded') === true;
      target.seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        contentType: type,
        ...(text && !form && { body: JSON.parse(text) as unknown }),
        ...(text && form && { form: new URLSearchParams(text) }),
      });
      const answer = target.answers.shift() ?? { status: 200, body: {} };
      res.writeHead(answer.status, { 'content-type': contentType, ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const target: ScriptedTarget = {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen: [],
    answers: [],
    reset() {
      target.seen = [];
      target.answers = [];
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  return target;
}
