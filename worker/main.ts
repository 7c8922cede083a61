/**
 * The worker process: registers the workflows and the activities (built once here, the composition root,
 * from their dependencies), with the encrypting data converter. Prints `worker ready` on stdout once it
 * polls its task queue; drains in-flight tasks on SIGTERM/SIGINT.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { Config } from '../src/config.js';
import { loadConnectorRegistry } from '../src/connectors/registry.js';
import { DEFAULT_PASSWORD_HASH_COST, setPasswordHashCost } from '../src/crypto/password.js';
import { SecretSealer } from '../src/crypto/sealed-secret.js';
import { SecretBox } from '../src/crypto/secret-box.js';
import { createPrismaClient } from '../src/db/client.js';
import { SchemaRegistry } from '../src/scim/schema-registry.js';
import { createLogger } from '../src/log.js';
import { ensureDefaults } from '../src/provisioning/defaults.js';
import { databaseUrl, temporalAddress } from '../src/runtime/database-url.js';
import { resolveSecrets } from '../src/runtime/secrets.js';
import { connectClient, connectionOptions, createDataConverter, ensureSearchAttributes } from '../src/temporal/connection.js';

/** workflows/index.ts when run from source (tsx), workflows/index.js when run from dist/. */
export function workflowsPath(): string {
  const ts = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
  return fs.existsSync(ts) ? ts : fileURLToPath(new URL('../workflows/index.js', import.meta.url));
}

export async function runWorker(config: Config): Promise<void> {
  const log = createLogger('worker', config.logLevel);
  // The SDK's info level prints the whole webpack report of the workflow bundle; keep it for debugging.
  // shutdownSignals: [] because this process handles its signals itself, once (below).
  Runtime.install({ logger: new DefaultLogger(config.logLevel === 'debug' ? 'DEBUG' : 'WARN'), shutdownSignals: [] });
  const secrets = resolveSecrets(config);
  setPasswordHashCost(config.passwordHashCost);
  if (config.passwordHashCost < DEFAULT_PASSWORD_HASH_COST) {
    log.warn(`PASSWORD_HASH_COST=${config.passwordHashCost} is below OWASP's minimum for scrypt (${DEFAULT_PASSWORD_HASH_COST}): for test suites only`);
  }
  const box = new SecretBox(secrets.keys);
  const db = createPrismaClient(databaseUrl(config), { poolSize: config.database.poolSize });
  await ensureDefaults(db);
  const temporalConfig = { ...config.temporal, address: temporalAddress(config) };
  const client = await connectClient({ ...config, temporal: temporalConfig }, box);
  try {
    await ensureSearchAttributes(client);
  } catch (err) {
    log.warn('could not register search attributes; register them on the cluster by hand', { error: String(err) });
  }
  const registry = await loadConnectorRegistry(config.connectorPlugins);
  const connection = await NativeConnection.connect(connectionOptions(temporalConfig));
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(config.workflowBundle ? { workflowBundle: { codePath: config.workflowBundle } } : { workflowsPath: workflowsPath() }),
    activities: createActivities({
      db,
      temporal: client,
      registry,
      box,
      sealer: new SecretSealer(secrets.keys),
      taskQueue: config.temporal.taskQueue,
      outboundIdleMs: config.outboundIdleMs,
      schemas: SchemaRegistry.for(db),
      passwordPolicy: config.passwordPolicy,
    }),
    dataConverter: createDataConverter(box),
    shutdownGraceTime: '10s',
  });
  // Ctrl-C in a terminal signals the whole process group, and the launcher then asks again: stop once.
  let stopping = false;
  const stop = () => {
    if (stopping || worker.getState() !== 'RUNNING') return;
    stopping = true;
    log.info('worker stopping');
    worker.shutdown();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`worker ready ${config.temporal.taskQueue}\n`);
  try {
    await worker.run();
  } finally {
    await Promise.allSettled([connection.close(), client.connection.close(), db.$disconnect()]);
  }
}
