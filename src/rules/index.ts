/**
 * The XACML 3.0 policy decision point's public API (see pdp.ts for how it is built). Everything under src/rules/ is
 * pure: policies and requests come in as XML text or objects, decisions go out as objects or XML.
 */
export { Pdp, PolicySyntaxError, loadPolicy, MAX_INDIVIDUAL_DECISIONS, type LoadedPolicy, type PdpConfig } from './pdp.js';
export { RequestSyntaxError, parseRequestXml, type RequestAttribute, type RequestCategory, type XacmlRequest } from './request.js';
export {
  responseToXml,
  type AttributeAssignment,
  type Decision,
  type PolicyEffectItem,
  type PolicyIdentifier,
  type Status,
  type XacmlResponse,
  type XacmlResult,
} from './response.js';
export { DataType, StatusCode, type AttributeValue, type MissingAttributeDetail } from './values.js';
