/**
 * The engine ceiling's one local activity: hands its input back, as a store write hands back the user it wrote,
 * so the payloads through the engine are of a create's size. No I/O: the ceiling is the engine's alone.
 */
import { randomUUID } from 'node:crypto';

export const engineActivities = {
  echo(input: unknown): Promise<unknown> {
    const user = (input as { user?: Record<string, unknown> }).user ?? {};
    return Promise.resolve({ ok: true, user: { ...user, id: randomUUID(), version: 1 }, pendingTargets: [], failedTargets: [] });
  },
};
