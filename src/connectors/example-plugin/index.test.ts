/**
 * The example plug-in (custom:jsonl) writes attribute-mapping values into its JSON line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapOutboundUser } from '../../provisioning/attribute-mapping.js';
import type { OutboundUser } from '../types.js';
import connectorFactory from './index.js';

const user: OutboundUser = {
  id: 'u-1',
  domain: 'PRIMARY',
  userName: 'rashmini',
  name: { givenName: 'Rashmini', familyName: 'N' },
  emails: [{ value: 'rash@work.example', type: 'work', primary: true }],
  phoneNumbers: [],
  addresses: [],
  version: 1,
  created: '2024-01-01T00:00:00Z',
  lastModified: '2024-01-01T00:00:00Z',
  password: 'never-written',
};

describe('custom:jsonl', () => {
  it('writes the mapped values as the line attributes, never the password', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'jsonl-')), 'users.jsonl');
    const attributeMapping = [
      { target: 'mail', source: 'emails[type eq "work"].value' },
      { target: 'cn', expression: 'name.givenName & " " & name.familyName' },
      { target: 'ou', source: 'title', default: 'staff', when: 'create' },
    ];
    const connector = connectorFactory.create({ type: 'custom:jsonl', settings: { file, attributeMapping }, secrets: {} });
    const { remoteId } = await connector.createUser(await mapOutboundUser(user, attributeMapping, { operation: 'create' }));
    await connector.updateUser(remoteId, await mapOutboundUser(user, attributeMapping, { operation: 'update' }));
    await connector.updateUser(remoteId, user);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.attributes)).toEqual([{ mail: 'rash@work.example', cn: 'Rashmini N', ou: 'staff' }, { mail: 'rash@work.example', cn: 'Rashmini N' }, undefined]);
    expect(lines[0]!.user).toMatchObject({ userName: 'rashmini' });
    expect(lines[0]!.user).not.toHaveProperty('mapped');
    expect(fs.readFileSync(file, 'utf8')).not.toContain('never-written');
  });
});
