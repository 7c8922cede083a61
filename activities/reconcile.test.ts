/**
 * The reconcile activity alone (MockActivityEnvironment): a connector that cannot list its target's users ends the
 * run with an 'unsupported' report, and a deleted connector says so; nothing else is read.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { ConnectorRegistry } from '../src/connectors/registry.js';
import type { ConnectorFactory } from '../src/connectors/types.js';
import { createReconcileActivities, type ReconcileDeps, type ReconcileReport } from './reconcile.js';

const noList: ConnectorFactory = {
  type: 'custom:nolist',
  secretFields: [],
  validate: () => [],
  create: () => ({
    createUser: () => Promise.resolve({ remoteId: 'x' }),
    updateUser: () => Promise.resolve(),
    deleteUser: () => Promise.resolve(),
    findUserByUserName: () => Promise.resolve(undefined),
  }),
};

function deps(row: Record<string, unknown> | null): ReconcileDeps {
  const db = {
    outboundConnector: { findUnique: () => Promise.resolve(row) },
    user: { findMany: () => Promise.reject(new Error('must not read users')) },
  };
  return { db, registry: new ConnectorRegistry([noList]), box: {}, temporal: {}, taskQueue: 'q', outboundIdleMs: 1000 } as unknown as ReconcileDeps;
}

const connectorId = '00000000-0000-4000-8000-000000000001';
const input = { connectorId, repair: true, recreateMissing: true };
const run = (d: ReconcileDeps): Promise<ReconcileReport> =>
  new MockActivityEnvironment().run((i: typeof input) => createReconcileActivities(d).reconcileConnector(i), input);

describe('reconcileConnector', () => {
  it("reports 'unsupported' for a connector without listUsers", async () => {
    const row = { id: connectorId, type: 'custom:nolist', enabled: true, settings: {}, secretsEncrypted: null, passwordProvisioning: false, quarantinedAt: null, quarantineReason: null };
    const report = await run(deps(row));
    expect(report).toEqual(expect.objectContaining({ connectorId, local: 0, remote: 0, missing: [], orphans: [], different: [], repaired: 0 }));
    expect(report.unsupported).toBe("the custom:nolist connector cannot list its target's users");
  });

  it('reports a deleted connector', async () => {
    const report = await run(deps(null));
    expect(report.unsupported).toBe('connector deleted');
  });
});
