/**
 * The data folder (DATA_DIR) holds the embedded database, the Temporal dev server's SQLite file and the
 * generated secrets: only its owner may read it. `process.umask(0o077)` makes everything created from then on
 * private (it is inherited by child processes, so the dev server's temporal.db too); `makePrivate` repairs a
 * folder created before, by an older version or another umask.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Files 0600, folders 0700: the owner only. */
export const PRIVATE_UMASK = 0o077;

/**
 * Creates `dir` if needed and brings it and everything under it to 0700 (folders) / 0600 (files).
 * Symbolic links are left alone (chmod would follow them out of the folder). Refuses folders that are
 * obviously not the server's own (/, the home folder, the temporary folder), where a recursive chmod would
 * break other programs.
 */
export function makePrivate(dir: string): void {
  const root = path.resolve(dir);
  const shared = [path.parse(root).root, os.homedir(), os.tmpdir(), process.cwd()].map((p) => path.resolve(p));
  if (shared.includes(root)) {
    throw new Error(`DATA_DIR ${root} is a shared folder; give the server a folder of its own (e.g. ${path.join(root, '.data')})`);
  }
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  const walk = (p: string, isDir: boolean) => {
    try {
      fs.chmodSync(p, isDir ? 0o700 : 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // removed meanwhile (a journal file)
      throw err;
    }
    if (!isDir) return;
    for (const entry of fs.readdirSync(p, { withFileTypes: true })) {
      if (entry.isSymbolicLink()) continue;
      walk(path.join(p, entry.name), entry.isDirectory());
    }
  };
  walk(root, true);
}
