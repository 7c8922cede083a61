/**
 * Keyword search attribute values that come from client data (userName, displayName, ids from a URL), bounded so
 * Temporal never refuses them: a refused upsert fails the workflow task, which is retried without end.
 */
import { patched } from '@temporalio/workflow';
import { boundedKeyword } from '../src/temporal/search-attributes.js';

/**
 * `value` cut to the keyword bound (src/temporal/search-attributes.ts). Histories recorded before the bound set
 * longer values as they were; `patched` keeps those replaying, and is consulted only when the bound changes a value,
 * so ordinary histories gain no marker.
 */
export function keyword(value: string): string {
  const bounded = boundedKeyword(value);
  return bounded === value || !patched('bounded-search-attributes') ? value : bounded;
}
