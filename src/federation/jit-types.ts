/**
 * The contract between the federation callback (src/http/federation/) and the JitProvision workflow
 * (workflows/jit-provision.ts): its input, the outcomes it answers with, and the person's answer to a prompt.
 * Types and one constant only, so workflow code imports it.
 */
import type { JitSettings } from './config.js';

/**
 * Every JitProvision's workflow id starts so (src/federation/jit-client.ts jitWorkflowId): the user store keys its
 * writes by run as well (activities/user-store.ts requestId), since every login of one person is a run of one id.
 */
export const JIT_WORKFLOW_PREFIX = 'jit-';

/** The federated identity a login proved: the IdP's issuer and subject (OIDC Core §2: unique together). */
export interface FederatedIdentity {
  idpId: string;
  idpName: string;
  issuer: string;
  subject: string;
}

/**
 * The claims of one login: the ID token's, merged with userinfo's when userinfo answered for the same `sub`.
 * `email_verified` is kept only when it was asserted for the very `email` kept (Keycloak CVE-2026-9087): the relying
 * party drops it when userinfo's email differs from the ID token's.
 */
export type FederatedClaims = Record<string, unknown>;

export interface JitProvisionInput {
  identity: FederatedIdentity;
  claims: FederatedClaims;
  /** The application being logged into: its (and the resident SP's) outbound links with Enable JIT get the user. */
  applicationId: string;
  /** The IdP's JIT settings when the login came back (a login uses one consistent set, whatever an operator does). */
  settings: JitSettings;
  /** How long a login waits for the blocking outbound targets before it is answered. */
  blockingTimeoutMs: number;
}

/** Why an answer to a prompt was refused: the page shows the texts module's words for it. */
export type JitPromptErrorCode = 'username_taken' | 'username_invalid' | 'password_refused' | 'answer_refused';

/** Which prompt the person is shown (WSO2's schemes other than "provision silently"). */
export type JitPromptKind = 'username_password_consent' | 'password_consent' | 'consent';

/** Why a login through JIT did not end with a local user. `message` is for the person: clear, and leaking nothing. */
export type JitFailureReason =
  | 'jit_disabled' // JIT off and no linked or associable user
  | 'username_taken' // silent JIT: an unlinked local user has that name (never taken over: WSO2-2024-3179)
  | 'invalid_claims' // the claims do not make a valid user (no usable username, a value the store refuses)
  | 'inactive' // the linked user is deactivated here
  | 'declined' // the person declined consent
  | 'abandoned' // the prompt timed out
  | 'target_failed' // a blocking outbound target refused (fail closed)
  | 'provisioning_failed';

export type JitOutcome =
  | { state: 'done'; userId: string; userName: string; domain: string; created: boolean; linkedBy: 'existing' | 'jit' | 'email' | 'prompt' }
  | {
      state: 'prompt';
      prompt: JitPromptKind;
      /** The username the IdP suggested (the person may change it under username_password_consent). */
      suggestedUserName: string;
      /** What will be stored, for the consent text: SCIM attribute and value, in the order shown. */
      attributes: Array<{ attribute: string; value: string }>;
      /** Set when a previous answer was refused (e.g. the chosen username is taken), in English, for logs and the API. */
      error?: string | undefined;
      /** Why, for the page's text (src/http/pages/texts.ts `jit.prompt.error.*`); `error` then carries the detail. */
      errorCode?: JitPromptErrorCode | undefined;
    }
  | { state: 'failed'; reason: JitFailureReason; message: string };

/**
 * The person's answer to a prompt, sent by the prompt page as a workflow Update (validated before it is accepted).
 * `password` is sealed by the api (src/crypto/sealed-secret.ts) before it leaves the process, like every password.
 */
export interface JitAnswer {
  consent: boolean;
  userName?: string | undefined;
  password?: string | undefined;
}
