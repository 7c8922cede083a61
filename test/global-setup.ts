/**
 * Once per `npm test`: acquire the Temporal CLI (building it on first use, like `npm start`), start one
 * Temporal dev server (in memory, custom search attributes registered) and bundle the workflows once, so
 * each test instance's worker starts in a second instead of bundling again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { acquireTemporalCli } from '../src/temporal/cli-binary.js';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import { workflowsPath } from '../worker/main.js';
import { freePort } from './support/ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCliPath: string;
    /** The shared dev server's Web UI (its HTTP API serves histories to anybody who reaches it). */
    temporalUiUrl: string;
    workflowBundle: string;
  }
}

let server: DevServer | undefined;
let tmp: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  const cliPath = await acquireTemporalCli({ cliPath: process.env.TEMPORAL_CLI_PATH });
  server = await startDevServer({ cliPath, port: await freePort(), uiPort: await freePort(), output: null });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'provisioning-test-'));
  const bundle = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: new DefaultLogger('WARN') });
  const bundlePath = path.join(tmp, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, bundle.code);
  project.provide('temporalAddress', server.address);
  project.provide('temporalCliPath', cliPath);
  project.provide('temporalUiUrl', server.uiUrl);
  project.provide('workflowBundle', bundlePath);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}
