/**
 * Which update method a SCIM target gets, shared by the SCIM 2.0 and SCIM 1.1 connectors: PATCH when its
 * ServiceProviderConfig says `patch.supported`, PUT otherwise. SCIM 2.0 serves it at `<base>/ServiceProviderConfig`
 * (RFC 7643 §5, RFC 7644 §4), SCIM 1.1 at `<base>/ServiceProviderConfigs` (SCIM Core Schema 1.1 §5); both carry
 * `patch.supported`.
 *
 * Connectors are built per delivery, so what a target said is kept at module level (one cache per worker
 * process) for DISCOVERY_TTL_MS, keyed by the ServiceProviderConfig URL and the credential's fingerprint (a hash:
 * another credential may see another configuration, and a fixed credential is asked again). A discovery that
 * fails (404, network, 5xx) means PUT until the entry expires; so does a target that refused a PATCH (501, 405,
 * or 400 invalidPath/noTarget, see patchRefusal): every SCIM service provider has PUT.
 */
import { ConnectorError, ConnectorMisconfigured } from './errors.js';
import { ScimRejected } from './scim-http.js';

export type UpdateMethod = 'patch' | 'put';

/** The `updateMethod` setting of a SCIM connector: `auto` asks the target; `patch` or `put` force one. */
export type UpdateMethodSetting = 'auto' | UpdateMethod;

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
 * (the SCIM base URL, RFC 7644 §3.2), else the user endpoint's parent path, followed by `resource`
 * (`ServiceProviderConfig` for SCIM 2.0, `ServiceProviderConfigs` for SCIM 1.1).
 */
export function serviceProviderConfigUrl(userEndpoint: string, override?: string, resource = 'ServiceProviderConfig'): string {
  if (override !== undefined) return override;
  const url = new URL(userEndpoint);
  url.search = '';
  url.hash = '';
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = `${/\/Users$/i.test(path) ? path.slice(0, -'/Users'.length) : path.slice(0, path.lastIndexOf('/'))}/${resource}`;
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

/**
 * The update method a connector uses now: `put` always; `patch` unless the target refused PATCH lately (see
 * rememberPutOnly); `auto` as discovered (discoverUpdateMethod).
 */
export async function chooseUpdateMethod(setting: UpdateMethodSetting, key: string, fetchConfig: () => Promise<unknown>): Promise<UpdateMethod> {
  switch (setting) {
    case 'put':
      return 'put';
    case 'patch': {
      const refused = cachedDecision(key);
      return refused && Date.now() < refused.expiresAt ? refused.method : 'patch';
    }
    case 'auto':
      return discoverUpdateMethod(key, fetchConfig);
  }
}

/** The target refused a PATCH it announced (or that was configured): PUT for DISCOVERY_TTL_MS. */
export function rememberPutOnly(key: string, why: string, now: () => number = Date.now): void {
  decisions.set(key, { method: 'put', expiresAt: now() + DISCOVERY_TTL_MS, why });
}

/** scimType values (RFC 7644 §3.12) with which a target says a PATCH named an attribute it does not have. */
const PATCH_PATH_REFUSED = new Set(['invalidPath', 'noTarget']);

/**
 * Why a failed PATCH should be sent as PUT instead, or undefined when the failure stands: the target does not
 * implement PATCH (501), does not allow it there (405), or its PATCH cannot name an attribute it lacks (400 with
 * scimType invalidPath/noTarget; SCIM 1.1 error bodies have no scimType).
 */
export function patchRefusal(err: unknown): string | undefined {
  if (!(err instanceof ConnectorError)) return undefined;
  if (err.status === 501 || err.status === 405) return `PATCH answered ${err.status}`;
  if (err instanceof ScimRejected && err.status === 400 && err.scimType !== undefined && PATCH_PATH_REFUSED.has(err.scimType)) {
    return `PATCH answered 400 ${err.scimType}`;
  }
  return undefined;
}

/**
 * Sends a resource's state with `method`: PATCH, and when the target refuses it (patchRefusal) PUT instead, PUT
 * being remembered for `key`; or PUT. The senders build their bodies lazily, so only the one sent is built.
 */
export async function patchOrPut(method: UpdateMethod, key: string, sendPatch: () => Promise<unknown>, sendPut: () => Promise<unknown>): Promise<void> {
  if (method === 'patch') {
    try {
      await sendPatch();
      return;
    } catch (err) {
      const refusal = patchRefusal(err);
      if (refusal === undefined) throw err;
      rememberPutOnly(key, refusal);
    }
  }
  await sendPut();
}

/** What is cached for `key`, if anything (tests, diagnostics). */
export function cachedDecision(key: string): Readonly<Decision> | undefined {
  return decisions.get(key);
}

/** Forgets every decision (tests). */
export function clearDiscoveryCache(): void {
  decisions.clear();
}
