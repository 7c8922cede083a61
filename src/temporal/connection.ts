/**
 * Connections to Temporal for the api (a Client) and the worker (a NativeConnection), built from the one
 * validated config, with the encrypting data converter on both sides.
 */
import fs from 'node:fs';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { Config, TemporalConfig } from '../config.js';
import { type SecretBox } from '../crypto/secret-box.js';
import { EncryptionCodec } from './codec.js';
import { SEARCH_ATTRIBUTES } from './search-attributes.js';

export function createDataConverter(box: SecretBox): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(box)] };
}

/** Options shared by Connection (client) and NativeConnection (worker). */
export function connectionOptions(t: TemporalConfig): Pick<ConnectionOptions, 'address' | 'tls'> & { apiKey?: string } {
  if (!t.address) throw new Error('TEMPORAL_ADDRESS is not set (the launcher sets it in embedded mode)');
  const read = (p: string | undefined) => (p === undefined ? undefined : fs.readFileSync(p));
  const ca = read(t.tls === false ? undefined : t.tls.ca);
  const crt = read(t.tls === false ? undefined : t.tls.clientCert);
  const key = read(t.tls === false ? undefined : t.tls.clientKey);
  return {
    address: t.address,
    ...(t.apiKey !== undefined && { apiKey: t.apiKey }),
    tls:
      t.tls === false
        ? false
        : {
            ...(t.tls.serverName !== undefined && { serverNameOverride: t.tls.serverName }),
            ...(ca && { serverRootCACertificate: ca }),
            ...(crt && key && { clientCertPair: { crt, key } }),
          },
  };
}

/** gRPC RESOURCE_EXHAUSTED (grpc/doc/statuscodes.md): the server's rate or resource limits. */
const RESOURCE_EXHAUSTED = 8;

/**
 * The SDK's gRPC retries (up to 10 attempts, backing off), except RESOURCE_EXHAUSTED: the SDK retries it for about
 * half a minute (from 1 s, x1.7, up to 5 s a wait), which under a client's request is a hang. The api answers it at
 * once instead (429 + Retry-After, src/scim/inbound-requests.ts), and the client retries later.
 */
function retryInterceptorWithoutResourceExhausted() {
  const defaults = defaultGrpcRetryOptions();
  return makeGrpcRetryInterceptor({
    delayFunction: defaults.delayFunction,
    retryableDecider: (attempt, status) => (status.code as number) !== RESOURCE_EXHAUSTED && defaults.retryableDecider(attempt, status),
  });
}

/**
 * The client of the api (`retryResourceExhausted: false`) and of the worker's activities (the SDK's retries: an
 * activity has no one waiting on it, and a refused call would only fail and be retried by its own policy).
 */
export async function connectClient(config: Config, box: SecretBox, opts: { retryResourceExhausted?: boolean } = {}): Promise<Client> {
  const connection = await Connection.connect({
    ...connectionOptions(config.temporal),
    ...(opts.retryResourceExhausted === false && { interceptors: [retryInterceptorWithoutResourceExhausted()] }),
  });
  return new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: createDataConverter(box),
  });
}

/**
 * Registers the custom search attributes on a cluster that lacks them (idempotent). The dev server gets
 * them from its command line; a self-hosted cluster gets them here on first start. Temporal Cloud needs
 * them added through its own console or tcld, which this reports clearly if the call is refused.
 */
export async function ensureSearchAttributes(client: Client): Promise<void> {
  const ns = client.options.namespace;
  const existing = await client.connection.operatorService.listSearchAttributes({ namespace: ns });
  const have = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = SEARCH_ATTRIBUTES.filter((k) => !have.has(k.name));
  if (missing.length === 0) return;
  const { temporal } = proto;
  const typeOf = {
    KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    KEYWORD_LIST: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  } as const;
  await client.connection.operatorService.addSearchAttributes({
    namespace: ns,
    searchAttributes: Object.fromEntries(missing.map((k) => [k.name, typeOf[k.type]])),
  });
}
