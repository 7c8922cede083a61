// npm `postinstall`: generate the Prisma client into src/generated/prisma.
//
// Why the environment variable: `prisma generate` wants to download the native schema-engine binary before it
// generates anything, and the project's machines (and any offline CI) cannot reach Prisma's download host.
// The `prisma-client` generator never runs that binary, so pointing PRISMA_SCHEMA_ENGINE_BINARY at any
// existing file (here the running node executable) skips the download and generate succeeds offline.
// A developer who has a real engine binary can still set the variable themselves; we leave it alone then.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}

// Run the CLI's JavaScript entry with this same node rather than node_modules/.bin/prisma: the .bin shim is a
// shell script on POSIX and a .cmd on Windows, and spawning it portably needs a shell.
const cli = join(root, 'node_modules', 'prisma', 'build', 'index.js');
if (!existsSync(cli)) {
  console.error(`prisma-generate: ${cli} not found; run npm install first`);
  process.exit(1);
}

const result = spawnSync(process.execPath, [cli, 'generate'], { cwd: root, env, stdio: 'inherit' });
if (result.error) {
  console.error('prisma-generate: could not run prisma generate:', result.error);
  process.exit(1);
}
process.exit(result.status ?? 1);
