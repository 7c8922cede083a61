/**
 * A local SPML 2.0 provider over real HTTP, for connector and end-to-end tests: SOAP 1.1 envelopes in and out,
 * the core operations (add, modify, delete, lookup) and the search capability (search, iterate) of the DSMLv2
 * profile, PSOs kept in memory, HTTP basic authentication, and faults on demand (connection resets, HTTP status
 * codes with Retry-After, SOAP Faults, SPML failures).
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  NS,
  child,
  childrenOf,
  dsmlAttr,
  el,
  parseXml,
  readDsmlAttrs,
  soapBodyContent,
  soapEnvelope,
  type XmlElement,
} from '../../src/connectors/spml/xml.js';

export interface Pso {
  id: string;
  targetId: string;
  /** DSML attributes: name -> values. */
  attrs: Map<string, string[]>;
}

export type SpmlFault =
  /** Destroys each connection without an answer (the client sees a network error). */
  | { kind: 'reset' }
  /** Answers with this HTTP status and an empty (or SOAP Fault, for 500) body. */
  | { kind: 'status'; status: number; retryAfter?: string }
  /** Answers HTTP 500 with a SOAP Fault; `spmlError` puts an SPML error code into its detail. */
  | { kind: 'soapFault'; faultcode: 'Client' | 'Server'; spmlError?: string }
  /** Answers status="failure" with this error code. */
  | { kind: 'failure'; error: string }
  /** Answers 200 with a body that is not XML. */
  | { kind: 'garbage' };

export interface SpmlServer {
  url: string;
  /** The provider's store, by psoID. */
  psos: Map<string, Pso>;
  /** Every request's operation (local name of the SOAP Body's content), in order. */
  requests: string[];
  /** The raw bodies of the requests, in order. */
  bodies: string[];
  /** Fails every request with `fault` (for `times` requests, or until cleared with undefined). */
  setFault(fault: SpmlFault | undefined, times?: number): void;
  findByAttr(name: string, value: string): Pso | undefined;
  /** Stops listening (connections are refused), keeping the store and the port. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

export interface SpmlServerOptions {
  username?: string;
  password?: string;
  targetId?: string;
  port?: number;
  /** The attribute that must be unique (alreadyExists), as the provider's identity attribute. */
  uniqueAttr?: string;
}

function response(name: string, ns: string, request: XmlElement, attrs: Record<string, string | undefined>, children: XmlElement[] = []): XmlElement {
  return el(ns, name, { requestID: request.attrs.requestID, ...attrs }, children);
}

function failure(request: XmlElement, error: string, message: string): XmlElement {
  const ns = request.ns;
  return response(request.name.replace(/Request$/, 'Response'), ns, request, { status: 'failure', error }, [el(NS.spml, 'errorMessage', {}, message)]);
}

function psoElement(pso: Pso, withData: boolean): XmlElement {
  const id = el(NS.spml, 'psoID', { ID: pso.id, targetID: pso.targetId });
  if (!withData) return el(NS.spml, 'pso', {}, [id]);
  return el(NS.spml, 'pso', {}, [id, el(NS.spml, 'data', {}, [...pso.attrs].map(([n, v]) => dsmlAttr(n, v)))]);
}

function matches(pso: Pso, filter: XmlElement | undefined): boolean {
  if (!filter) return true;
  switch (filter.name) {
    case 'filter':
      return filter.children.every((c) => matches(pso, c));
    case 'and':
      return filter.children.every((c) => matches(pso, c));
    case 'or':
      return filter.children.some((c) => matches(pso, c));
    case 'not':
      return !matches(pso, filter.children[0]);
    case 'present':
      return (pso.attrs.get(filter.attrs.name ?? '')?.length ?? 0) > 0;
    case 'equalityMatch': {
      const want = child(filter, NS.dsml, 'value')?.text;
      return want !== undefined && (pso.attrs.get(filter.attrs.name ?? '') ?? []).includes(want);
    }
    default:
      throw new Error(`unsupported filter ${filter.name}`);
  }
}

export async function startSpmlServer(opts: SpmlServerOptions = {}): Promise<SpmlServer> {
  const targetId = opts.targetId ?? 'spml2-target';
  const uniqueAttr = opts.uniqueAttr ?? 'accountId';
  const psos = new Map<string, Pso>();
  const requests: string[] = [];
  const bodies: string[] = [];
  const iterators = new Map<string, Pso[]>();
  let fault: SpmlFault | undefined;
  let faultTimes = Infinity;
  let pageCounter = 0;

  const findByAttr = (name: string, value: string) => [...psos.values()].find((p) => p.attrs.get(name)?.includes(value));

  function checkTarget(request: XmlElement, id: string | undefined): XmlElement | undefined {
    if (id !== undefined && id !== targetId) return failure(request, 'invalidIdentifier', `no target '${id}'`);
    return undefined;
  }

  function page(request: XmlElement, ns: string, name: string, all: Pso[], maxSelect: number, withData: boolean): XmlElement {
    const shown = all.slice(0, maxSelect);
    const rest = all.slice(maxSelect);
    const children = shown.map((p) => psoElement(p, withData));
    if (rest.length > 0) {
      const iteratorId = `it-${++pageCounter}`;
      iterators.set(iteratorId, rest);
      children.push(el(NS.search, 'iterator', { ID: iteratorId }));
    }
    return response(name, ns, request, { status: 'success' }, children);
  }

  const pageSizes = new Map<string, { maxSelect: number; withData: boolean }>();

  function handle(request: XmlElement): XmlElement {
    if (request.attrs.executionMode !== undefined && request.attrs.executionMode !== 'synchronous') {
      return failure(request, 'unsupportedExecutionMode', 'only synchronous execution is offered');
    }
    const op = `${request.ns === NS.search ? 'search:' : ''}${request.name}`;
    switch (op) {
      case 'addRequest': {
        const bad = checkTarget(request, request.attrs.targetID);
        if (bad) return bad;
        const attrs = readDsmlAttrs(child(request, NS.spml, 'data'));
        const key = attrs.get(uniqueAttr)?.[0];
        if (key === undefined) return failure(request, 'malformedRequest', `${uniqueAttr} is required`);
        if (findByAttr(uniqueAttr, key)) return failure(request, 'alreadyExists', `${uniqueAttr} '${key}' exists`);
        const requested = child(request, NS.spml, 'psoID')?.attrs.ID;
        const pso: Pso = { id: requested ?? `pso-${crypto.randomUUID()}`, targetId, attrs };
        psos.set(pso.id, pso);
        return response('addResponse', NS.spml, request, { status: 'success' }, [psoElement(pso, request.attrs.returnData !== 'identifier')]);
      }
      case 'modifyRequest': {
        const psoId = child(request, NS.spml, 'psoID');
        const bad = checkTarget(request, psoId?.attrs.targetID);
        if (bad) return bad;
        const pso = psos.get(psoId?.attrs.ID ?? '');
        if (!pso) return failure(request, 'noSuchIdentifier', `no PSO '${psoId?.attrs.ID ?? ''}'`);
        const next = new Map(pso.attrs);
        for (const mod of childrenOf(request, NS.spml, 'modification')) {
          for (const m of childrenOf(mod, NS.dsml, 'modification')) {
            const name = m.attrs.name ?? '';
            const values = childrenOf(m, NS.dsml, 'value').map((v) => v.text);
            if (m.attrs.operation === 'replace') {
              if (values.length > 0) next.set(name, values);
              else next.delete(name);
            } else if (m.attrs.operation === 'add') next.set(name, [...(next.get(name) ?? []), ...values]);
            else if (m.attrs.operation === 'delete') {
              const left = values.length === 0 ? [] : (next.get(name) ?? []).filter((v) => !values.includes(v));
              if (left.length > 0) next.set(name, left);
              else next.delete(name);
            } else return failure(request, 'malformedRequest', `unknown operation '${m.attrs.operation ?? ''}'`);
          }
        }
        const key = next.get(uniqueAttr)?.[0];
        if (key === undefined) return failure(request, 'malformedRequest', `${uniqueAttr} cannot be removed`);
        const other = findByAttr(uniqueAttr, key);
        if (other && other.id !== pso.id) return failure(request, 'alreadyExists', `${uniqueAttr} '${key}' exists`);
        pso.attrs = next;
        return response('modifyResponse', NS.spml, request, { status: 'success' }, [psoElement(pso, request.attrs.returnData !== 'identifier')]);
      }
      case 'deleteRequest': {
        const psoId = child(request, NS.spml, 'psoID');
        const bad = checkTarget(request, psoId?.attrs.targetID);
        if (bad) return bad;
        if (!psos.delete(psoId?.attrs.ID ?? '')) return failure(request, 'noSuchIdentifier', `no PSO '${psoId?.attrs.ID ?? ''}'`);
        return response('deleteResponse', NS.spml, request, { status: 'success' });
      }
      case 'lookupRequest': {
        const psoId = child(request, NS.spml, 'psoID');
        const pso = psos.get(psoId?.attrs.ID ?? '');
        if (!pso) return failure(request, 'noSuchIdentifier', `no PSO '${psoId?.attrs.ID ?? ''}'`);
        return response('lookupResponse', NS.spml, request, { status: 'success' }, [psoElement(pso, request.attrs.returnData !== 'identifier')]);
      }
      case 'search:searchRequest': {
        const query = child(request, NS.search, 'query');
        const bad = checkTarget(request, query?.attrs.targetID);
        if (bad) return bad;
        const all = [...psos.values()].filter((p) => matches(p, child(query, NS.dsml, 'filter')));
        const maxSelect = Number(request.attrs.maxSelect ?? '1000');
        const withData = request.attrs.returnData !== 'identifier';
        const res = page(request, NS.search, 'searchResponse', all, maxSelect, withData);
        const it = child(res, NS.search, 'iterator')?.attrs.ID;
        if (it) pageSizes.set(it, { maxSelect, withData });
        return res;
      }
      case 'search:iterateRequest': {
        const id = child(request, NS.search, 'iterator')?.attrs.ID ?? '';
        const rest = iterators.get(id);
        const size = pageSizes.get(id);
        if (!rest || !size) return failure(request, 'invalidIdentifier', `no iterator '${id}'`);
        iterators.delete(id);
        const res = page(request, NS.search, 'iterateResponse', rest, size.maxSelect, size.withData);
        const it = child(res, NS.search, 'iterator')?.attrs.ID;
        if (it) pageSizes.set(it, size);
        return res;
      }
      default:
        return failure(request, 'unsupportedOperation', `${request.name} is not offered`);
    }
  }

  function soapFault(faultcode: string, faultstring: string, detail?: XmlElement): string {
    // SOAP 1.1 §4.4: faultcode and faultstring are unqualified children of soap:Fault.
    return soapEnvelope(
      el(NS.soap, 'Fault', {}, [el('', 'faultcode', {}, `soap:${faultcode}`), el('', 'faultstring', {}, faultstring), ...(detail ? [el('', 'detail', {}, [detail])] : [])]),
    );
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      bodies.push(text);
      const send = (status: number, body: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'Content-Type': 'text/xml; charset=utf-8', ...headers });
        res.end(body);
      };
      let request: XmlElement;
      try {
        request = soapBodyContent(parseXml(text));
      } catch (err) {
        requests.push('(unparseable)');
        send(500, soapFault('Client', (err as Error).message));
        return;
      }
      requests.push(request.name);

      if (fault && faultTimes > 0) {
        const f = fault;
        faultTimes -= 1;
        if (faultTimes === 0) fault = undefined;
        switch (f.kind) {
          case 'reset':
            req.socket.destroy();
            return;
          case 'status':
            send(f.status, f.status === 500 ? soapFault('Server', 'internal error') : '', f.retryAfter ? { 'Retry-After': f.retryAfter } : {});
            return;
          case 'soapFault':
            send(500, soapFault(f.faultcode, 'fault on demand', f.spmlError ? failure(request, f.spmlError, 'in a fault') : undefined));
            return;
          case 'failure':
            send(200, soapEnvelope(failure(request, f.error, 'failure on demand')));
            return;
          case 'garbage':
            send(200, '<html>proxy error', { 'Content-Type': 'text/html' });
            return;
        }
      }

      if (req.method !== 'POST') {
        send(405, '');
        return;
      }
      if (opts.username !== undefined) {
        const expected = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
        if (req.headers.authorization !== expected) {
          send(401, '', { 'WWW-Authenticate': 'Basic realm="spml"' });
          return;
        }
      }
      if (request.ns !== NS.spml && request.ns !== NS.search) {
        send(500, soapFault('Client', `unknown request {${request.ns}}${request.name}`));
        return;
      }
      send(200, soapEnvelope(handle(request)));
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const close = async () => {
    if (!server.listening) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  await listen(opts.port ?? 0);
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/spml`,
    psos,
    requests,
    bodies,
    setFault(f, times = Infinity) {
      fault = f;
      faultTimes = times;
    },
    findByAttr,
    down: close,
    up: () => listen(port),
    stop: close,
  };
}
