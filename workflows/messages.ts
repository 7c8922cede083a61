/**
 * Messages between the api, the workflows and each other, defined once so both ends share one name and
 * one payload type.
 */
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { JitAnswer, JitOutcome } from '../src/federation/jit-types.js';
import type { DeliveryReport, ProvisioningEvent } from '../src/provisioning/types.js';

/**
 * An accepted change for the OutboundFanOut of its resource. A Signal (sent with signal-with-start), not an
 * Update: the sender must not wait for delivery, which may take as long as a target is down.
 */
export const provisioningEventSignal = defineSignal<[ProvisioningEvent]>('provisioningEvent');

/** OutboundFanOut -> the InboundProvision waiting for its blocking targets: one report per target. */
export const deliveryReportSignal = defineSignal<[DeliveryReport]>('deliveryReport');

/** Admin API -> every OutboundFanOut: an operator resumed a quarantined connector; its held deliveries go on. */
export const resumeConnectorSignal = defineSignal<[{ connectorId: string }]>('resumeConnector');

/**
 * The federation callback -> its JitProvision (sent with update-with-start, so ten concurrent first logins of one
 * person meet in one workflow): answers once the workflow has a user for the login, needs the person's answer to a
 * prompt, or has failed.
 */
export const jitProgressUpdate = defineUpdate<JitOutcome>('jitProgress');

/** The prompt page -> JitProvision: the person's answer; answered like jitProgress, once the answer is dealt with. */
export const jitAnswerUpdate = defineUpdate<JitOutcome, [JitAnswer]>('jitAnswer');
