/**
 * SCIM filters (RFC 7644 §3.4.2.2), sortBy and paging against a real database: the embedded PGlite in the
 * `embedded` project, a fresh database on TEST_DATABASE_URL in the `postgres` project. A fixed data set
 * (test/fixtures/filter-corpus-data.ts) is inserted with Prisma; every expected result below was written by hand
 * from that table, never computed by the code under test.
 *
 * Each filter also runs through the in-memory evaluator (src/scim/filter.ts) over the same data rendered as SCIM
 * JSON, so the SQL translation and the evaluator are held to the same answers, except where they differ by design
 * (marked "sql only": a userName without domain prefix is compared without its domain in SQL).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../src/db/client.js';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { applyMigrations } from '../src/db/schema-engine.js';
import { ScimError } from '../src/scim/errors.js';
import { evaluateFilter, parseFilter } from '../src/scim/filter.js';
import { groupResourceType, userResourceType } from '../src/scim/schema-defs.js';
import { PROJECT_ROOT } from '../src/temporal/cli-binary.js';
import { queryGroupIds, queryUserIds, type ListQuery } from '../src/userstore/query.js';
import { ACME, ACME_GROUP, ACME_GROUP_SCHEMA, ACME_SCHEMA, ENTERPRISE, GROUPS, USERS, groupId, qualified, userId, type FixtureUser } from './fixtures/filter-corpus-data.js';

const rt = userResourceType([{ schema: ACME_SCHEMA, required: false }]);
const grt = groupResourceType([{ schema: ACME_GROUP_SCHEMA, required: false }]);

const A = 'alice', B = 'bob', C = 'carol', D = 'dave', E = 'eve', F = 'frank', I = 'ivan', J = 'judy';
const G = 'SECONDARY/grace', SB = 'SECONDARY/bob', H = 'SECONDARY/heidi', M = 'SECONDARY/mallory';
const ALL = [A, B, C, D, E, F, G, SB, H, I, J, M];
const ENG = 'Engineering', PLAT = 'Platform Team', SALES = 'Sales', ADMINS = 'SECONDARY/Admins';
const EXT = ENTERPRISE;
const SQL_ONLY = 'sql only';

/** [filter, the users it selects (any order), note] */
const USER_CORPUS: [string, string[], string?][] = [
  // userName: caseExact false; the domain prefix
  ['userName eq "alice"', [A]],
  ['userName eq "ALICE"', [A]],
  ['userName eq "bob"', [B, SB], SQL_ONLY],
  ['userName eq "SECONDARY/bob"', [SB]],
  ['userName eq "secondary/BOB"', [SB]],
  ['userName eq "PRIMARY/bob"', [B], SQL_ONLY],
  ['userName ne "SECONDARY/bob"', [A, B, C, D, E, F, G, H, I, J, M]],
  ['userName sw "SECONDARY/"', [G, SB, H, M]],
  ['userName sw "secondary/b"', [SB]],
  ['userName co "a"', [A, C, D, F, G, I, M], SQL_ONLY],
  ['userName ew "Y"', [J, M]],
  ['userName gt "j"', [J, M], SQL_ONLY],
  ['userName le "bob"', [A, B, SB], SQL_ONLY],
  // single-valued strings, ne / not / pr with NULL and ""
  ['title eq "engineer"', [A, B, G, J]],
  ['title co "ENGINEER"', [A, B, G, J, M]],
  ['title pr', [A, B, D, F, G, SB, I, J, M]],
  ['not (title pr)', [C, E, H]],
  ['title eq null', [C, E, H]],
  ['title ne null', [A, B, D, F, G, SB, I, J, M]],
  ['title ne "Engineer"', [C, D, E, F, SB, H, I, M]],
  ['not (title eq "Engineer")', [C, D, E, F, SB, H, I, M]],
  ['title co "%"', [I]],
  ['title eq "x\' OR \'1\'=\'1"', []],
  ['title lt "b"', [E, SB, I]],
  ['externalId eq "EXT-alice"', [A]],
  ['externalId eq "ext-alice"', []],
  ['externalId pr', [A, B, M]],
  ['externalId sw "EXT-"', [A, B]],
  ['name.familyName eq "dunn"', [D]],
  ['name.givenName eq "Bob"', [B, SB]],
  ['name.middleName pr', [C]],
  ['name.honorificPrefix eq "Dr."', [F]],
  ['name[givenName sw "J" or familyName sw "G"]', [G, J]],
  ['displayName co "bob"', [B, SB]],
  ['displayName pr', [A, B, C, E, F, G, SB, H, I, J, M]],
  ['nickName pr', [A, J]],
  ['userType eq "Contractor"', [C, H]],
  ['locale eq "de-de"', [I]],
  ['profileUrl co "example.com/ALICE"', [A]],
  ['timezone eq "europe/amsterdam"', [A]],
  ['preferredLanguage pr', [A]],
  // booleans
  ['active eq false', [C, F, H]],
  ['active ne true', [C, F, H, M]],
  ['active pr', [A, B, C, D, E, F, G, SB, H, I, J]],
  ['active eq null', [M]],
  ['active eq "false"', [C, F, H]],
  ['active eq true and title eq "Engineer"', [A, B, G, J]],
  // meta: dateTimes compared as instants
  ['meta.created gt "2026-01-10T00:00:00Z"', [J, M]],
  ['meta.created ge "2026-01-10T00:00:00Z"', [I, J, M]],
  ['meta.created lt "2026-01-03T00:00:00+00:00"', [A, B]],
  ['meta.created eq "2026-01-05T01:00:00+01:00"', [E]],
  ['meta.created le "2026-01-01T00:00:00"', [A]],
  ['meta.lastModified gt "2026-02-01T00:00:00Z"', [A]],
  ['meta.resourceType eq "User"', ALL],
  ['meta.resourceType eq "Group"', []],
  ['id eq "00000000-0000-4000-8000-000000000003"', [C]],
  ['id eq "not-a-uuid"', []],
  ['id ne "00000000-0000-4000-8000-000000000003"', [A, B, D, E, F, G, SB, H, I, J, M]],
  // emails: a child table, one EXISTS per comparison; LIKE metacharacters are literal
  ['emails.value eq "EVE@example.com"', [E]],
  ['emails co "example.com"', [A, B, D, E, H, I, J]],
  ['emails.value co "_"', [H]],
  ['emails.value sw "bob@"', [B, SB]],
  ['emails.type eq "home"', [A, D, H, I, J]],
  ['emails[type eq "work" and value ew "example.com"]', [A, B, D, E, H, J]],
  ['emails.type eq "work" and emails.value ew "example.com"', [A, B, D, E, H, I, J]],
  ['emails[primary eq false]', [A, B, D, E, H, I, J, M]],
  ['emails[not (type eq "work")]', [A, B, D, H, I, J, M]],
  // Microsoft Entra's form: a value filter, a sub-attribute and a comparison (= emails[type eq "work" and value ...])
  ['emails[type eq "work"].value ew "example.com"', [A, B, D, E, H, J]],
  ['emails[type eq "home"].value co "gmail"', [A, J]],
  ['not (emails pr)', [F]],
  ['emails pr', [A, B, C, D, E, G, SB, H, I, J, M]],
  ['emails.display pr', [C]],
  ['emails ne "bob@example.com"', [A, C, D, E, F, G, SB, H, I, J, M]],
  ['emails eq null', [F]],
  // phoneNumbers and addresses
  ['phoneNumbers.value co "555 01"', [A, B, D, F, H, J]],
  ['phoneNumbers[type eq "mobile" and primary eq true]', [J]],
  ['phoneNumbers.type eq "WORK"', [A, D, F, H]],
  ['addresses.locality eq "amsterdam"', [A, G]],
  ['addresses[type eq "work" and country eq "NL"]', [A, G]],
  ['addresses.postalCode sw "35"', [J]],
  ['addresses pr', [A, B, C, G, J]],
  ['addresses.region pr', [C]],
  ['addresses.streetAddress co "linden"', [C]],
  // multi-valued attributes in the attributes JSON
  ['ims.type eq "xmpp"', [A, G]],
  ['ims eq "carol"', [C]],
  ['roles.value eq "dev"', [A, B, J]],
  ['roles[value eq "dev" and primary eq true]', [J]],
  ['photos.type eq "photo"', [I]],
  ['x509Certificates pr', [M]],
  ['entitlements pr', []],
  // groups (direct memberships; display qualified like userName)
  ['groups.display eq "Engineering"', [A, B, J]],
  ['groups[display eq "platform team" and type eq "direct"]', [G, I]],
  ['groups.display eq "SECONDARY/Admins"', [A]],
  ['groups.display eq "PRIMARY/Admins"', []],
  [`groups.value eq "${groupId(3)}"`, [C, D]],
  ['not (groups pr)', [E, F, SB, H, M]],
  // the enterprise extension (columns), URNs ignore case, an extension attribute without its URN
  [`${EXT}:employeeNumber eq "1001"`, [A]],
  [`${EXT}:department eq "platform"`, [A, B, G, J]],
  [`${EXT}:manager.value eq "${userId(1)}"`, [B, F, J]],
  [`${EXT}:manager.displayName co "foster"`, [I]],
  [`${EXT}:manager pr`, [B, C, F, I, J]],
  [`${EXT.toUpperCase()}:costCenter eq "CC-10"`, [A, I]],
  ['employeeNumber sw "3"', [G, SB]],
  [`${EXT}:organization ne "Acme"`, [B, C, D, E, G, SB, H, I, J, M]],
  [`${EXT}:division pr`, [A, D]],
  // an operator-defined extension in the attributes JSON: caseExact string, integer, boolean, dateTime, multi-valued
  [`${ACME}:badge eq "A-100"`, [A]],
  [`${ACME}:badge eq "a-100"`, []],
  [`${ACME}:badge sw "J-"`, [J]],
  [`${ACME}:level gt 3`, [C, F, I]],
  [`${ACME}:level le 2`, [B, E, SB, M]],
  [`${ACME}:level eq 3`, [A, G, J]],
  [`${ACME}:level pr`, [A, B, C, E, F, G, SB, I, J, M]],
  [`${ACME}:contractor eq true`, [C, G, H]],
  [`${ACME}:contractor eq false`, [A, B, E, F, I, M]],
  [`not (${ACME}:contractor eq true)`, [A, B, D, E, F, SB, I, J, M]],
  [`${ACME}:hired lt "2020-01-01T00:00:00Z"`, [C, F]],
  [`${ACME}:hired eq "2023-06-30T22:00:00Z"`, [I]],
  [`${ACME}:hired gt "2023-06-30T23:00:00+01:00"`, [J, M]],
  [`${ACME}:hired pr`, [A, B, C, F, G, I, J, M]],
  [`${ACME}:tags eq "remote"`, [A, J]],
  [`${ACME}:tags[value eq "oncall"]`, [A, G]],
  // and / or / not: precedence and parentheses
  ['title eq "Engineer" or title eq "Director" and active eq true', [A, B, G, J]],
  ['(title eq "Engineer" or title eq "Director") and active eq false', [F]],
  ['not (active eq true) and not (name.givenName sw "h")', [C, F, M]],
  ['NOT (userName eq "alice" OR userName eq "bob") AND title Co "ENGINEER"', [G, J, M]],
  ['userType eq "Employee" and emails[type eq "work" and value co "@example.com"]', [A, B]],
  ['emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@xmpp.example"]', [A, B, D, E, G, H, J]],
  ['not (not (active eq false))', [C, F, H]],
  ['active eq true and (userType eq "Employee" or userType eq "Intern") and not (emails.value ew ".org")', [A, G, J]],
];

const GROUP_CORPUS: [string, string[], string?][] = [
  ['displayName eq "engineering"', [ENG]],
  ['displayName co "a"', [PLAT, SALES, ADMINS]],
  ['displayName eq "SECONDARY/admins"', [ADMINS]],
  ['displayName eq "Admins"', [ADMINS], SQL_ONLY],
  [`members.value eq "${userId(1)}"`, [ENG, ADMINS]],
  ['members.type eq "Group"', [ENG, ADMINS]],
  ['members[type eq "User" and display sw "carol"]', [SALES]],
  ['members.display eq "SECONDARY/grace"', [PLAT]],
  ['members.display eq "sales"', [ADMINS]],
  ['members.display co "team"', [ENG]],
  ['externalId pr', [ENG, SALES]],
  ['meta.created ge "2026-02-03T00:00:00Z"', [SALES, ADMINS]],
  [`not (members.value eq "${userId(7)}")`, [ENG, SALES, ADMINS]],
  [`id eq "${groupId(2)}"`, [PLAT]],
  // an operator-defined Group extension in g.attributes: a string, a complex and a multi-valued complex attribute
  [`${ACME_GROUP}:costCode eq "cc-eng"`, [ENG]],
  [`${ACME_GROUP}:costCode sw "CC-"`, [ENG, PLAT]],
  [`${ACME_GROUP}:site.floor ge 3`, [ENG, PLAT]],
  [`${ACME_GROUP}:site.code eq "ams"`, [ENG, PLAT]],
  [`${ACME_GROUP}:site pr`, [ENG, PLAT, SALES]],
  [`not (${ACME_GROUP}:site.floor pr)`, [SALES, ADMINS]],
  [`${ACME_GROUP}:site[code eq "AMS" and floor gt 4]`, [PLAT]],
  [`${ACME_GROUP}:owners.value eq "bob"`, [ENG, SALES]],
  [`${ACME_GROUP}:owners[type eq "primary" and value eq "bob"]`, [SALES]],
  [`${ACME_GROUP}:owners co "a"`, [ENG, PLAT]],
];

/** [filter, scimType, a substring of the detail] */
const INVALID: [string, string, string][] = [
  ['', 'invalidFilter', 'the filter is empty'],
  ['userName eq', 'invalidFilter', "expected a value (a string in double quotes, a number, true, false or null) after 'eq'"],
  ['userName equals "x"', 'invalidFilter', "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after 'userName', found 'equals' at position 10"],
  ['userName eq "x', 'invalidFilter', 'unterminated string at position 13'],
  ['(userName eq "x"', 'invalidFilter', "expected ')' to close the '(' at position 1"],
  ['userName eq "x")', 'invalidFilter', "unexpected ')' after a complete filter"],
  ['userName eq bob', 'invalidFilter', 'strings must be in double quotes'],
  ['not userName eq "x"', 'invalidFilter', "expected '(' after 'not'"],
  ['emails[type eq "work"', 'invalidFilter', "expected ']' to close the '[' at position 7"],
  ['emails[type eq "work"].value', 'invalidFilter', "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after 'value'"],
  ['emails[value co "x" and phoneNumbers[type eq "work"]]', 'invalidFilter', 'value filters cannot be nested'],
  ['foo eq "x"', 'invalidFilter', "Unknown attribute 'foo'"],
  ['name.nickname eq "x"', 'invalidFilter', "'name' has no sub-attribute 'nickname'"],
  ['emails[foo eq "x"]', 'invalidFilter', "'emails' has no sub-attribute 'foo'"],
  ['urn:foo:bar:User:title eq "x"', 'invalidFilter', "Unknown schema 'urn:foo:bar:User'"],
  ['password eq "secret"', 'invalidFilter', "Attribute 'password' cannot be used in a filter"],
  ['active gt true', 'invalidFilter', "'gt' does not apply to the boolean attribute 'active'"],
  ['active gt "x"', 'invalidFilter', "'gt' does not apply to the boolean attribute 'active'"],
  ['active eq "x"', 'invalidFilter', "'active' is a boolean"],
  ['title eq 42', 'invalidFilter', "'title' is a string"],
  ['title gt null', 'invalidFilter', "'gt' cannot compare with null"],
  ['meta.created gt "yesterday"', 'invalidFilter', '"yesterday" is not a dateTime'],
  ['meta.created gt "2026-02-30T00:00:00Z"', 'invalidFilter', 'is not a dateTime'],
  [`${ACME}:level co "3"`, 'invalidFilter', "'co' does not apply to the number attribute"],
  [`${ACME}:contractor lt false`, 'invalidFilter', "'lt' does not apply to the boolean attribute"],
  ['name eq "x"', 'invalidFilter', "Attribute 'name' is complex and cannot be compared"],
  ['addresses co "Amsterdam"', 'invalidFilter', "Attribute 'addresses' is complex and cannot be compared"],
  ['title[value eq "x"]', 'invalidFilter', "'title' is a single string"],
  ['meta.location eq "x"', 'invalidFilter', "'meta.location' is not supported in filters and sortBy"],
  ['groups.$ref pr', 'invalidFilter', "'groups.$ref' is not supported in filters and sortBy"],
  ['members pr', 'invalidFilter', "Unknown attribute 'members' (resource type User)"],
];

// ---------------------------------------------------------------------------------------------------------------

/** A database for this file: a fresh one on TEST_DATABASE_URL (postgres project), else an in-process PGlite. */
async function openDatabase(): Promise<{ url: string; close(): Promise<void> }> {
  const serverUrl = process.env.TEST_DATABASE === 'postgres' ? process.env.TEST_DATABASE_URL : undefined;
  if (serverUrl) {
    const name = `filter_corpus_${crypto.randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      async close() {
        const c = new pg.Client({ connectionString: serverUrl });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filter-corpus-'));
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pglite'), port: 0 });
  return {
    url: server.url,
    async close() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const created = (u: FixtureUser): Date => new Date(Date.UTC(2026, 0, u.day));

async function load(db: PrismaClient): Promise<void> {
  const domains = new Map<string, string>();
  for (const name of ['PRIMARY', 'SECONDARY']) domains.set(name, (await db.userStoreDomain.create({ data: { name } })).id);
  for (const u of USERS) {
    const manager = u.enterprise?.manager === undefined ? undefined : USERS.find((m) => m.n === u.enterprise!.manager)!;
    const json: Record<string, unknown> = {};
    for (const key of ['ims', 'roles', 'photos', 'x509Certificates'] as const) if (u[key]) json[key] = u[key];
    if (u.acme) json[ACME] = u.acme;
    await db.user.create({
      data: {
        id: userId(u.n),
        domainId: domains.get(u.domain)!,
        userName: u.userName,
        userNameNormalized: u.userName.toLowerCase(),
        externalId: u.externalId ?? null,
        active: u.active,
        title: u.title ?? null,
        displayName: u.displayName ?? null,
        nickName: u.nickName ?? null,
        userType: u.userType ?? null,
        locale: u.locale ?? null,
        preferredLanguage: u.preferredLanguage ?? null,
        timezone: u.timezone ?? null,
        profileUrl: u.profileUrl ?? null,
        nameFormatted: u.name?.formatted ?? null,
        nameGivenName: u.name?.givenName ?? null,
        nameFamilyName: u.name?.familyName ?? null,
        nameMiddleName: u.name?.middleName ?? null,
        nameHonorificPrefix: u.name?.honorificPrefix ?? null,
        employeeNumber: u.enterprise?.employeeNumber ?? null,
        costCenter: u.enterprise?.costCenter ?? null,
        organization: u.enterprise?.organization ?? null,
        division: u.enterprise?.division ?? null,
        department: u.enterprise?.department ?? null,
        managerId: manager ? userId(manager.n) : null,
        managerDisplayName: manager?.displayName ?? null,
        attributes: json as never,
        createdAt: created(u),
        updatedAt: u.updated ? new Date(u.updated) : created(u),
        emails: {
          create: (u.emails ?? []).map((e, position) => ({
            value: e.value,
            valueNormalized: e.value.toLowerCase(),
            type: e.type ?? null,
            primary: e.primary ?? false,
            display: e.display ?? null,
            position,
          })),
        },
        phoneNumbers: {
          create: (u.phoneNumbers ?? []).map((p, position) => ({ value: p.value, type: p.type ?? null, primary: p.primary ?? false, display: p.display ?? null, position })),
        },
        addresses: {
          create: (u.addresses ?? []).map((a, position) => ({
            type: a.type ?? null,
            primary: a.primary ?? false,
            formatted: a.formatted ?? null,
            streetAddress: a.streetAddress ?? null,
            locality: a.locality ?? null,
            region: a.region ?? null,
            postalCode: a.postalCode ?? null,
            country: a.country ?? null,
            position,
          })),
        },
      },
    });
  }
  for (const g of GROUPS) {
    await db.group.create({
      data: {
        id: groupId(g.n),
        domainId: domains.get(g.domain)!,
        displayName: g.displayName,
        displayNameNormalized: g.displayName.toLowerCase(),
        externalId: g.externalId ?? null,
        attributes: (g.acme ? { [ACME_GROUP]: g.acme } : {}) as never,
        createdAt: new Date(Date.UTC(2026, 1, g.day)),
        updatedAt: new Date(Date.UTC(2026, 1, g.day)),
      },
    });
  }
  for (const g of GROUPS) {
    let second = 0;
    for (const m of g.members) {
      const createdAt = new Date(Date.UTC(2026, 1, g.day, 0, 0, ++second));
      if (typeof m === 'number') {
        await db.groupMember.create({ data: { groupId: groupId(g.n), memberId: userId(m), memberType: 'User', userMemberId: userId(m), createdAt } });
      } else {
        const nested = groupId(Number(m.slice(1)));
        await db.groupMember.create({ data: { groupId: groupId(g.n), memberId: nested, memberType: 'Group', groupMemberId: nested, createdAt } });
      }
    }
  }
}

const USER_LABEL = new Map(USERS.map((u) => [userId(u.n), qualified(u.domain, u.userName)]));
const GROUP_LABEL = new Map(GROUPS.map((g) => [groupId(g.n), qualified(g.domain, g.displayName)]));

/** The data set as SCIM JSON, the way the User and Group resources render it, for the in-memory evaluator. */
function renderUser(u: FixtureUser): Record<string, unknown> {
  const manager = u.enterprise?.manager === undefined ? undefined : USERS.find((m) => m.n === u.enterprise!.manager)!;
  const withPrimary = (values: { primary?: boolean }[] | undefined) => values?.map((v) => ({ ...v, primary: v.primary ?? false }));
  return {
    id: userId(u.n),
    externalId: u.externalId,
    userName: qualified(u.domain, u.userName),
    name: u.name,
    displayName: u.displayName,
    nickName: u.nickName,
    profileUrl: u.profileUrl,
    title: u.title,
    userType: u.userType,
    preferredLanguage: u.preferredLanguage,
    locale: u.locale,
    timezone: u.timezone,
    active: u.active ?? undefined,
    emails: withPrimary(u.emails),
    phoneNumbers: withPrimary(u.phoneNumbers),
    addresses: withPrimary(u.addresses),
    ims: u.ims,
    roles: u.roles,
    photos: u.photos,
    x509Certificates: u.x509Certificates,
    groups: GROUPS.filter((g) => g.members.includes(u.n)).map((g) => ({ value: groupId(g.n), display: qualified(g.domain, g.displayName), type: 'direct' })),
    [ENTERPRISE]: u.enterprise && {
      ...u.enterprise,
      manager: manager && { value: userId(manager.n), displayName: manager.displayName },
    },
    [ACME]: u.acme,
    meta: { resourceType: 'User', created: created(u).toISOString(), lastModified: u.updated ?? created(u).toISOString() },
  };
}

function renderGroup(n: number): Record<string, unknown> {
  const g = GROUPS.find((x) => x.n === n)!;
  return {
    id: groupId(g.n),
    externalId: g.externalId,
    displayName: qualified(g.domain, g.displayName),
    members: g.members.map((m) => {
      if (typeof m === 'number') {
        const u = USERS.find((x) => x.n === m)!;
        return { value: userId(m), type: 'User', display: qualified(u.domain, u.userName) };
      }
      const nested = GROUPS.find((x) => x.n === Number(m.slice(1)))!;
      return { value: groupId(nested.n), type: 'Group', display: qualified(nested.domain, nested.displayName) };
    }),
    [ACME_GROUP]: g.acme,
    meta: { resourceType: 'Group', created: new Date(Date.UTC(2026, 1, g.day)).toISOString() },
  };
}

const sorted = (labels: string[]): string[] => [...labels].sort();

describe(`SCIM filters over the user store (${process.env.TEST_DATABASE === 'postgres' ? 'PostgreSQL' : 'embedded PGlite'})`, () => {
  let database: { url: string; close(): Promise<void> };
  let db: PrismaClient;

  beforeAll(async () => {
    database = await openDatabase();
    await applyMigrations({ databaseUrl: database.url, migrationsDir: path.join(PROJECT_ROOT, 'prisma', 'migrations') });
    db = createPrismaClient(database.url, { poolSize: 2 });
    await load(db);
  });

  afterAll(async () => {
    await db?.$disconnect();
    await database?.close();
  });

  async function users(q: Omit<Partial<ListQuery>, 'filter'> & { filter?: string }): Promise<{ total: number; labels: string[] }> {
    const { total, ids } = await queryUserIds(db, {
      rt,
      startIndex: 1,
      count: 100,
      ...q,
      filter: q.filter === undefined ? undefined : parseFilter(q.filter),
    });
    return { total, labels: ids.map((id) => USER_LABEL.get(id) ?? id) };
  }

  async function groups(q: Omit<Partial<ListQuery>, 'filter'> & { filter?: string }): Promise<{ total: number; labels: string[] }> {
    const { total, ids } = await queryGroupIds(db, {
      rt: grt,
      startIndex: 1,
      count: 100,
      ...q,
      filter: q.filter === undefined ? undefined : parseFilter(q.filter),
    });
    return { total, labels: ids.map((id) => GROUP_LABEL.get(id) ?? id) };
  }

  it('has a corpus of at least 60 filters', () => {
    expect(USER_CORPUS.length + GROUP_CORPUS.length).toBeGreaterThanOrEqual(60);
    expect(INVALID.length).toBeGreaterThanOrEqual(15);
  });

  describe('users', () => {
    it.each(USER_CORPUS)('%s', async (filter, expected, note) => {
      const { total, labels } = await users({ filter });
      expect(sorted(labels)).toEqual(sorted(expected));
      expect(total).toBe(expected.length);
      if (note !== SQL_ONLY) {
        const inMemory = USERS.filter((u) => evaluateFilter(parseFilter(filter), renderUser(u), rt)).map((u) => qualified(u.domain, u.userName));
        expect(sorted(inMemory)).toEqual(sorted(expected));
      }
    });
  });

  describe('groups', () => {
    it.each(GROUP_CORPUS)('%s', async (filter, expected, note) => {
      const { total, labels } = await groups({ filter });
      expect(sorted(labels)).toEqual(sorted(expected));
      expect(total).toBe(expected.length);
      if (note !== SQL_ONLY) {
        const inMemory = GROUPS.filter((g) => evaluateFilter(parseFilter(filter), renderGroup(g.n), grt)).map((g) => qualified(g.domain, g.displayName));
        expect(sorted(inMemory)).toEqual(sorted(expected));
      }
    });
  });

  describe('sorting and paging', () => {
    it('default order: creation time, then id', async () => {
      expect(await users({})).toEqual({ total: 12, labels: [A, B, C, D, E, F, G, SB, H, I, J, M] });
      expect(await users({ sortOrder: 'descending', count: 3 })).toEqual({ total: 12, labels: [M, J, I] });
    });

    it('startIndex and count page through the result; count 0 gives only the total', async () => {
      expect(await users({ startIndex: 3, count: 4 })).toEqual({ total: 12, labels: [C, D, E, F] });
      expect(await users({ startIndex: 11, count: 4 })).toEqual({ total: 12, labels: [J, M] });
      expect(await users({ startIndex: 0, count: 2 })).toEqual({ total: 12, labels: [A, B] });
      expect(await users({ startIndex: 20, count: 5 })).toEqual({ total: 12, labels: [] });
      expect(await users({ filter: 'userName eq "bob"', count: 0 })).toEqual({ total: 2, labels: [] });
      expect(await users({ filter: 'title pr', startIndex: 2, count: 3 })).toEqual({ total: 9, labels: [B, D, F] });
    });

    it('a keyset cursor continues after the given resource', async () => {
      const after = { created: new Date('2026-01-05T00:00:00Z'), id: userId(5) };
      expect(await users({ after, count: 3 })).toEqual({ total: 12, labels: [F, G, SB] });
      expect(await users({ after, count: 3, sortOrder: 'descending' })).toEqual({ total: 12, labels: [D, C, B] });
      expect(await users({ after, filter: 'active eq false', count: 5 })).toEqual({ total: 3, labels: [F, H] });
    });

    it('sorts by a string attribute, ignoring case, bare userName', async () => {
      expect(await users({ filter: 'title eq "Engineer"', sortBy: 'userName' })).toEqual({ total: 4, labels: [A, B, G, J] });
      expect(await users({ sortBy: 'name.familyName', sortOrder: 'descending', count: 3 })).toEqual({ total: 12, labels: [M, J, I] });
      expect(await users({ filter: 'title pr', sortBy: 'title' })).toEqual({ total: 9, labels: [I, SB, F, A, B, G, J, D, M] });
    });

    it('sorts a multi-valued attribute by its primary value, else its first; no value sorts last ascending', async () => {
      expect(await users({ sortBy: 'emails' })).toEqual({ total: 12, labels: [A, B, SB, C, D, E, G, H, I, J, M, F] });
      expect(await users({ filter: 'roles pr', sortBy: 'roles.value' })).toEqual({ total: 4, labels: [A, E, B, J] });
    });

    it('sorts extension attributes; no value sorts first descending', async () => {
      expect(await users({ filter: `${EXT}:employeeNumber pr`, sortBy: `${EXT}:employeeNumber`, sortOrder: 'descending' })).toEqual({
        total: 6,
        labels: [SB, G, C, F, B, A],
      });
      expect(await users({ sortBy: `${EXT}:employeeNumber`, sortOrder: 'descending', count: 4 })).toEqual({ total: 12, labels: [M, J, I, H] });
      expect(await users({ filter: `${ACME}:level pr`, sortBy: `${ACME}:level` })).toEqual({ total: 10, labels: [M, E, B, SB, A, G, J, F, C, I] });
      expect(await users({ filter: 'active eq false', sortBy: 'meta.created', sortOrder: 'descending' })).toEqual({ total: 3, labels: [H, F, C] });
    });

    it('sorts groups', async () => {
      expect(await groups({ sortBy: 'displayName' })).toEqual({ total: 4, labels: [ADMINS, ENG, PLAT, SALES] });
      expect(await groups({ sortBy: 'externalId', sortOrder: 'descending' })).toEqual({ total: 4, labels: [ADMINS, PLAT, SALES, ENG] });
      expect(await groups({ startIndex: 2, count: 2 })).toEqual({ total: 4, labels: [PLAT, SALES] });
      expect(await groups({ sortBy: `${ACME_GROUP}:owners` })).toEqual({ total: 4, labels: [ENG, SALES, PLAT, ADMINS] });
      expect(await groups({ sortBy: `${ACME_GROUP}:site.floor`, sortOrder: 'descending' })).toEqual({ total: 4, labels: [ADMINS, SALES, PLAT, ENG] });
    });

    it.each([
      ['foo', "Invalid sortBy 'foo': Unknown attribute 'foo' (resource type User)"],
      ['name', "Invalid sortBy 'name': 'name' is complex: sort by one of its sub-attributes"],
      ['addresses', "Invalid sortBy 'addresses': 'addresses' is complex: sort by one of its sub-attributes"],
      ['emails[type eq "work"]', "Invalid attribute path: 'emails[type eq \"work\"]' is not [schema URN:]attribute[.subAttribute]"],
      ['meta.location', "Invalid sortBy 'meta.location': 'meta.location' is not supported in filters and sortBy"],
    ])('refuses sortBy %j with 400 invalidValue', async (sortBy, detail) => {
      const error = await users({ sortBy }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ScimError);
      expect([(error as ScimError).status, (error as ScimError).scimType, (error as ScimError).detail]).toEqual([400, 'invalidValue', detail]);
    });

    it('refuses a cursor with sortBy', async () => {
      const error = await users({ sortBy: 'userName', after: { created: new Date(), id: userId(1) } }).catch((e: unknown) => e);
      expect([(error as ScimError).status, (error as ScimError).scimType]).toEqual([400, 'invalidValue']);
    });
  });

  describe('invalid filters', () => {
    it.each(INVALID)('refuses %j', async (filter, scimType, detail) => {
      const error = await users({ filter }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ScimError);
      expect((error as ScimError).status).toBe(400);
      expect((error as ScimError).scimType).toBe(scimType);
      expect((error as ScimError).detail).toContain(detail);
    });
  });
});
