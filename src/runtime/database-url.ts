import type { Config } from '../config.js';

/** The database the api and worker use: DATABASE_URL, or the embedded PostgreSQL the launcher starts. */
export function databaseUrl(config: Config): string {
  return config.database.url ?? `postgresql://postgres@127.0.0.1:${config.database.embeddedPort}/postgres`;
}

/** The Temporal frontend: TEMPORAL_ADDRESS, or the dev server the launcher starts. */
export function temporalAddress(config: Config): string {
  return config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;
}
