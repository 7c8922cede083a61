import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import type { SecretSealer } from '../crypto/sealed-secret.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { PrismaClient } from '../db/client.js';
import type { LoginGuard } from '../security/login-guard.js';
import type { Readiness } from '../runtime/readiness.js';
import type { AdmissionLimiter } from './admission.js';

/** What the HTTP handlers depend on, built once by the api's composition root (src/http/server.ts). */
export interface AppContext {
  config: Config;
  db: PrismaClient;
  temporal: Client;
  registry: ConnectorRegistry;
  box: SecretBox;
  /** Seals passwords on their way into workflows (src/crypto/sealed-secret.ts). */
  sealer: SecretSealer;
  admin: { username: string; password: string };
  /** Brute-force protection of every credential check (src/security/login-guard.ts); one per process. */
  loginGuard: LoginGuard;
  /** Whether writes can be applied now, kept up to date in the background. */
  readiness: Readiness;
  /** The bound on this process's writes in flight (src/http/admission.ts); one per process. */
  admission: AdmissionLimiter;
}
