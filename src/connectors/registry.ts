/**
 * The connector registry: connector type -> factory. New connectors register here (and custom plug-ins
 * will be loaded into it by configuration).
 */
import { ConnectorMisconfigured } from './errors.js';
import { scim2Factory } from './scim2/index.js';
import type { ConnectorConfig, ConnectorFactory, OutboundConnector } from './types.js';

export class ConnectorRegistry {
  private readonly factories = new Map<string, ConnectorFactory>();

  constructor(factories: ConnectorFactory[] = [scim2Factory]) {
    for (const f of factories) this.register(f);
  }

  register(factory: ConnectorFactory): void {
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
