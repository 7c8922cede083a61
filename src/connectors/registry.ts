/**
 * The connector registry: connector type -> factory. Built-in connectors are listed in BUILTIN_CONNECTORS;
 * custom connectors are plug-ins named by the CONNECTOR_PLUGINS setting and loaded at start-up by
 * loadConnectorPlugins (the same list in the api, which validates settings, and the worker, which delivers).
 *
 * The plug-in contract: a module (a file path, or an installed package name) whose default export, or whose
 * export named `connectorFactory`, is a ConnectorFactory (src/connectors/types.ts). Its `type` is the
 * connector type operators use in the admin API; it must not collide with a built-in one.
 *
 * @example
 *   // my-connector.ts
 *   export default {
 *     type: 'custom:ldif',
 *     secretFields: ['password'],
 *     validate: (config) => [],
 *     create: (config) => new LdifConnector(config),
 *   } satisfies ConnectorFactory;
 *   // CONNECTOR_PLUGINS=./plugins/my-connector.js npm start
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConnectorMisconfigured } from './errors.js';
import { googleFactory } from './google/index.js';
import { salesforceFactory } from './salesforce/index.js';
import { scim11Factory } from './scim11/index.js';
import { scim2Factory } from './scim2/index.js';
import { spmlFactory } from './spml/index.js';
import type { ConnectorConfig, ConnectorFactory, OutboundConnector } from './types.js';

/** The connectors that ship with the server. */
export const BUILTIN_CONNECTORS: readonly ConnectorFactory[] = [scim2Factory, scim11Factory, spmlFactory, googleFactory, salesforceFactory];

export class ConnectorRegistry {
  private readonly factories = new Map<string, ConnectorFactory>();

  constructor(factories: readonly ConnectorFactory[] = BUILTIN_CONNECTORS) {
    for (const f of factories) this.register(f);
  }

  register(factory: ConnectorFactory): void {
    if (this.factories.has(factory.type)) throw new Error(`Connector type '${factory.type}' is registered twice`);
    this.factories.set(factory.type, factory);
  }

  types(): string[] {
    return [...this.factories.keys()];
  }

  factory(type: string): ConnectorFactory | undefined {
    return this.factories.get(type);
  }

  create(config: ConnectorConfig): OutboundConnector {
    const factory = this.factories.get(config.type);
    if (!factory) throw new ConnectorMisconfigured(`Unknown connector type '${config.type}'`);
    return factory.create(config);
  }
}

function isFactory(value: unknown): value is ConnectorFactory {
  const f = value as Partial<ConnectorFactory> | undefined;
  return (
    typeof f === 'object' &&
    f !== null &&
    typeof f.type === 'string' &&
    f.type !== '' &&
    typeof f.create === 'function' &&
    typeof f.validate === 'function' &&
    Array.isArray(f.secretFields)
  );
}

/**
 * Builds the registry: the built-in connectors plus each plug-in module. A plug-in that cannot be loaded or
 * does not export a factory stops start-up with a message naming it (a worker that silently lacked a
 * connector would hold every delivery to it).
 */
export async function loadConnectorRegistry(plugins: readonly string[], cwd = process.cwd()): Promise<ConnectorRegistry> {
  const registry = new ConnectorRegistry();
  for (const spec of plugins) {
    const target = spec.startsWith('.') || path.isAbsolute(spec) ? pathToFileURL(path.resolve(cwd, spec)).href : spec;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(target)) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`CONNECTOR_PLUGINS: cannot load '${spec}': ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const factory = [mod.default, mod.connectorFactory].find(isFactory);
    if (!factory) {
      throw new Error(`CONNECTOR_PLUGINS: '${spec}' exports no connector factory (default or connectorFactory with type, create, validate, secretFields)`);
    }
    try {
      registry.register(factory);
    } catch (err) {
      throw new Error(`CONNECTOR_PLUGINS: '${spec}': ${(err as Error).message}`, { cause: err });
    }
  }
  return registry;
}
