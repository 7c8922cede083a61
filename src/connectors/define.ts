/**
 * Builds a ConnectorFactory from a connector's zod schemas, so every built-in connector validates and reports its
 * configuration the same way: one line per problem (`path: message`), settings and secrets checked together, then
 * the connector's own cross-field checks (`check`, given both parse results, so it can look at whichever parsed),
 * and `create` refusing a bad configuration with ConnectorMisconfigured (which quarantines the connector).
 *
 * @example
 * export const fooFactory = defineConnector({
 *   type: 'foo', label: 'Foo', settings: fooSettings, secrets: fooSecrets, secretFields: ['password'],
 *   check: (s) => (s.success && s.data.mode === 'x' && !s.data.url ? ['url: required in mode x'] : []),
 *   build: (settings, secrets) => new FooConnector(settings, secrets),
 * });
 */
import type { z } from 'zod';
import { ConnectorMisconfigured } from './errors.js';
import type { ConnectorConfig, ConnectorFactory, OutboundConnector } from './types.js';

export function defineConnector<S extends z.ZodType, T extends z.ZodType>(def: {
  type: string;
  /** For error messages: "SCIM 2.0", "Google". */
  label: string;
  settings: S;
  secrets: T;
  secretFields: readonly string[];
  check?: (settings: z.ZodSafeParseResult<z.output<S>>, secrets: z.ZodSafeParseResult<z.output<T>>, config: ConnectorConfig) => string[];
  build: (settings: z.output<S>, secrets: z.output<T>) => OutboundConnector;
}): ConnectorFactory {
  const validate = (config: ConnectorConfig): string[] => {
    const settings = def.settings.safeParse(config.settings);
    const secrets = def.secrets.safeParse(config.secrets);
    const issues = [...(settings.success ? [] : settings.error.issues), ...(secrets.success ? [] : secrets.error.issues)];
    return [...issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`), ...(def.check?.(settings, secrets, config) ?? [])];
  };
  return {
    type: def.type,
    secretFields: def.secretFields,
    validate,
    create(config) {
      const issues = validate(config);
      if (issues.length > 0) throw new ConnectorMisconfigured(`${def.label} connector settings: ${issues.join('; ')}`);
      return def.build(def.settings.parse(config.settings), def.secrets.parse(config.secrets));
    },
  };
}
