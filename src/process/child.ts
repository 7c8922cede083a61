/**
 * Child processes started by the launcher and by the end-to-end tests: output prefixed with a name,
 * readiness signalled by a line on stdout, an optional private message on fd 3 (secrets: never in the
 * environment or the command line, where /proc/<pid>/environ and ps show them), and a stop that asks politely
 * (SIGTERM) before insisting.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import readline from 'node:readline';
import type { Writable } from 'node:stream';

/** How a child ended: its exit code, or the signal that killed it. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The file descriptor on which a child started with `privateInput` reads it. */
export const PRIVATE_INPUT_FD = 3;

export interface ManagedChild {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number | undefined;
  /** Resolves with the first stdout line matching `ready`, rejects if the process exits first. */
  readonly ready: Promise<RegExpMatchArray>;
  /** The exit code; null when a signal ended the process. */
  readonly exited: Promise<number | null>;
  /** The exit code and signal. */
  readonly exit: Promise<ChildExit>;
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
  /**
   * Written to the child's fd 3 (PRIVATE_INPUT_FD), which is then closed: a pipe only this process and the
   * child hold, unlike the environment.
   */
  privateInput?: string;
}

export function startChild(opts: StartChildOptions): ManagedChild {
  const { name, command, args, ready: readyPattern, readyTimeoutMs = 120_000, output, privateInput, ...spawnOptions } = opts;
  const child = spawn(command, args, {
    ...spawnOptions,
    stdio: privateInput === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  if (privateInput !== undefined) {
    const pipe = child.stdio[PRIVATE_INPUT_FD] as Writable;
    pipe.on('error', () => undefined); // the child may die before it reads; its exit is reported below
    pipe.end(privateInput);
  }
  const write = output === undefined ? (line: string) => process.stderr.write(`[${name}] ${line}\n`) : output;
  let exitCode: number | null | undefined;
  const exit = new Promise<ChildExit>((resolve) => {
    child.on('exit', (code, signal) => {
      exitCode = code ?? (signal ? null : 0);
      resolve({ code: exitCode, signal });
    });
  });
  const exited = exit.then((e) => e.code);
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
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      write?.(line);
      const m = line.match(readyPattern);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    readline.createInterface({ input: child.stderr! }).on('line', (line) => write?.(line));
  });
  ready.catch(() => undefined); // callers that never await readiness must not crash the process
  return {
    name,
    process: child,
    pid: child.pid,
    ready,
    exited,
    exit,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (exitCode !== undefined || child.exitCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Starts a child and waits until it is ready. If it is not (it exits first, its readiness times out, or
 * `signal` aborts), the child is stopped and this rejects: a caller never holds a half-started process.
 */
export async function startReadyChild(opts: StartChildOptions, signal?: AbortSignal): Promise<ManagedChild> {
  signal?.throwIfAborted();
  const child = startChild(opts);
  const onAbort = () => void child.stop();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await child.ready;
    signal?.throwIfAborted();
    return child;
  } catch (err) {
    await child.stop();
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
