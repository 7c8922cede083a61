// Prisma 7 configuration: the schema no longer carries a connection URL, the CLI reads it from here.
//
// Only `prisma generate` runs on the project's machines (see scripts/prisma-generate.mjs); migrations are
// applied by prisma/migrate.ts through the WebAssembly schema engine because the native schema-engine binary
// cannot be downloaded there. The migrations path is still declared so that `prisma migrate deploy` works
// unchanged wherever the native engine is available (it reads the same folder and `_prisma_migrations` table).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
  },
  datasource: {
    // `prisma generate` never connects, so a placeholder keeps it working without any environment.
    url: process.env.DATABASE_URL ?? 'postgresql://localhost:5433/provisioning',
  },
});
