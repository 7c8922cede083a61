/**
 * S1, reads at directory size: `settings.users` users (100,000; --quick 10,000) seeded into the source instance's
 * database (bench/seed.ts) and checked through the API, then at each level, with a client-credentials bearer token
 * from /oauth2/token as a provisioning client has:
 *   - GET /scim2/Users/{id} of random seeded users;
 *   - GET /scim2/Users?filter=userName eq "<a seeded name, upper-cased>" (exactly one match expected);
 *   - GET /scim2/Users?filter=emails.value co "<its number>@" (exactly one match expected);
 *   - GET /scim2/Users?startIndex=1&count=100, the first page of the whole directory (100 resources expected).
 * Each answer is checked (status, and the match count for lists); a wrong one is an error of its row.
 *
 * Read against, at the same level: the HTTP ceiling (hello-world) and the database ceiling (a primary-key SELECT on
 * the same database); the filters and the page also against GET by id. EXPLAIN's verdict on the filters' SQL, on this
 * database, goes in a table of its own (bench/plans.ts).
 */
import crypto from 'node:crypto';
import { CEILING } from './ceilings.js';
import { against, atLeast, atMost, fromLoad, type Row, type Scenario, type ScenarioContext } from './framework.js';
import { HttpClient, runLoad, type Outcome } from './load.js';
import { explainQueries } from './plans.js';
import { checkSeed, seedUsers } from './seed.js';
import { bearerToken } from './topology.js';

export const GET_BY_ID = 'GET /Users/{id}';

export const s1: Scenario = {
  name: 's1',
  label: 'S1',
  title: 'S1 reads at directory size, bearer token',
  topologies: ['embedded', 'production'],
  targets: 0,
  levels: (s) => s.levels ?? (s.quick ? [16] : [1, 4, 16]),
  estimateSeconds(s, topology) {
    const seed = s.users / (topology === 'embedded' ? 2_500 : 10_000);
    return 10 + seed + s1.levels(s).length * 6 * (s.seconds + s.warmupSeconds + 0.5);
  },
  async run(ctx: ScenarioContext): Promise<Row[]> {
    const { source } = ctx.topology;
    const rows: Row[] = [];
    ctx.step(`seeding ${ctx.settings.users.toLocaleString('en')} users`);
    const seed = await seedUsers(source.databaseUrl, ctx.settings.users, (done) => ctx.step(`seeding users: ${done.toLocaleString('en')} of ${ctx.settings.users.toLocaleString('en')}`));
    const token = await bearerToken(source, `bench-s1-${crypto.randomBytes(3).toString('hex')}`);
    ctx.step('checking the seed through the API');
    await checkSeed(source.baseUrl, token, seed);
    ctx.note(
      `${seed.count.toLocaleString('en')} users seeded straight into the database in ${seed.seconds.toFixed(1)} s (rows as the store writes them, ` +
        `half of them with a second email), then read back through the API${ctx.settings.users < 100_000 ? `; **fewer than the issue's 100,000** (--users / --quick)` : ''}. ` +
        'Bearer token: client credentials from /oauth2/token. Filters and page checked for their match count on every answer.',
    );

    ctx.step('EXPLAIN of the filters');
    const padded = (n: number) => String(n).padStart(seed.width, '0');
    const probe = seed.sample[0]!;
    const plans = await explainQueries(source.databaseUrl, [
      { filter: `userName eq "${probe.userName.toUpperCase()}"`, table: 'scim_user' },
      { filter: `emails.value co "${padded(probe.n)}@"`, table: 'scim_user_email' },
      { filter: undefined, table: 'scim_user' },
    ]);
    ctx.table({
      title: `EXPLAIN of the list queries (${ctx.topology.name === 'embedded' ? 'PGlite' : 'PostgreSQL'}, ${seed.count.toLocaleString('en')} users)`,
      headers: ['filter', 'statement', 'scans', 'served by an index'],
      rows: plans.map((p) => [p.query, p.statement, p.scans, p.indexed === undefined ? 'not judged (counts the whole table by nature)' : p.indexed ? 'met' : '**not met**']),
    });
    const indexed = (filter: string) => plans.filter((p) => p.query.startsWith(filter)).every((p) => p.indexed === true);

    const cases: { name: string; filter?: string; path: (k: number) => string; check: (body: Buffer, k: number) => boolean }[] = [
      { name: GET_BY_ID, path: (k) => `/scim2/Users/${seed.sample[k % seed.sample.length]!.id}`, check: (b, k) => b.includes(seed.sample[k % seed.sample.length]!.id) },
      {
        name: 'GET /Users?filter=userName eq',
        filter: 'userName eq',
        path: (k) => `/scim2/Users?filter=${encodeURIComponent(`userName eq "${seed.sample[k % seed.sample.length]!.userName.toUpperCase()}"`)}`,
        check: (b) => (JSON.parse(b.toString()) as { totalResults?: number }).totalResults === 1,
      },
      {
        name: 'GET /Users?filter=emails.value co',
        filter: 'emails.value co',
        path: (k) => `/scim2/Users?filter=${encodeURIComponent(`emails.value co "${padded(seed.sample[k % seed.sample.length]!.n)}@"`)}`,
        check: (b) => (JSON.parse(b.toString()) as { totalResults?: number }).totalResults === 1,
      },
      {
        name: 'GET /Users?count=100 (first page)',
        path: () => '/scim2/Users?startIndex=1&count=100',
        check: (b) => (JSON.parse(b.toString()) as { Resources?: unknown[] }).Resources?.length === 100,
      },
    ];
    const embedded = ctx.topology.name === 'embedded';
    for (const c of s1.levels(ctx.settings)) {
      const hello = await ctx.ceilings.http(c);
      const select = await ctx.ceilings.database(
        source.databaseUrl,
        seed.sample.map((u) => u.id),
        c,
      );
      let byId: Row | undefined;
      for (const k of cases) {
        ctx.step(`${k.name} c=${c}`);
        const http = new HttpClient(source.baseUrl, c, { Authorization: `Bearer ${token}` });
        const offset = crypto.randomInt(seed.sample.length);
        const op = async (i: number): Promise<Outcome> => {
          const res = await http.request('GET', k.path(offset + i));
          if (res.status !== 200) return { ok: false, status: String(res.status) };
          return k.check(res.body, offset + i) ? { ok: true, status: '200' } : { ok: false, status: 'wrong answer' };
        };
        const r = await runLoad({ concurrency: c, seconds: ctx.settings.seconds, warmupSeconds: ctx.settings.warmupSeconds, op }).finally(() => http.close());
        const vsHello = against(r.throughput, hello);
        const vsSelect = against(r.throughput, select);
        const targets = [];
        let list = [vsHello, vsSelect];
        if (k.name === GET_BY_ID) {
          if (c === 16) {
            targets.push(atLeast(vsHello, embedded ? 0.1 : 0.25, CEILING.http));
            if (!embedded) targets.push(atMost(r.p99, 20, 'p99'));
          }
        } else if (byId) {
          const vsById = against(r.throughput, byId);
          list = [vsById, ...list];
          if (k.filter) {
            targets.push(atLeast(vsById, 0.5, GET_BY_ID));
            const served = indexed(k.filter);
            targets.push({ text: 'served by an index (EXPLAIN)', met: served, value: served ? 'index scans only' : 'a sequential scan: see the EXPLAIN table' });
          }
        }
        const row = ctx.record({ scenario: 'S1', case: k.name, unit: 'req/s', ...fromLoad(r), against: list, ...(targets.length > 0 && { targets }) });
        if (k.name === GET_BY_ID) byId = row;
        rows.push(row);
      }
    }
    return rows;
  },
};
