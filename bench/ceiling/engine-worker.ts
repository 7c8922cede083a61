/**
 * The engine ceiling's worker, in its own process as the provisioning worker is: the same SDK, connection options,
 * encrypting data converter and worker options as worker/main.ts, polling a task queue of its own with the trivial
 * workflow (bench/ceiling/engine-workflow.ts, bundled by the bench beforehand) and its one local activity.
 *
 *   node --import tsx bench/ceiling/engine-worker.ts   (TEMPORAL_ADDRESS, TASK_QUEUE, WORKFLOW_BUNDLE in the
 *   environment; the keyring, `kid:base64`, on fd 3 as the launcher hands secrets to its children)
 *
 * Prints `ceiling worker ready` once it polls; drains on SIGTERM.
 */
import fs from 'node:fs';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { loadConfig, parseKeyring } from '../../src/config.js';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { PRIVATE_INPUT_FD } from '../../src/process/child.js';
import { connectionOptions, createDataConverter } from '../../src/temporal/connection.js';
import { engineActivities } from './engine-activities.js';

const { TEMPORAL_ADDRESS, TASK_QUEUE, WORKFLOW_BUNDLE } = process.env;
if (!TEMPORAL_ADDRESS || !TASK_QUEUE || !WORKFLOW_BUNDLE) throw new Error('TEMPORAL_ADDRESS, TASK_QUEUE and WORKFLOW_BUNDLE must be set');
const keys = parseKeyring(fs.readFileSync(PRIVATE_INPUT_FD, 'utf8').trim());

Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
const config = loadConfig({ TEMPORAL_ADDRESS });
const connection = await NativeConnection.connect(connectionOptions(config.temporal));
const worker = await Worker.create({
  connection,
  namespace: config.temporal.namespace,
  taskQueue: TASK_QUEUE,
  workflowBundle: { codePath: WORKFLOW_BUNDLE },
  activities: engineActivities,
  dataConverter: createDataConverter(new SecretBox(keys)),
  shutdownGraceTime: '10s',
});
process.on('SIGTERM', () => worker.shutdown());
process.stdout.write('ceiling worker ready\n');
try {
  await worker.run();
} finally {
  await connection.close();
}
