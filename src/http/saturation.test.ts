import { ServiceError } from '@temporalio/client';
import type { Response } from 'express';
import { describe, expect, it } from 'vitest';
import { Prisma } from '../db/client.js';
import { AdmissionLimiter } from './admission.js';
import { saturatedAnswer, saturationOf } from './saturation.js';

/** An error as Prisma 7 with @prisma/adapter-pg reports a PostgreSQL refusal (seen on PostgreSQL 15: 53300). */
function postgresError(sqlState: string, code = 'P2037') {
  return new Prisma.PrismaClientKnownRequestError(`Raw query failed. Code: \`${sqlState}\``, {
    code,
    clientVersion: '7.10.0',
    meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { originalCode: sqlState, kind: 'TooManyConnections' } } },
  });
}

describe('saturationOf', () => {
  it("knows the database's saturation: no pooled connection in time, connecting timed out, SQLSTATE class 53, not accepting connections", () => {
    // node-postgres' pool, verbatim (pg-pool), as Prisma passes it through.
    expect(saturationOf(new Error('timeout exceeded when trying to connect'))).toEqual({ source: 'database', detail: 'no free database connection in time' });
    expect(saturationOf(new Error('Connection terminated due to connection timeout'))?.source).toBe('database');
    expect(saturationOf(postgresError('53300'))).toEqual({ source: 'database', detail: 'the database refused: too many connections (SQLSTATE 53300)' });
    expect(saturationOf(postgresError('53300', 'P2010'))?.source).toBe('database');
    for (const state of ['53000', '53100', '53200', '57P03']) expect(saturationOf(postgresError(state))?.source, state).toBe('database');
    // Wrapped one level down (a cause chain).
    expect(saturationOf(new Error('store failed', { cause: new Error('timeout exceeded when trying to connect') }))?.source).toBe('database');
  });

  it("knows the engine's: RESOURCE_EXHAUSTED", () => {
    const err = new ServiceError('limit', { cause: Object.assign(new Error('RESOURCE_EXHAUSTED'), { code: 8 }) });
    expect(saturationOf(err)).toEqual({ source: 'engine', detail: expect.stringMatching(/RESOURCE_EXHAUSTED/) });
  });

  it('is no saturation for a conflict, a refused value, an unavailable engine, or a bug', () => {
    expect(saturationOf(postgresError('23505', 'P2002'))).toBeUndefined();
    expect(saturationOf(postgresError('22021'))).toBeUndefined();
    expect(saturationOf(new ServiceError('down', { cause: Object.assign(new Error('UNAVAILABLE'), { code: 14 }) }))).toBeUndefined();
    expect(saturationOf(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBeUndefined();
    expect(saturationOf(undefined)).toBeUndefined();
  });
});

describe('saturatedAnswer', () => {
  const response = (locals: Record<string, unknown> = {}) => {
    const headers: Record<string, string> = {};
    return { headers, res: { locals, setHeader: (k: string, v: string) => void (headers[k] = v) } as unknown as Response };
  };
  const limiter = () => new AdmissionLimiter({ limit: 4, queueTimeoutMs: 100, engineTimeoutMs: 1000, random: () => 0 });

  it('answers a saturated write 503 with Retry-After and its key, told to repeat itself with it; and tells the bound', () => {
    const l = limiter();
    const { res, headers } = response({ caller: { request: { key: 'abc' } } });
    const answer = saturatedAnswer(new Error('timeout exceeded when trying to connect'), res, l);
    expect(answer).toEqual({ status: 503, message: expect.stringMatching(/database is saturated[\s\S]*same Idempotency-Key \("abc"\)[\s\S]*exactly once/) });
    expect(headers).toEqual({ 'Retry-After': expect.stringMatching(/^\d+$/), 'Idempotency-Key': '"abc"' });
    expect(Number(headers['Retry-After'])).toBeGreaterThanOrEqual(5);
    expect(l.snapshot()).toMatchObject({ limit: 2, saturated: true });
    l.close();
  });

  it('answers a saturated read 503 with Retry-After and no key; leaves other errors alone', () => {
    const { res, headers } = response();
    expect(saturatedAnswer(new Error('timeout exceeded when trying to connect'), res, undefined)?.message).toMatch(/retry in 5 s$/);
    expect(Object.keys(headers)).toEqual(['Retry-After']);
    const other = response();
    expect(saturatedAnswer(new Error('boom'), other.res, undefined)).toBeUndefined();
    expect(other.headers).toEqual({});
  });
});
