/**
 * `npm start`: the whole stack from one command.
 *
 * Embedded defaults (nothing configured): an embedded PostgreSQL (PGlite, inside this process) and a Temporal
 * dev server (SQLite file, Web UI on), both persisted under DATA_DIR, then the worker and the api as child
 * processes. With DATABASE_URL and TEMPORAL_ADDRESS set it starts only the worker and the api. Migrations are
 * applied before anything else starts.
 *
 * Each child is supervised (src/process/supervisor.ts): one that dies is started again, with backoff, while
 * the others keep running; the dev server comes back on the same port and SQLite file, so workflows resume.
 * Ctrl-C (SIGINT) or SIGTERM stops every process in reverse order, and nothing is restarted after that.
 *
 * Hygiene: DATA_DIR is private (umask 077, and an existing folder is brought to 0700/0600); the admin password
 * is shown only on the start that generated it; the admin password and the keyring reach the worker and the
 * api on a private pipe (SECRETS_FD), never in a child's environment.
 */
import path from 'node:path';
import { SECRET_SETTINGS, type Config } from './config.js';
import { startEmbeddedPostgres } from './db/embedded-postgres.js';
import { applyMigrations } from './db/schema-engine.js';
import { createLogger } from './log.js';
import { PRIVATE_INPUT_FD, startReadyChild } from './process/child.js';
import { supervise } from './process/supervisor.js';
import { makePrivate, PRIVATE_UMASK } from './runtime/data-dir.js';
import { databaseUrl } from './runtime/database-url.js';
import { resolveSecrets, secretsMessage, type RuntimeSecrets } from './runtime/secrets.js';
import { acquireTemporalCli, PROJECT_ROOT } from './temporal/cli-binary.js';
import { startDevServer } from './temporal/dev-server.js';
import { TEMPORAL_UI_PATH } from './http/temporal-ui.js';

type Stoppable = { name: string; stop(): Promise<void> };

/** Settings the dev server has no use for and must not see. */
const NOT_FOR_THE_DEV_SERVER = [...SECRET_SETTINGS, 'DATABASE_URL', 'TEMPORAL_API_KEY'];

/** This process's environment without the named variables (children inherit everything else, as before). */
function environmentWithout(names: readonly string[]): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of names) delete env[name];
  return env;
}

/** The banner's credential line: the password itself only on the start that generated it. */
export function credentialLine(secrets: RuntimeSecrets, cwd = process.cwd()): string {
  const user = secrets.admin.username;
  const file = secrets.file ? path.relative(cwd, secrets.file) : undefined;
  if (secrets.passwordSource === 'environment') return `${user} / (ADMIN_PASSWORD)`;
  if (secrets.generated) return `${user} / ${secrets.admin.password}   (generated now, shown this once; kept in ${file})`;
  return `${user} / (the adminPassword in ${file ?? 'the secrets file'})`;
}

export async function launch(config: Config): Promise<void> {
  // Before anything is created: the database, temporal.db and secrets.json are the owner's only (inherited
  // by the children, so the dev server's files too).
  process.umask(PRIVATE_UMASK);
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
    makePrivate(config.dataDir);
    const secrets = resolveSecrets(config);

    let dbUrl = databaseUrl(config);
    if (!config.database.url) {
      // PGlite runs in this process: if it fails, everything that needs it is stuck; stop, so that whatever
      // supervises the launcher (systemd, a container runtime) starts it again.
      const pg = await startEmbeddedPostgres({
        dataDir: path.join(config.dataDir, 'pglite'),
        port: config.database.embeddedPort,
        onFatalError: (error) => {
          log.error('the embedded PostgreSQL failed; stopping', { error: error instanceof Error ? error.message : String(error) });
          void stopAll(1);
        },
      });
      started.push({ name: 'embedded PostgreSQL', stop: () => pg.stop() });
      dbUrl = pg.url;
    }
    const applied = await applyMigrations({ databaseUrl: dbUrl, migrationsDir: path.join(PROJECT_ROOT, 'prisma', 'migrations'), log });
    if (applied.applied.length > 0) log.info('migrations applied', { migrations: applied.applied });
    if (applied.dataMigrations.length > 0) log.info('data migrations applied', { migrations: applied.dataMigrations });

    let temporalAddress = config.temporal.address;
    let uiUrl = config.temporal.uiUrl;
    let uiUpstream: string | undefined;
    if (!temporalAddress) {
      const cli = await acquireTemporalCli({ cliPath: config.temporal.cliPath });
      const devServerEnv = environmentWithout(NOT_FOR_THE_DEV_SERVER);
      const temporal = supervise({
        name: 'temporal',
        log,
        start: async (signal) => {
          const dev = await startDevServer({
            cliPath: cli,
            dbFile: path.join(config.dataDir, 'temporal.db'),
            port: config.temporal.devPort,
            uiPort: config.temporal.uiPort,
            namespace: config.temporal.namespace,
            codecEndpoint: `${config.api.publicBaseUrl}/codec`,
            // Operators reach the UI through the api (sign-in required, same origin as the codec endpoint).
            uiPublicPath: TEMPORAL_UI_PATH,
            env: devServerEnv,
            signal,
            // The dev server is chatty at warn level (pollers complaining while it stops); keep its errors.
            output: (line) => {
              if (/level=(ERROR|FATAL)/.test(line)) process.stderr.write(`[temporal] ${line}\n`);
            },
          });
          return { pid: dev.child.pid, exit: dev.child.exit, stop: () => dev.stop() };
        },
      });
      started.push(temporal);
      await temporal.start();
      temporalAddress = `127.0.0.1:${config.temporal.devPort}`;
      uiUpstream = `http://127.0.0.1:${config.temporal.uiPort}`;
      uiUrl ??= `${config.api.publicBaseUrl}${TEMPORAL_UI_PATH}/`;
    }

    const env: NodeJS.ProcessEnv = {
      ...environmentWithout(SECRET_SETTINGS),
      DATA_DIR: config.dataDir,
      DEPLOYMENT_MODE: config.mode,
      DATABASE_URL: dbUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      ...(uiUrl !== undefined && { TEMPORAL_UI_URL: uiUrl }),
      ...(uiUpstream !== undefined && { TEMPORAL_UI_UPSTREAM: uiUpstream }),
      ADMIN_USERNAME: secrets.admin.username,
      SECRETS_FD: String(PRIVATE_INPUT_FD),
    };
    const message = secretsMessage(secrets);
    const main = path.join(PROJECT_ROOT, 'src', 'main.ts');
    const role = (name: 'worker' | 'api', ready: RegExp) =>
      supervise({
        name,
        log,
        start: (signal) =>
          startReadyChild({ name, command: process.execPath, args: ['--import', 'tsx', main, name], env, cwd: PROJECT_ROOT, ready, privateInput: message }, signal),
      });
    const worker = role('worker', /^worker ready/);
    started.push(worker);
    await worker.start();
    const api = role('api', /^api ready (\S+)/);
    started.push(api);
    await api.start();

    const base = config.api.publicBaseUrl;
    process.stdout.write(
      [
        '',
        'Provisioning server is up.',
        `  SCIM 2.0 base URL   ${base}/scim2`,
        `  Admin API           ${base}/api/server/v1`,
        `  OAuth token         ${base}/oauth2/token   (register an application: POST ${base}/api/server/v1/applications)`,
        `  Temporal UI         ${uiUrl ?? '(set TEMPORAL_UI_URL to show it here)'}${uiUpstream ? '   (sign in with the admin credential)' : ''}`,
        `  Admin credential    ${credentialLine(secrets)}`,
        `  Database            ${config.database.url ? 'DATABASE_URL' : `embedded PostgreSQL (PGlite) in ${path.relative(process.cwd(), config.dataDir)}/pglite`}`,
        `  Health              ${base}/health (alive), ${base}/ready (can apply writes)`,
        '',
        `  Try: curl -u '${secrets.admin.username}:<password>' ${base}/scim2/Users`,
        'Processes that exit are restarted. Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  } catch (err) {
    if (stopping) return; // Ctrl-C during start-up: the start it interrupted failed, as it should
    log.error('start-up failed', { error: err instanceof Error ? err.message : String(err) });
    await stopAll(1);
  }
}
