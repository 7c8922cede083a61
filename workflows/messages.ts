/**
 * Messages between the api, the workflows and each other, defined once so both ends share one name and
 * one payload type.
 */
import { defineSignal } from '@temporalio/workflow';
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
