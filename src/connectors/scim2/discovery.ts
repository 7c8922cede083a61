/**
 * Which update method a SCIM 2.0 target gets: PATCH when its ServiceProviderConfig (RFC 7643 §5, served at
 * `<base>/ServiceProviderConfig`, RFC 7644 §4) says `patch.supported`, PUT otherwise.
 *
 * Connectors are built per delivery, so what a target said is kept at module level (one cache per worker
 * process) for DISCOVERY_TTL_MS, keyed by the ServiceProviderConfig URL and the credential's fingerprint (a hash:
 * another credential may see another configuration, and a fixed credential is asked again). A discovery that
 * fails (404, network, 5xx) means PUT until the entry expires; so does a target that refused a PATCH (501, 405):
 * every SCIM 2.0 service provider has PUT (RFC 7644 §3.5.1).
 */
import { ConnectorMisconfigured } from '../errors.js';

export type UpdateMethod = 'patch' | 'put';

/** How long a target's answer (or its failure to answer) is trusted. */
export const DISCOVERY_TTL_MS = 10 * 60_000;

interface Decision {
  method: UpdateMethod;
  expiresAt: number;
  /** Why, for debugging: 'patch.supported', 'discovery failed: ...', 'PATCH answered 501'. */
  why: string;
}

const decisions = new Map<string, Decision>();
const inFlight = new Map<string, Promise<Decision>>();

/**
 * The ServiceProviderConfig URL of a target: `override`, else the user endpoint without its trailing `/Users`
 * (the SCIM base URL, RFC 7644 §3.2), else the user endpoint's parent path.
 */
export function serviceProviderConfigUrl(userEndpoint: string, override?: string): string {
  if (override !== undefined) return override;
  const url = new URL(userEndpoint);
  url.search = '';
  url.hash = '';
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = `${/\/Users$/i.test(path) ? path.slice(0, -'/Users'.length) : path.slice(0, path.lastIndexOf('/'))}/ServiceProviderConfig`;
  return url.toString();
}

/**
 * The update method for `key` (ServiceProviderConfig URL + credential fingerprint): the cached decision while it
 * is fresh, else what `fetchConfig` returns. Concurrent callers share one discovery. A ConnectorMisconfigured
 * (the target refused our credentials) is thrown and not remembered: the update itself would meet it too.
 */
export async function discoverUpdateMethod(key: string, fetchConfig: () => Promise<unknown>, now: () => number = Date.now): Promise<UpdateMethod> {
  const cached = decisions.get(key);
  if (cached && now() < cached.expiresAt) return cached.method;
  let pending = inFlight.get(key);
  if (!pending) {
    pending = (async (): Promise<Decision> => {
      let config: unknown;
      try {
        config = await fetchConfig();
      } catch (err) {
        if (err instanceof ConnectorMisconfigured) throw err;
        return { method: 'put', expiresAt: now() + DISCOVERY_TTL_MS, why: `discovery failed: ${err instanceof Error ? err.message : String(err)}` };
      }
      const patch = (config as { patch?: { supported?: unknown } } | undefined)?.patch;
      return patch?.supported === true
        ? { method: 'patch', expiresAt: now() + DISCOVERY_TTL_MS, why: 'patch.supported' }
        : { method: 'put', expiresAt: now() + DISCOVERY_TTL_MS, why: 'patch not supported' };
    })().finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  const decision = await pending;
  decisions.set(key, decision);
  return decision.method;
}

/** The target refused a PATCH it announced (or that was configured): PUT for DISCOVERY_TTL_MS. */
export function rememberPutOnly(key: string, why: string, now: () => number = Date.now): void {
  decisions.set(key, { method: 'put', expiresAt: now() + DISCOVERY_TTL_MS, why });
}

/** What is cached for `key`, if anything (tests, diagnostics). */
export function cachedDecision(key: string): Readonly<Decision> | undefined {
  return decisions.get(key);
}

/** Forgets every decision (tests). */
export function clearDiscoveryCache(): void {
  decisions.clear();
}
