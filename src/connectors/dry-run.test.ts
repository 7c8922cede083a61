import { describe, expect, it } from 'vitest';
import { recordCalls } from './dry-run.js';
import type { OutboundConnector, OutboundUser } from './types.js';

const sent: string[] = [];
const inner: OutboundConnector = {
  createUser: () => (sent.push('createUser'), Promise.resolve({ remoteId: 'real' })),
  updateUser: () => (sent.push('updateUser'), Promise.resolve()),
  deleteUser: () => (sent.push('deleteUser'), Promise.resolve()),
  findUserByUserName: () => (sent.push('find'), Promise.resolve({ remoteId: 'real' })),
};
const user = { id: 'u1', userName: 'ann', password: 'Secret-1', emails: [], phoneNumbers: [], addresses: [] } as unknown as OutboundUser;

describe('dry-run recorder', () => {
  it('records every call with passwords masked and sends none', async () => {
    const dry = recordCalls(inner);
    expect(await dry.connector.findUserByUserName('ann')).toBeUndefined();
    expect(await dry.connector.createUser(user)).toEqual({ remoteId: 'dry-run-user-u1' });
    await dry.connector.updateUser('dry-run-user-u1', user);
    expect(sent).toEqual([]);
    expect(dry.calls.map((c) => c.method)).toEqual(['findUserByUserName', 'createUser', 'updateUser']);
    expect(dry.summary()).toContain('createUser({"id":"u1","userName":"ann","password":"********"');
    expect(dry.summary()).not.toContain('Secret-1');
    expect('createGroup' in dry.connector).toBe(false); // the inner connector provisions users only
  });
});
