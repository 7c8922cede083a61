/**
 * The SPML 2.0 connector against a real SPML provider over HTTP (test/support/spml-server.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSpmlServer, type SpmlServer } from '../../../test/support/spml-server.js';
import {
  ConnectorAlreadyExists,
  ConnectorMisconfigured,
  ConnectorNotFound,
  ConnectorRejected,
  ConnectorTransient,
} from '../errors.js';
import type { OutboundConnector, OutboundUser, RemoteUser } from '../types.js';
import { mapOutboundUser } from '../../provisioning/attribute-mapping.js';
import { spmlFactory } from './index.js';
import { NS, child, el, parseXml, soapBodyContent, soapEnvelope } from './xml.js';

const AUTH = { username: 'spmladmin', password: 'spml-secret' };
const TARGET = 'idm-target';

function user(userName: string, extra: Partial<OutboundUser> = {}): OutboundUser {
  return {
    id: `local-${userName}`,
    domain: 'PRIMARY',
    userName,
    name: { givenName: 'Rashmini', familyName: 'N' },
    emails: [{ value: `${userName}@gmail.com`, type: 'home', primary: true }],
    phoneNumbers: [],
    addresses: [],
    active: true,
    version: 1,
    created: '2024-01-01T00:00:00Z',
    lastModified: '2024-01-01T00:00:00Z',
    ...extra,
  };
}

function attrsOf(server: SpmlServer, remoteId: string): Record<string, string[]> {
  const pso = server.psos.get(remoteId);
  if (!pso) throw new Error(`no PSO ${remoteId}`);
  return Object.fromEntries(pso.attrs);
}

describe('SPML 2.0 connector', () => {
  let server: SpmlServer;
  let connector: OutboundConnector;
  const make = (settings: Record<string, unknown> = {}, secrets: Record<string, string> = { password: AUTH.password }) =>
    spmlFactory.create({ type: 'spml', settings: { endpoint: server.url, username: AUTH.username, targetId: TARGET, timeoutMs: 3000, ...settings }, secrets });

  beforeAll(async () => {
    server = await startSpmlServer({ ...AUTH, targetId: TARGET });
    connector = make();
  });
  afterEach(() => server.setFault(undefined));
  afterAll(async () => {
    await server.stop();
  });

  it('validates settings and secrets', () => {
    expect(spmlFactory.type).toBe('spml');
    expect(spmlFactory.secretFields).toEqual(['password', 'defaultPassword']);
    expect(spmlFactory.validate({ type: 'spml', settings: { endpoint: 'http://x/spml' }, secrets: {} })).toEqual([]);
    expect(spmlFactory.validate({ type: 'spml', settings: { endpoint: 'ftp://x' }, secrets: {} })).toEqual(['endpoint: must be an http(s) URL']);
    expect(spmlFactory.validate({ type: 'spml', settings: { endpoint: 'http://x', username: 'u' }, secrets: {} })).toEqual([
      'password: required with username (basic authentication)',
    ]);
    expect(spmlFactory.validate({ type: 'spml', settings: { endpoint: 'http://x', deprovision: 'archive', attributes: { nope: 'x' } }, secrets: {} })).toHaveLength(2);
    expect(() => spmlFactory.create({ type: 'spml', settings: {}, secrets: {} })).toThrow(ConnectorMisconfigured);
  });

  it('creates a user with addRequest and returns the psoID', async () => {
    const { remoteId } = await connector.createUser({ ...user('rashmini'), password: 'abc123' });
    expect(remoteId).toMatch(/^pso-/);
    expect(attrsOf(server, remoteId)).toEqual({
      objectclass: ['spml2Person'],
      accountId: ['rashmini'],
      firstname: ['Rashmini'],
      lastname: ['N'],
      emailAddress: ['rashmini@gmail.com'],
      disabled: ['false'],
      credentials: ['abc123'],
    });
    expect(server.psos.get(remoteId)!.targetId).toBe(TARGET);
    // The wire format: a SOAP 1.1 envelope around a synchronous SPML addRequest with DSML data.
    const sent = soapBodyContent(parseXml(server.bodies.at(-1)!));
    expect(sent).toMatchObject({ ns: NS.spml, name: 'addRequest', attrs: { executionMode: 'synchronous', targetID: TARGET } });
    expect(sent.attrs.requestID).toBeTruthy();
    expect(child(sent, NS.spml, 'data')?.children.every((c) => c.ns === NS.dsml && c.name === 'attr')).toBe(true);
  });

  it('updates with modifyRequest replacing every mapped attribute', async () => {
    const { remoteId } = await connector.createUser(user('upd', { displayName: 'Up D' }));
    await connector.updateUser(remoteId, user('upd', { name: { givenName: 'New' }, emails: [{ value: 'a@b.c' }, { value: 'p@b.c', primary: true }] }));
    expect(attrsOf(server, remoteId)).toEqual({
      objectclass: ['spml2Person'],
      accountId: ['upd'],
      firstname: ['New'],
      emailAddress: ['p@b.c'],
      disabled: ['false'],
    });
    expect(server.requests.at(-1)).toBe('modifyRequest');
    await expect(connector.updateUser('pso-missing', user('upd'))).rejects.toBeInstanceOf(ConnectorNotFound);
  });

  it('deletes with deleteRequest; a PSO already gone is not an error', async () => {
    const { remoteId } = await connector.createUser(user('del'));
    await connector.deleteUser(remoteId, user('del'));
    expect(server.psos.has(remoteId)).toBe(false);
    expect(server.requests.at(-1)).toBe('deleteRequest');
    await connector.deleteUser(remoteId, user('del'));
    expect(server.requests.at(-1)).toBe('deleteRequest');
  });

  it("deactivates instead with deprovision 'deactivate'", async () => {
    const deactivating = make({ deprovision: 'deactivate' });
    const { remoteId } = await deactivating.createUser(user('deact'));
    await deactivating.deleteUser(remoteId, user('deact'));
    expect(attrsOf(server, remoteId).disabled).toEqual(['true']);
    expect(attrsOf(server, remoteId).accountId).toEqual(['deact']);
    await deactivating.deleteUser('pso-missing', user('deact')); // gone: not an error
  });

  it('finds a user by userName with searchRequest, in the configured user store domain', async () => {
    const { remoteId } = await connector.createUser(user('findme'));
    expect(await connector.findUserByUserName('findme')).toEqual({ remoteId });
    expect(server.requests.at(-1)).toBe('searchRequest');
    expect(await connector.findUserByUserName('nobody')).toBeUndefined();

    const secondary = make({ userStoreDomain: 'sales' });
    const created = await secondary.createUser(user('findme'));
    expect(attrsOf(server, created.remoteId).accountId).toEqual(['SALES/findme']);
    expect(await secondary.findUserByUserName('findme')).toEqual(created);
  });

  it('lists users page by page (searchRequest, then iterateRequest)', async () => {
    const lister = make({ pageSize: 2 });
    const before = server.requests.length;
    const all: RemoteUser[] = [];
    for await (const u of lister.listUsers!()) all.push(u);
    expect(all.map((u) => u.remoteId).sort()).toEqual([...server.psos.keys()].sort());
    expect(all.length).toBeGreaterThan(4);
    expect(server.requests.slice(before).filter((r) => r === 'iterateRequest').length).toBe(Math.ceil(all.length / 2) - 1);
    const deact = all.find((u) => u.userName === 'deact');
    expect(deact).toMatchObject({ active: false });
    expect(all.find((u) => u.userName === 'findme')).toMatchObject({ active: true });
  });

  it('maps an attribute to another name, or leaves it out with an empty mapping', async () => {
    const server2 = await startSpmlServer({ ...AUTH, targetId: TARGET, uniqueAttr: 'uid' });
    try {
      const c = spmlFactory.create({
        type: 'spml',
        settings: { endpoint: server2.url, username: AUTH.username, targetId: TARGET, objectClass: 'inetOrgPerson', attributes: { userName: 'uid', email: 'mail', password: '', disabled: '' } },
        secrets: { password: AUTH.password },
      });
      const { remoteId } = await c.createUser({ ...user('mapped'), password: 'not-sent' });
      expect(Object.fromEntries(server2.psos.get(remoteId)!.attrs)).toEqual({
        objectclass: ['inetOrgPerson'],
        uid: ['mapped'],
        firstname: ['Rashmini'],
        lastname: ['N'],
        mail: ['mapped@gmail.com'],
      });
    } finally {
      await server2.stop();
    }
  });

  it('applies attribute-mapping rules over the built-in attributes: replaces, adds, multi-valued, removes (settings.attributeMapping)', async () => {
    const attributeMapping = [
      { target: 'FirstName', expression: '$uppercase(name.givenName)' },
      { target: 'departmentNumber', source: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department' },
      { target: 'mobile', expression: 'phoneNumbers[type = "mobile"].value' },
      { target: 'employeeType', source: 'userType', default: 'staff', when: 'create' },
      { target: 'accountId', expression: '"corp-" & userName' },
    ];
    expect(spmlFactory.validate({ type: 'spml', settings: { endpoint: server.url, attributeMapping }, secrets: {} })).toEqual([]);
    const c = make({ attributeMapping });
    const local = user('mapped-spml', {
      enterprise: { department: 'IAM' },
      phoneNumbers: [
        { value: '+94 1', type: 'mobile' },
        { value: '+94 2', type: 'mobile' },
      ],
    });
    const { remoteId } = await c.createUser(await mapOutboundUser(local, attributeMapping, { operation: 'create' }));
    expect(attrsOf(server, remoteId)).toEqual({
      objectclass: ['spml2Person'],
      accountId: ['corp-mapped-spml'],
      firstname: ['RASHMINI'],
      lastname: ['N'],
      emailAddress: ['mapped-spml@gmail.com'],
      disabled: ['false'],
      departmentNumber: ['IAM'],
      mobile: ['+94 1', '+94 2'],
      employeeType: ['staff'],
    });

    // The department is gone: modify replaces it with no values; the create-only rule is not sent.
    await c.updateUser(remoteId, await mapOutboundUser({ ...local, enterprise: undefined }, attributeMapping, { operation: 'update' }));
    const after = attrsOf(server, remoteId);
    expect(after).not.toHaveProperty('departmentNumber');
    expect(after).toMatchObject({ employeeType: ['staff'], firstname: ['RASHMINI'] });

    // Linking after alreadyExists searches for the account id the mapping built.
    const again = make({ attributeMapping });
    await expect(again.createUser(await mapOutboundUser(local, attributeMapping, { operation: 'create' }))).rejects.toBeInstanceOf(ConnectorAlreadyExists);
    expect(await again.findUserByUserName('mapped-spml')).toEqual({ remoteId });

    expect(
      spmlFactory.validate({
        type: 'spml',
        settings: { endpoint: server.url, attributeMapping: [{ target: 'objectClass', source: 'userName' }, { target: 'credentials', source: 'userName' }, { target: 'a b', source: 'userName' }] },
        secrets: {},
      }),
    ).toEqual([
      "attributeMapping[0] (target 'objectClass'): the object class is the objectClass setting",
      "attributeMapping[1] (target 'credentials'): the password is sent only when provisioned (passwordProvisioning)",
      "attributeMapping[2] (target 'a b'): is not a DSML attribute name",
    ]);
  });

  it('round-trips hostile values exactly (markup, entities, quotes, CR/LF, unicode)', async () => {
    const hostile = `<x a="1">&amp; ' " ]]> </spml:data><!-- é 中文 😀\r\n\ttab  `;
    const userName = `h<&>"'${String.fromCodePoint(0x1f600)}`;
    const u = user(userName, { name: { givenName: hostile, familyName: '&lt;not-an-entity;' }, displayName: '  spaced  ' });
    const { remoteId } = await connector.createUser({ ...u, password: `p<>&"'\r` });
    expect(attrsOf(server, remoteId)).toMatchObject({
      accountId: [userName],
      firstname: [hostile],
      lastname: ['&lt;not-an-entity;'],
      fullname: ['  spaced  '],
      credentials: [`p<>&"'\r`],
    });
    // The raw document never carries the value as markup.
    expect(server.bodies.at(-1)).not.toContain('</spml:data><!--');
    expect(await connector.findUserByUserName(userName)).toEqual({ remoteId });
    const listed: RemoteUser[] = [];
    for await (const r of connector.listUsers!()) if (r.remoteId === remoteId) listed.push(r);
    expect(listed[0]!.userName).toBe(userName);
    expect((listed[0]!.raw as Record<string, string[]>).firstname).toEqual([hostile]);
    // A value XML 1.0 cannot carry at all is refused, not sent mangled.
    await expect(connector.createUser(user('ctl\u0001'))).rejects.toBeInstanceOf(ConnectorRejected);
  });

  describe('error mapping', () => {
    it('alreadyExists -> ConnectorAlreadyExists, also inside a SOAP Fault detail', async () => {
      await connector.createUser(user('dup'));
      await expect(connector.createUser(user('dup'))).rejects.toBeInstanceOf(ConnectorAlreadyExists);
      server.setFault({ kind: 'soapFault', faultcode: 'Client', spmlError: 'alreadyExists' });
      await expect(connector.createUser(user('dup2'))).rejects.toBeInstanceOf(ConnectorAlreadyExists);
    });

    it('noSuchIdentifier -> ConnectorNotFound, also inside a SOAP Fault detail', async () => {
      await expect(connector.updateUser('pso-none', user('x'))).rejects.toBeInstanceOf(ConnectorNotFound);
      server.setFault({ kind: 'soapFault', faultcode: 'Client', spmlError: 'noSuchIdentifier' });
      await expect(connector.updateUser('pso-none', user('x'))).rejects.toBeInstanceOf(ConnectorNotFound);
    });

    it('malformedRequest, unsupportedOperation and other failures -> ConnectorRejected', async () => {
      for (const error of ['malformedRequest', 'unsupportedOperation', 'customError', 'invalidIdentifier']) {
        server.setFault({ kind: 'failure', error });
        const err = await connector.createUser(user('rej')).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ConnectorRejected);
        expect((err as Error).message).toContain(error);
      }
      // A wrong targetID is the provider's invalidIdentifier.
      await expect(make({ targetId: 'other' }).createUser(user('rej'))).rejects.toBeInstanceOf(ConnectorRejected);
    });

    it('SOAP Client Fault -> ConnectorRejected; Server Fault -> ConnectorTransient', async () => {
      server.setFault({ kind: 'soapFault', faultcode: 'Client' });
      await expect(connector.createUser(user('f1'))).rejects.toBeInstanceOf(ConnectorRejected);
      server.setFault({ kind: 'soapFault', faultcode: 'Server' });
      await expect(connector.createUser(user('f1'))).rejects.toBeInstanceOf(ConnectorTransient);
    });

    it('5xx, 408 and 429 -> ConnectorTransient with Retry-After', async () => {
      server.setFault({ kind: 'status', status: 500 });
      await expect(connector.createUser(user('t'))).rejects.toMatchObject({ name: 'ConnectorTransient', status: 500 });
      server.setFault({ kind: 'status', status: 503, retryAfter: '7' });
      await expect(connector.createUser(user('t'))).rejects.toMatchObject({ name: 'ConnectorTransient', status: 503, retryAfterMs: 7000 });
      server.setFault({ kind: 'status', status: 429, retryAfter: '2' });
      const err = await connector.createUser(user('t')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorTransient);
      expect(err).toMatchObject({ status: 429, retryAfterMs: 2000, retryable: true });
      server.setFault({ kind: 'status', status: 408 });
      await expect(connector.createUser(user('t'))).rejects.toBeInstanceOf(ConnectorTransient);
    });

    it('network errors and timeouts -> ConnectorTransient', async () => {
      server.setFault({ kind: 'reset' });
      await expect(connector.createUser(user('net'))).rejects.toBeInstanceOf(ConnectorTransient);
      const stopped = await startSpmlServer();
      const url = stopped.url;
      await stopped.stop();
      await expect(make({ endpoint: url }).createUser(user('net'))).rejects.toBeInstanceOf(ConnectorTransient);
      // A provider that never answers.
      const http = await import('node:http');
      const silent = http.createServer(() => undefined);
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
      const port = (silent.address() as { port: number }).port;
      try {
        await expect(make({ endpoint: `http://127.0.0.1:${port}/spml`, timeoutMs: 300 }).createUser(user('net'))).rejects.toBeInstanceOf(ConnectorTransient);
      } finally {
        silent.closeAllConnections();
        silent.close();
      }
    });

    it('401/403 -> ConnectorMisconfigured; 404 (no SPML service there) -> ConnectorMisconfigured', async () => {
      await expect(make({}, { password: 'wrong' }).createUser(user('auth'))).rejects.toMatchObject({ name: 'ConnectorMisconfigured', status: 401 });
      server.setFault({ kind: 'status', status: 403 });
      await expect(connector.createUser(user('auth'))).rejects.toMatchObject({ name: 'ConnectorMisconfigured', status: 403 });
      server.setFault({ kind: 'status', status: 404 });
      await expect(connector.createUser(user('auth'))).rejects.toMatchObject({ name: 'ConnectorMisconfigured', status: 404 });
      server.setFault({ kind: 'status', status: 400 });
      await expect(connector.createUser(user('auth'))).rejects.toMatchObject({ name: 'ConnectorRejected', status: 400 });
    });

    it('a 200 answer that is not SPML -> ConnectorRejected', async () => {
      server.setFault({ kind: 'garbage' });
      await expect(connector.createUser(user('g'))).rejects.toBeInstanceOf(ConnectorRejected);
    });
  });
});

describe('SPML XML layer', () => {
  it('resolves namespaces by declaration, whatever the prefixes', () => {
    const doc = `<?xml version="1.0"?>
      <e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>
        <addResponse xmlns="urn:oasis:names:tc:SPML:2:0" status="success"><pso><psoID ID="a&amp;b"/></pso></addResponse>
      </e:Body></e:Envelope>`;
    const res = soapBodyContent(parseXml(doc));
    expect(res).toMatchObject({ ns: NS.spml, name: 'addResponse', attrs: { status: 'success' } });
    expect(child(child(res, NS.spml, 'pso'), NS.spml, 'psoID')?.attrs.ID).toBe('a&b');
    // Same local names in another namespace are not SPML.
    const other = soapBodyContent(parseXml(doc.replace('urn:oasis:names:tc:SPML:2:0', 'urn:example:not-spml')));
    expect(other.ns).toBe('urn:example:not-spml');
  });

  it('refuses DTDs (SOAP 1.1 forbids them) and undeclared prefixes', () => {
    expect(() => parseXml('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')).toThrow(/document type/);
    expect(() => parseXml('<p:a/>')).toThrow(/undeclared/);
  });

  it('writes every namespace on the envelope and escapes values', () => {
    const xml = soapEnvelope(el(NS.spml, 'x', { a: '"<\n' }, '<&>'));
    expect(xml).toContain('xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"');
    expect(xml).toContain('xmlns:spml="urn:oasis:names:tc:SPML:2:0"');
    expect(xml).toContain('a="&quot;&lt;&#10;"');
    expect(xml).toContain('&lt;&amp;&gt;');
    expect(soapBodyContent(parseXml(xml))).toMatchObject({ attrs: { a: '"<\n' }, text: '<&>' });
  });
});
