/**
 * Dry run per connector: a connector whose settings say `dryRun: true` is wrapped in a recorder. Every call the
 * delivery would make is recorded (method and arguments, passwords masked), none is sent; creates answer with
 * synthetic remote ids and lookups find nothing, so the delivery takes the path a fresh target would.
 *
 * @example
 * const dry = recordCalls(registry.create(config));
 * await dry.connector.createUser(user); // nothing sent
 * dry.summary(); // 'createUser({"userName":"ann","password":"********"}) -> dry-run-<id>'
 */
import type { OutboundConnector, OutboundGroup, OutboundUser } from './types.js';

export interface RecordedCall {
  method: string;
  /** The arguments, passwords masked. */
  args: unknown[];
  /** What the recorder answered (a synthetic remote id), if anything. */
  result?: string | undefined;
}

export interface DryRunRecorder {
  connector: OutboundConnector;
  calls: RecordedCall[];
  /** One line per call, for the audit trail. */
  summary(): string;
}

const MASK = '********';
const SUMMARY_LIMIT = 4000;

/** A copy of the argument with every `password`-like field masked. */
function mask(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(mask);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, /password|secret/i.test(k) ? MASK : mask(v)]),
  );
}

/** Whether a connector's stored settings ask for a dry run. */
export function isDryRun(settings: Record<string, unknown>): boolean {
  return settings.dryRun === true;
}

/** Wraps `inner` (used only to know which optional methods it has): nothing reaches the target. */
export function recordCalls(inner: OutboundConnector): DryRunRecorder {
  const calls: RecordedCall[] = [];
  const record = (method: string, args: unknown[], result?: string) => {
    calls.push({ method, args: args.map(mask), ...(result !== undefined && { result }) });
  };
  const synthetic = (kind: string, id: string) => `dry-run-${kind}-${id}`;

  const connector: OutboundConnector = {
    createUser(user: OutboundUser) {
      const remoteId = synthetic('user', user.id);
      record('createUser', [user], remoteId);
      return Promise.resolve({ remoteId });
    },
    updateUser(remoteId: string, user: OutboundUser) {
      record('updateUser', [remoteId, user]);
      return Promise.resolve();
    },
    deleteUser(remoteId: string, user: OutboundUser) {
      record('deleteUser', [remoteId, { id: user.id, userName: user.userName }]);
      return Promise.resolve();
    },
    findUserByUserName(userName: string) {
      record('findUserByUserName', [userName]);
      return Promise.resolve(undefined);
    },
  };
  if (inner.createGroup && inner.updateGroup && inner.deleteGroup) {
    connector.createGroup = (group: OutboundGroup) => {
      const remoteId = synthetic('group', group.id);
      record('createGroup', [group], remoteId);
      return Promise.resolve({ remoteId });
    };
    connector.updateGroup = (remoteId: string, group: OutboundGroup) => {
      record('updateGroup', [remoteId, group]);
      return Promise.resolve();
    };
    connector.deleteGroup = (remoteId: string, group: OutboundGroup) => {
      record('deleteGroup', [remoteId, { id: group.id, displayName: group.displayName }]);
      return Promise.resolve();
    };
    if (inner.findGroupByDisplayName) {
      connector.findGroupByDisplayName = (displayName: string) => {
        record('findGroupByDisplayName', [displayName]);
        return Promise.resolve(undefined);
      };
    }
  }

  return {
    connector,
    calls,
    summary() {
      const text = calls
        .map((c) => `${c.method}(${c.args.map((a) => JSON.stringify(a)).join(', ')})${c.result !== undefined ? ` -> ${c.result}` : ''}`)
        .join('; ');
      return text.length > SUMMARY_LIMIT ? `${text.slice(0, SUMMARY_LIMIT)}...` : text || 'no calls';
    },
  };
}
