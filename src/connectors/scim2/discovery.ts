/**
 * The SCIM 2.0 connector's PATCH/PUT discovery: the shared module (../scim-discovery.ts, also used by SCIM 1.1),
 * re-exported under the name the SCIM 2.0 code and tests have used.
 */
export {
  cachedDecision,
  chooseUpdateMethod,
  clearDiscoveryCache,
  discoverUpdateMethod,
  DISCOVERY_TTL_MS,
  patchOrPut,
  patchRefusal,
  rememberPutOnly,
  serviceProviderConfigUrl,
  type UpdateMethod,
  type UpdateMethodSetting,
} from '../scim-discovery.js';
