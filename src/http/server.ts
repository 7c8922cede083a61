/**
 * The api process: the composition root of the HTTP side. Prints `api ready <url>` on stdout when it
 * listens (the launcher and the tests wait for that line).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Connection } from '@temporalio/client';
import type { Config } from '../config.js';
import { loadConnectorRegistry } from '../connectors/registry.js';
import { DEFAULT_PASSWORD_HASH_COST, setPasswordHashCost } from '../crypto/password.js';
import { SecretSealer } from '../crypto/sealed-secret.js';
import { SecretBox } from '../crypto/secret-box.js';
import { createPrismaClient } from '../db/client.js';
import { createLogger } from '../log.js';
import { ensureDefaults } from '../provisioning/defaults.js';
import { databaseUrl, temporalAddress } from '../runtime/database-url.js';
import { databaseCheck, temporalCheck, workerCheck } from '../runtime/readiness-checks.js';
import { ReadinessMonitor } from '../runtime/readiness.js';
import { resolveSecrets } from '../runtime/secrets.js';
import { LoginGuard } from '../security/login-guard.js';
import { connectClient, connectionOptions } from '../temporal/connection.js';
import { AdmissionLimiter } from './admission.js';
import { createApp } from './app.js';
import { answerClientError } from './refuse.js';

export async function runApi(config: Config): Promise<void> {
  const log = createLogger('api', config.logLevel);
  const secrets = resolveSecrets(config);
  setPasswordHashCost(config.passwordHashCost);
  if (config.passwordHashCost < DEFAULT_PASSWORD_HASH_COST) {
    log.warn(`PASSWORD_HASH_COST=${config.passwordHashCost} is below OWASP's minimum for scrypt (${DEFAULT_PASSWORD_HASH_COST}): for test suites only`);
  }
  const box = new SecretBox(secrets.keys);
  const db = createPrismaClient(databaseUrl(config), { poolSize: config.database.poolSize, connectionTimeoutMs: config.database.poolTimeoutMs });
  await ensureDefaults(db);
  const temporalConfig = { ...config.temporal, address: temporalAddress(config) };
  // RESOURCE_EXHAUSTED is answered 429 at once, not retried for half a minute under the client's request.
  const temporal = await connectClient({ ...config, temporal: temporalConfig }, box, { retryResourceExhausted: false });
  // The readiness checks' own connection, without the client's retries: an unreachable server shows at once.
  const probe = Connection.lazy({ ...connectionOptions(temporalConfig), interceptors: [] });
  const readiness = new ReadinessMonitor(
    [databaseCheck(db), temporalCheck(probe), workerCheck(probe, config.temporal.namespace, config.temporal.taskQueue)],
    { log },
  );
  // The first round before listening: the api never answers a write on a guess.
  await readiness.refresh();
  readiness.start();
  const registry = await loadConnectorRegistry(config.connectorPlugins);
  const loginGuard = new LoginGuard(db, config.loginSecurity, createLogger('login-guard', config.logLevel));
  const admission = new AdmissionLimiter({
    limit: config.writes.concurrency,
    queueTimeoutMs: config.writes.queueTimeoutMs,
    engineTimeoutMs: config.writes.engineTimeoutMs,
    log: createLogger('admission', config.logLevel),
  });
  const app = createApp({ config, db, temporal, registry, box, sealer: new SecretSealer(secrets.keys), admin: secrets.admin, loginGuard, readiness, admission }, log);
  const server = app.listen(config.api.port, config.api.host);
  server.on('clientError', answerClientError);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`api ready http://${config.api.host}:${port}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log.info('api stopping');
    readiness.stop();
    admission.close();
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.allSettled([db.$disconnect(), temporal.connection.close(), probe.close()]);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}
