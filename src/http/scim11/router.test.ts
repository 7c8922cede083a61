/**
 * The SCIM 1.1 router reuses /scim2's requireScope, which answers in SCIM 2.0 form; errorsIn11 is where that
 * answer becomes a SCIM 1.1 error. A small express app with a caller lacking the scope shows it.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireScope, type Caller } from '../auth.js';
import { sendScim } from '../scim/respond.js';
import { SCOPES } from '../scim/resources.js';
import { errorsIn11 } from './router.js';

let base: string;
let close: () => void;

beforeAll(async () => {
  const app = express();
  app.use(errorsIn11);
  app.use((_req, res, next) => {
    const caller: Caller = {
      initiator: { applicationId: 'app', channel: 'scim11', label: 'app via scim11' },
      scopes: new Set([SCOPES.User.view]),
      applicationId: 'app',
      inbound: { domain: 'PRIMARY' },
    };
    res.locals.caller = caller;
    next();
  });
  app.post('/Users', requireScope(SCOPES.User.create), (_req, res) => {
    res.status(201).end();
  });
  app.get('/Users', requireScope(SCOPES.User.view), (_req, res) => {
    sendScim(res, 200, { schemas: ['urn:scim:schemas:core:1.0'], totalResults: 0, Resources: [] });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
});
afterAll(() => close());

describe('errorsIn11', () => {
  it("turns requireScope's SCIM 2.0 403 into a SCIM 1.1 error, keeping the WWW-Authenticate challenge", async () => {
    const res = await fetch(`${base}/Users`, { method: 'POST' });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
    expect(await res.json()).toEqual({
      Errors: [{ description: expect.stringContaining(`requires the scope ${SCOPES.User.create}`), code: '403' }],
    });
  });

  it('leaves other answers alone', async () => {
    const res = await fetch(`${base}/Users`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ schemas: ['urn:scim:schemas:core:1.0'], totalResults: 0, Resources: [] });
  });
});
