// Migrations through the WebAssembly schema engine, on the embedded PGlite and (with TEST_DATABASE_URL) on a real
// PostgreSQL, then the generated Prisma client against the migrated schema.
//
// TEST_DATABASE_URL: a PostgreSQL URL whose user may CREATE DATABASE; each run creates and drops its own database.
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, Prisma } from './client.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { applyMigrations, createMigration } from './schema-engine.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const migrationsDir = join(root, 'prisma', 'migrations');
const schemaPath = join(root, 'prisma', 'schema.prisma');
const HOOK_TIMEOUT = 60_000; // a fresh PGlite runs initdb (about 4 s here); CI machines can be slower

async function migrationNames(): Promise<string[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** The checks shared by PGlite and real PostgreSQL. */
function migrationAndClientChecks(databaseUrl: () => string): void {
  it('applies every migration, and a second run is a no-op', async () => {
    const first = await applyMigrations({ databaseUrl: databaseUrl(), migrationsDir });
    expect(first.applied).toEqual(await migrationNames());
    expect(first.applied.length).toBeGreaterThan(0);

    const second = await applyMigrations({ databaseUrl: databaseUrl(), migrationsDir });
    expect(second.applied).toEqual([]);

    const client = new pg.Client({ connectionString: databaseUrl() });
    await client.connect();
    try {
      const rows = await client.query<{ migration_name: string }>(
        'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name',
      );
      expect(rows.rows.map((r) => r.migration_name)).toEqual(first.applied);
    } finally {
      await client.end();
    }
  });

  it('serves the Prisma client; (domain_id, user_name_normalized) is unique', async () => {
    const prisma = createPrismaClient(databaseUrl(), { poolSize: 4 });
    try {
      const primary = await prisma.userStoreDomain.create({ data: { name: 'PRIMARY' } });
      const other = await prisma.userStoreDomain.create({ data: { name: 'PARTNERS' } });
      const user = (domainId: string, userName: string) => ({
        id: randomUUID(),
        domainId,
        userName,
        userNameNormalized: userName.toLowerCase(),
      });

      await prisma.user.create({ data: user(primary.id, 'Alice') });
      await prisma.user.create({ data: user(primary.id, 'Bob') });
      // Same name in another domain is a different user.
      await prisma.user.create({ data: user(other.id, 'alice') });

      await expect(prisma.user.create({ data: user(primary.id, 'ALICE') })).rejects.toSatisfy(
        (error) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002',
      );
      // The same violation inside an interactive transaction rolls back the whole transaction and leaves the
      // connection (and the other pooled connections) usable.
      await expect(
        prisma.$transaction(async (tx) => {
          await tx.user.create({ data: user(primary.id, 'Carol') });
          await tx.user.create({ data: user(primary.id, 'bob') });
        }),
      ).rejects.toSatisfy((error) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002');

      const counts = await Promise.all(
        Array.from({ length: 8 }, () => prisma.user.count({ where: { domainId: primary.id } })),
      );
      expect(counts).toEqual(Array.from({ length: 8 }, () => 2));
      expect(await prisma.user.count({ where: { userNameNormalized: 'carol' } })).toBe(0);
    } finally {
      await prisma.$disconnect();
    }
  });
}

describe('embedded PGlite', () => {
  let scratch: string;
  let server: EmbeddedPostgres;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'schema-engine-test-'));
    server = await startEmbeddedPostgres({ dataDir: join(scratch, 'pglite'), port: 0 });
  }, HOOK_TIMEOUT);

  afterAll(async () => {
    await server?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }, HOOK_TIMEOUT);

  /** PGlite's shadow database is the database itself: createMigration leaves the replayed migrations behind. */
  async function emptyDatabase(): Promise<void> {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;').finally(() => client.end());
  }

  // Runs first, on the still empty database, and empties it again afterwards.
  it('creates a migration for a schema change, and nothing when the schema matches', async () => {
    const migrations = join(scratch, 'migrations');
    await cp(migrationsDir, migrations, { recursive: true });
    const unchanged = await createMigration({ databaseUrl: server.url, schemaPath, migrationsDir: migrations, name: 'noop' });
    expect(unchanged.directory).toBeNull();
    await emptyDatabase();

    // Replaying the existing migrations and describing the result is the path that needs the "char" fix.
    const changedSchema = join(scratch, 'schema.prisma');
    const schema = await readFile(schemaPath, 'utf8');
    await writeFile(changedSchema, schema.replace(/(\n\s+nickName\s+String\?[^\n]*)/, '$1\n  testOnly String?'));
    const created = await createMigration({
      databaseUrl: server.url,
      schemaPath: changedSchema,
      migrationsDir: migrations,
      name: 'add test only',
    });
    expect(created.directory).toMatch(/\d{14}_add_test_only$/);
    const sql = await readFile(join(created.directory ?? '', 'migration.sql'), 'utf8');
    expect(sql).toMatch(/ALTER TABLE "scim_user" ADD COLUMN\s+"testOnly" TEXT/);
    await emptyDatabase();
  });

  migrationAndClientChecks(() => server.url);

  // pglite-socket 0.2.17 lets another connection's Parse land in the middle of an extended-protocol batch
  // (electric-sql/pglite#1046); embedded-postgres.ts makes the whole batch exclusive. Deterministic repro: send
  // A's Parse and half of its Bind, then B's whole batch, then the rest of A's.
  it('keeps an extended-protocol batch of one connection away from other connections', async () => {
    const a = await WireClient.connect(server.port);
    const b = await WireClient.connect(server.port);
    try {
      const aBatch = Buffer.concat([parse('SELECT $1::text AS a'), bind(['from A']), execute(), sync()]);
      const cut = parse('SELECT $1::text AS a').length + 3;
      a.write(aBatch.subarray(0, cut));
      await new Promise((done) => setTimeout(done, 100));
      b.write(Buffer.concat([parse("SELECT 'from B' AS b"), bind([]), execute(), sync()]));
      expect(await b.nextResult(300)).toBe('timeout'); // B waits for A's Sync
      a.write(aBatch.subarray(cut));
      expect(await a.nextResult()).toEqual(['from A']);
      expect(await b.nextResult()).toEqual(['from B']);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('real PostgreSQL (TEST_DATABASE_URL)', () => {
  const adminUrl = process.env.TEST_DATABASE_URL ?? '';
  const database = `schema_engine_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  let databaseUrl = '';

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`).finally(() => admin.end());
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
  }, HOOK_TIMEOUT);

  afterAll(async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).finally(() => admin.end());
  }, HOOK_TIMEOUT);

  it('finds no change between the migrations and the schema (shadow database on the server)', async () => {
    const result = await createMigration({
      databaseUrl,
      schemaPath,
      migrationsDir,
      name: 'should_not_exist',
    });
    expect(result.directory).toBeNull();
    // The shadow database was separate: the test database is still empty.
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const tables = await client
      .query("SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'")
      .finally(() => client.end());
    expect(tables.rowCount).toBe(0);
  });

  migrationAndClientChecks(() => databaseUrl);
});

// --- a minimal PostgreSQL wire-protocol client, enough to control how a batch is split across TCP writes ---

function message(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const cstring = (s: string): Buffer => Buffer.from(`${s}\0`);
const int16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const parse = (sql: string): Buffer => message('P', cstring(''), cstring(sql), int16(0));
const bind = (params: string[]): Buffer =>
  message(
    'B',
    cstring(''),
    cstring(''),
    int16(0),
    int16(params.length),
    ...params.flatMap((p) => [int32(Buffer.byteLength(p)), Buffer.from(p)]),
    int16(0),
  );
const execute = (): Buffer => message('E', cstring(''), int32(0));
const sync = (): Buffer => message('S');

class WireClient {
  private buffer = Buffer.alloc(0);
  private messages: { type: string; body: Buffer }[] = [];
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (data) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      while (this.buffer.length >= 5) {
        const length = this.buffer.readInt32BE(1);
        if (this.buffer.length < length + 1) break;
        this.messages.push({ type: String.fromCharCode(this.buffer[0] ?? 0), body: this.buffer.subarray(5, length + 1) });
        this.buffer = this.buffer.subarray(length + 1);
      }
      this.wake?.();
    });
  }

  static async connect(port: number): Promise<WireClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((done, fail) => socket.once('connect', done).once('error', fail));
    const client = new WireClient(socket);
    const params = Buffer.concat([cstring('user'), cstring('postgres'), cstring('database'), cstring('postgres'), Buffer.from([0])]);
    socket.write(Buffer.concat([int32(params.length + 8), int32(196608), params]));
    expect(await client.nextResult()).toEqual([]);
    return client;
  }

  write(data: Buffer): void {
    this.socket.write(data);
  }

  /** Text of the first column of every DataRow up to the next ReadyForQuery; ErrorResponse becomes `error: ...`. */
  async nextResult(timeoutMs = 5000): Promise<string[] | 'timeout'> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.messages.findIndex((m) => m.type === 'Z');
      if (end >= 0) {
        return this.messages.splice(0, end + 1).flatMap((m) => {
          if (m.type === 'D') return [m.body.subarray(6, 6 + m.body.readInt32BE(2)).toString()];
          if (m.type === 'E') return [`error: ${m.body.toString('latin1')}`];
          return [];
        });
      }
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((done) => {
        const timer = setTimeout(done, left);
        this.wake = () => {
          clearTimeout(timer);
          done();
        };
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
