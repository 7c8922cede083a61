import { describe, expect, it } from 'vitest';
import { ADMIN_WORKFLOW_WRITE, bulkWeight } from './write-admission.js';
import { isWrite } from './write-gate.js';

describe('what the admission bound counts', () => {
  it('weighs a Bulk request by its operations, at most half the bound, at least one', () => {
    const ops = (n: number) => ({ Operations: Array.from({ length: n }, () => ({})) });
    expect(bulkWeight(ops(3), 32)).toBe(3);
    expect(bulkWeight(ops(1000), 32)).toBe(16);
    expect(bulkWeight(ops(0), 32)).toBe(1);
    expect(bulkWeight({ Operations: 'many' }, 32)).toBe(1);
    expect(bulkWeight(undefined, 32)).toBe(1);
    expect(bulkWeight(ops(5), 1)).toBe(1);
  });

  it("weighs a Bulk request's user creates as one: they are written by one workflow, a chunk at a time", () => {
    const creates = (n: number) => Array.from({ length: n }, () => ({ method: 'post', path: '/Users' }));
    const others = (n: number) => Array.from({ length: n }, () => ({ method: 'PATCH', path: '/Users/x' }));
    expect(bulkWeight({ Operations: creates(1000) }, 32)).toBe(1);
    expect(bulkWeight({ Operations: [...creates(500), ...others(3), ...creates(10)] }, 32)).toBe(4);
    expect(bulkWeight({ Operations: [...creates(2), { method: 'POST', path: '/Groups' }] }, 32)).toBe(2);
  });

  it('counts writes, never reads or SCIM searches', () => {
    for (const [method, path] of [['POST', '/Users'], ['PUT', '/Users/x'], ['PATCH', '/Groups/x'], ['DELETE', '/Users/x'], ['POST', '/Bulk']]) {
      expect(isWrite({ method: method!, path: path! }), `${method} ${path}`).toBe(true);
    }
    for (const [method, path] of [['GET', '/Users'], ['HEAD', '/Users'], ['POST', '/Users/.search'], ['POST', '/.search/']]) {
      expect(isWrite({ method: method!, path: path! }), `${method} ${path}`).toBe(false);
    }
  });

  it("counts the admin API's writes that start workflows, not its configuration writes", () => {
    for (const path of ['/roles', '/roles/abc', '/roles/abc/users', '/roles/abc/groups/def', '/provisioning/users/u1/resend', '/provisioning/groups/g1/resend', '/provisioning/reconcile/c1']) {
      expect(ADMIN_WORKFLOW_WRITE.test(path), path).toBe(true);
    }
    for (const path of ['/userstores', '/applications', '/identity-providers', '/provisioning/reconcile/c1/schedule', '/provisioning/quarantine/c1/resume', '/rolesx', '/users/u1/roles']) {
      expect(ADMIN_WORKFLOW_WRITE.test(path), path).toBe(false);
    }
  });
});
