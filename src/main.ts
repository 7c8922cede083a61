/**
 * Entry point: `start` (the launcher: everything), `api`, or `worker`.
 *   npm start            -> tsx src/main.ts start
 *   npm run start:api    -> tsx src/main.ts api
 *   npm run start:worker -> tsx src/main.ts worker
 */
import { ConfigError, loadConfig, type Config } from './config.js';

const role = process.argv[2] ?? 'start';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const run = async () => {
  switch (role) {
    case 'start':
      return (await import('./launcher.js')).launch(config);
    case 'api':
      return (await import('./http/server.js')).runApi(config);
    case 'worker':
      return (await import('../worker/main.js')).runWorker(config);
    default:
      process.stderr.write(`unknown role '${role}': expected start, api or worker\n`);
      process.exit(2);
  }
};

run().catch((err: unknown) => {
  process.stderr.write(`${role} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
