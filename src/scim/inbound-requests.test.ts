import { describe, expect, it } from 'vitest';
import { INBOUND_REQUEST_ID, inboundWorkflowId, requestFingerprint } from './inbound-requests.js';

describe('keyed write requests', () => {
  it('fingerprints a request independently of how its JSON was serialized', () => {
    const a = requestFingerprint('POST', '/users', { userName: 'a', name: { givenName: 'A', familyName: 'B' } }, null);
    const b = requestFingerprint('POST', '/users', JSON.parse('{"name":{"familyName":"B","givenName":"A"},"userName":"a"}'), null);
    expect(a).toBe(b);
    expect(requestFingerprint('POST', '/users', { userName: 'b' }, null)).not.toBe(a);
    expect(requestFingerprint('PUT', '/users', { userName: 'a', name: { givenName: 'A', familyName: 'B' } }, null)).not.toBe(a);
    expect(requestFingerprint('POST', '/users', { userName: 'a', name: { givenName: 'A', familyName: 'B' } }, 'W/"1"')).not.toBe(a);
    // Arrays keep their order: a different order is a different request.
    expect(requestFingerprint([1, 2])).not.toBe(requestFingerprint([2, 1]));
  });

  it('derives one workflow id per key and caller: other applications, users and Bulk operations get their own', () => {
    const app = { applicationId: 'app-1' };
    const id = inboundWorkflowId(app, { key: 'k' });
    expect(id).toMatch(INBOUND_REQUEST_ID);
    expect(inboundWorkflowId({ applicationId: 'app-1' }, { key: 'k' })).toBe(id);
    const others = [
      inboundWorkflowId({ applicationId: 'app-2' }, { key: 'k' }),
      inboundWorkflowId({ applicationId: 'app-1', userId: 'u' }, { key: 'k' }),
      inboundWorkflowId(app, { key: 'k', operation: 0 }),
      inboundWorkflowId(app, { key: 'k:0' }),
      inboundWorkflowId(app, { key: 'K' }),
    ];
    expect(new Set([id, ...others]).size).toBe(others.length + 1);
  });
});
