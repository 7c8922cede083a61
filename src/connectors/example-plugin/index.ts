/**
 * An example custom connector, loaded as a plug-in (it is deliberately NOT a built-in):
 *
 *   CONNECTOR_PLUGINS=./src/connectors/example-plugin/index.ts npm start
 *
 * then an identity provider with a connector of type `custom:jsonl` and settings `{ "file": "/var/log/users.jsonl" }`
 * receives every provisioning operation as one JSON line (`{"op":"create","remoteId":...,"user":{...}}`). A file a
 * downstream job tails is a real integration pattern (exports to systems with no API), and the connector shows the
 * whole contract a plug-in implements: settings validated with a schema, secret fields, create / update / delete /
 * find for users and groups, and errors translated into the shared taxonomy in one place.
 *
 * The contract (src/connectors/types.ts, src/connectors/registry.ts): the module's default export (or its export
 * named `connectorFactory`) is a ConnectorFactory. Imports from the server (`errors.js`, `types.js`) are the
 * public API a plug-in may use.
 *
 * Attribute mapping comes for free: the server validates `settings.attributeMapping` for every connector type and
 * hands the computed values in `user.mapped`; this connector writes them as the line's `attributes` object
 * (target -> value), e.g. with `[{ "target": "mail", "source": "emails[type eq \"work\"].value" }]`:
 *   {"op":"create","resourceType":"User","remoteId":"...","at":"...","user":{...},"attributes":{"mail":"rash@work.example"}}
 */
import { randomUUID } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ConnectorMisconfigured, ConnectorNotFound, ConnectorTransient } from '../errors.js';
import type { ConnectorConfig, ConnectorFactory, OutboundConnector, OutboundGroup, OutboundUser } from '../types.js';

const settingsSchema = z.object({
  /** Absolute path of the JSON Lines file to append to. */
  file: z.string().refine((f) => path.isAbsolute(f), 'must be an absolute path'),
});

/** A user as written: without the password, and with the mapped values apart, as `attributes`. */
type UserLine = { op: 'create' | 'update'; resourceType: 'User'; remoteId: string; at: string; user: Omit<OutboundUser, 'password' | 'mapped'>; attributes?: Record<string, unknown> };

type Line =
  | UserLine
  | { op: 'delete'; resourceType: 'User' | 'Group'; remoteId: string; at: string }
  | { op: 'create' | 'update'; resourceType: 'Group'; remoteId: string; at: string; group: OutboundGroup };

class JsonlConnector implements OutboundConnector {
  constructor(private readonly file: string) {}

  async createUser(user: OutboundUser): Promise<{ remoteId: string }> {
    const remoteId = randomUUID();
    await this.append(userLine('create', remoteId, user));
    return { remoteId };
  }

  async updateUser(remoteId: string, user: OutboundUser): Promise<void> {
    if (!(await this.exists('User', remoteId))) throw new ConnectorNotFound(`No user ${remoteId} in ${this.file}`);
    await this.append(userLine('update', remoteId, user));
  }

  async deleteUser(remoteId: string): Promise<void> {
    await this.append({ op: 'delete', resourceType: 'User', remoteId, at: new Date().toISOString() });
  }

  async findUserByUserName(userName: string): Promise<{ remoteId: string } | undefined> {
    const live = await this.live('User');
    const found = [...live.values()].find((l) => l.op !== 'delete' && 'user' in l && l.user.userName.toLowerCase() === userName.toLowerCase());
    return found ? { remoteId: found.remoteId } : undefined;
  }

  async createGroup(group: OutboundGroup): Promise<{ remoteId: string }> {
    const remoteId = randomUUID();
    await this.append({ op: 'create', resourceType: 'Group', remoteId, at: new Date().toISOString(), group });
    return { remoteId };
  }

  async updateGroup(remoteId: string, group: OutboundGroup): Promise<void> {
    if (!(await this.exists('Group', remoteId))) throw new ConnectorNotFound(`No group ${remoteId} in ${this.file}`);
    await this.append({ op: 'update', resourceType: 'Group', remoteId, at: new Date().toISOString(), group });
  }

  async deleteGroup(remoteId: string): Promise<void> {
    await this.append({ op: 'delete', resourceType: 'Group', remoteId, at: new Date().toISOString() });
  }

  async findGroupByDisplayName(displayName: string): Promise<{ remoteId: string } | undefined> {
    const live = await this.live('Group');
    const found = [...live.values()].find((l) => 'group' in l && l.group.displayName.toLowerCase() === displayName.toLowerCase());
    return found ? { remoteId: found.remoteId } : undefined;
  }

  private async exists(resourceType: 'User' | 'Group', remoteId: string): Promise<boolean> {
    const last = (await this.live(resourceType)).get(remoteId);
    return last !== undefined && last.op !== 'delete';
  }

  /** The last line per remote id of a resource type. */
  private async live(resourceType: 'User' | 'Group'): Promise<Map<string, Line>> {
    const byId = new Map<string, Line>();
    for (const line of await this.read()) if (line.resourceType === resourceType) byId.set(line.remoteId, line);
    return byId;
  }

  /** The one place where file-system errors become the connector error taxonomy. */
  private async read(): Promise<Line[]> {
    try {
      const text = await readFile(this.file, 'utf8');
      return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Line);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw translate(err, this.file);
    }
  }

  private async append(line: Line): Promise<void> {
    try {
      await appendFile(this.file, `${JSON.stringify(line)}\n`, 'utf8');
    } catch (err) {
      throw translate(err, this.file);
    }
  }
}

function userLine(op: 'create' | 'update', remoteId: string, user: OutboundUser): UserLine {
  const { password: _password, mapped, ...rest } = user;
  // Later rules for the same target (a 'when: create' one after an 'always' one) win, as in the other connectors.
  const attributes = mapped && mapped.length > 0 ? Object.fromEntries(mapped.map((m) => [m.target, m.value])) : undefined;
  return { op, resourceType: 'User', remoteId, at: new Date().toISOString(), user: rest, ...(attributes && { attributes }) };
}

function translate(err: unknown, file: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  // A missing directory or a permission problem is the operator's to fix; a full disk or I/O error may pass.
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'EISDIR' || code === 'ENOTDIR') {
    return new ConnectorMisconfigured(`Cannot write ${file}: ${code}`);
  }
  return new ConnectorTransient(`Writing ${file} failed: ${code ?? String(err)}`);
}

function issuesOf(config: ConnectorConfig): string[] {
  const parsed = settingsSchema.safeParse(config.settings);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`);
}

export const connectorFactory: ConnectorFactory = {
  type: 'custom:jsonl',
  secretFields: [],
  validate: issuesOf,
  create(config) {
    const issues = issuesOf(config);
    if (issues.length > 0) throw new ConnectorMisconfigured(issues.join('; '));
    return new JsonlConnector(settingsSchema.parse(config.settings).file);
  },
};

export default connectorFactory;
