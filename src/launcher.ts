/**
 * `npm start`: the whole stack from one command.
 *
 * Embedded defaults (nothing configured): an embedded PostgreSQL (PGlite) and a Temporal dev server
 * (SQLite file, Web UI on), both persisted under DATA_DIR, then the worker and the api as child
 * processes. With DATABASE_URL and TEMPORAL_ADDRESS set it starts only the worker and the api.
 * Migrations are applied before anything else starts. Ctrl-C stops every process it started, in reverse
 * order.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';
import { startEmbeddedPostgres } from './db/embedded-postgres.js';
import { applyMigrations } from './db/schema-engine.js';
import { createLogger } from './log.js';
import { startChild, type ManagedChild } from './process/child.js';
import { databaseUrl } from './runtime/database-url.js';
import { keyringToEnv, resolveSecrets } from './runtime/secrets.js';
import { acquireTemporalCli, PROJECT_ROOT } from './temporal/cli-binary.js';
import { startDevServer } from './temporal/dev-server.js';

type Stoppable = { name: string; stop(): Promise<void> };

export async function launch(config: Config): Promise<void> {
  const log = createLogger('launcher', config.logLevel);
  const started: Stoppable[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('\nStopping...\n');
    for (const s of started.reverse()) {
      try {
        await s.stop();
      } catch (err) {
        log.warn(`could not stop ${s.name} cleanly`, { error: String(err) });
      }
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    fs.mkdirSync(config.dataDir, { recursive: true });
    const secrets = resolveSecrets(config);

    let dbUrl = databaseUrl(config);
    if (!config.database.url) {
      const pg = await startEmbeddedPostgres({ dataDir: path.join(config.dataDir, 'pglite'), port: config.database.embeddedPort });
      started.push({ name: 'embedded PostgreSQL', stop: () => pg.stop() });
      dbUrl = pg.url;
    }
    const applied = await applyMigrations({ databaseUrl: dbUrl, migrationsDir: path.join(PROJECT_ROOT, 'prisma', 'migrations'), log });
    if (applied.applied.length > 0) log.info('migrations applied', { migrations: applied.applied });
    if (applied.dataMigrations.length > 0) log.info('data migrations applied', { migrations: applied.dataMigrations });

    let temporalAddress = config.temporal.address;
    let uiUrl = config.temporal.uiUrl;
    if (!temporalAddress) {
      const cli = await acquireTemporalCli({ cliPath: config.temporal.cliPath });
      const dev = await startDevServer({
        cliPath: cli,
        dbFile: path.join(config.dataDir, 'temporal.db'),
        port: config.temporal.devPort,
        uiPort: config.temporal.uiPort,
        namespace: config.temporal.namespace,
        codecEndpoint: `${config.api.publicBaseUrl}/codec`,
        // The dev server is chatty at warn level (pollers complaining while it stops); keep its errors.
        output: (line) => {
          if (/level=(ERROR|FATAL)/.test(line)) process.stderr.write(`[temporal] ${line}\n`);
        },
      });
      started.push({ name: 'Temporal dev server', stop: () => dev.stop() });
      temporalAddress = dev.address;
      uiUrl ??= dev.uiUrl;
    }

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: config.dataDir,
      DEPLOYMENT_MODE: config.mode,
      DATABASE_URL: dbUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      ...(uiUrl !== undefined && { TEMPORAL_UI_URL: uiUrl }),
      ADMIN_USERNAME: secrets.admin.username,
      ADMIN_PASSWORD: secrets.admin.password,
      ENCRYPTION_KEYS: keyringToEnv(secrets.keys),
    };
    const main = path.join(PROJECT_ROOT, 'src', 'main.ts');
    const spawnRole = (role: 'worker' | 'api', ready: RegExp): ManagedChild =>
      startChild({ name: role, command: process.execPath, args: ['--import', 'tsx', main, role], env, cwd: PROJECT_ROOT, ready });

    const worker = spawnRole('worker', /^worker ready/);
    started.push({ name: 'worker', stop: () => worker.stop() });
    await worker.ready;
    const api = spawnRole('api', /^api ready (\S+)/);
    started.push({ name: 'api', stop: () => api.stop() });
    await api.ready;
    for (const child of [worker, api]) {
      void child.exited.then((code) => {
        if (!stopping) {
          log.error(`${child.name} exited unexpectedly`, { code });
          void stopAll(1);
        }
      });
    }

    const base = config.api.publicBaseUrl;
    const credential = secrets.file
      ? `${secrets.admin.username} / ${secrets.admin.password}   (generated, kept in ${path.relative(process.cwd(), secrets.file)})`
      : `${secrets.admin.username} / (ADMIN_PASSWORD)`;
    process.stdout.write(
      [
        '',
        'Provisioning server is up.',
        `  SCIM 2.0 base URL   ${base}/scim2`,
        `  Admin API           ${base}/api/server/v1`,
        `  OAuth token         ${base}/oauth2/token   (register an application: POST ${base}/api/server/v1/applications)`,
        `  Temporal UI         ${uiUrl ?? '(set TEMPORAL_UI_URL to show it here)'}`,
        `  Admin credential    ${credential}`,
        `  Database            ${config.database.url ? 'DATABASE_URL' : `embedded PostgreSQL (PGlite) in ${path.relative(process.cwd(), config.dataDir)}/pglite`}`,
        '',
        `  Try: curl -u '${secrets.admin.username}:<password>' ${base}/scim2/Users`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  } catch (err) {
    log.error('start-up failed', { error: err instanceof Error ? err.message : String(err) });
    await stopAll(1);
  }
}
