/**
 * Connections to Temporal for the api (a Client) and the worker (a NativeConnection), built from the one
 * validated config, with the encrypting data converter on both sides.
 */
import fs from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
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

export async function connectClient(config: Config, box: SecretBox): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(config.temporal));
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
