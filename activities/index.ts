/**
 * The worker's activities, built once in the composition root (worker/main.ts) from their dependencies.
 * Workflows get their types with `proxyActivities<ReturnType<typeof createActivities>>`.
 */
import { createJitActivities } from './jit.js';
import { createOutboundActivities, type OutboundDeps } from './outbound.js';
import { createReconcileActivities } from './reconcile.js';
import { createRoleActivities } from './roles.js';
import { createRulesActivities } from './rules.js';
import { createUserStoreActivities, type UserStoreDeps } from './user-store.js';

export type ActivityDeps = OutboundDeps & UserStoreDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createUserStoreActivities(deps),
    ...createOutboundActivities(deps),
    ...createReconcileActivities(deps),
    ...createRoleActivities(deps),
    ...createJitActivities(deps),
    ...createRulesActivities(deps),
  };
}
