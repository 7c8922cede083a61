/**
 * Child processes started by the launcher and by the end-to-end tests: output prefixed with a name,
 * readiness signalled by a line on stdout, and a stop that asks politely (SIGTERM) before insisting.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import readline from 'node:readline';

export interface ManagedChild {
  readonly name: string;
  readonly process: ChildProcess;
  /** Resolves with the first stdout line matching `ready`, rejects if the process exits first. */
  readonly ready: Promise<RegExpMatchArray>;
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface StartChildOptions extends SpawnOptions {
  name: string;
  command: string;
  args: string[];
  /** A stdout line matching this marks the child ready. */
  ready: RegExp;
  readyTimeoutMs?: number;
  /** Where to copy the child's output (default: this process's stderr, prefixed). Null to drop it. */
  output?: ((line: string) => void) | null;
}

export function startChild(opts: StartChildOptions): ManagedChild {
  const { name, command, args, ready: readyPattern, readyTimeoutMs = 120_000, output, ...spawnOptions } = opts;
  const child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
  const write = output === undefined ? (line: string) => process.stderr.write(`[${name}] ${line}\n`) : output;
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => {
      exitCode = code ?? (signal ? null : 0);
      resolve(exitCode);
    });
  });
  const ready = new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready after ${readyTimeoutMs} ms`)), readyTimeoutMs);
    timer.unref();
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (code ${code}) before it was ready`));
    });
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      write?.(line);
      const m = line.match(readyPattern);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    readline.createInterface({ input: child.stderr }).on('line', (line) => write?.(line));
  });
  ready.catch(() => undefined); // callers that never await readiness must not crash the process
  return {
    name,
    process: child,
    ready,
    exited,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (exitCode !== undefined || child.exitCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
