// The workflows the worker registers. Deterministic code only: see eslint.config.js for what may be imported.
export { inboundProvision } from './inbound-provision.js';
export { outboundFanOut } from './outbound-fan-out.js';
export { reconcileTarget } from './reconcile.js';
export { roleChange } from './role-change.js';
export { jitProvision } from './jit-provision.js';
export { outboundBatch } from './outbound-batch.js';
