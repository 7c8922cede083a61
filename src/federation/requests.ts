/**
 * Logins sent to an identity provider and not yet back (table `federation_request`). Each carries the values that
 * bind the IdP's answer to this very login: `state` (its keyed digest is the row's key, so the database never holds a
 * usable state), `nonce` and the PKCE `code_verifier` (sealed with the keyring), and the interaction it belongs to.
 *
 * A request is consumed once: the first callback with its state takes it (an atomic update), a replayed or forged
 * callback finds nothing. It expires after REQUEST_TTL_MS. After the callback the row keeps the JitProvision workflow
 * id, so the prompt pages of that login find their workflow through the interaction (never through anything in the
 * URL the person could change to reach another login's workflow).
 */
import crypto from 'node:crypto';
import * as oidc from 'openid-client';
import { KeyedDigest } from '../crypto/keyed-digest.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { PrismaClient } from '../db/client.js';

/** How long a person may spend at the identity provider before its answer is refused. */
export const REQUEST_TTL_MS = 10 * 60_000;
/** Rows kept after their callback, for the prompt pages (a prompt waits at most an hour: src/federation/config.ts). */
const KEEP_AFTER_CALLBACK_MS = 2 * 60 * 60_000;
/** One sweep of old rows per this many new ones, on average. */
const SWEEP_EVERY = 50;

/** What a login sent to an IdP needs back when it returns. */
export interface PendingFederation {
  id: string;
  interactionUid: string;
  idpId: string;
  applicationId: string;
  nonce: string;
  codeVerifier: string;
  /** The JitProvision workflow of this login, once the callback has started it. */
  workflowId?: string | undefined;
}

interface SealedPart {
  nonce: string;
  codeVerifier: string;
  applicationId: string;
  workflowId?: string | undefined;
}

export class FederationRequests {
  private readonly digest: KeyedDigest;

  constructor(
    private readonly db: PrismaClient,
    private readonly box: SecretBox,
    private readonly now: () => number = Date.now,
  ) {
    this.digest = new KeyedDigest(box.keyring, 'federation-state');
  }

  /** Records a new login for an IdP; answers the values to send with it (state, nonce, PKCE challenge). */
  async create(args: { interactionUid: string; idpId: string; applicationId: string }) {
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const sealed: SealedPart = { nonce, codeVerifier, applicationId: args.applicationId };
    await this.db.federationRequest.create({
      data: {
        id: this.digest.digest(state),
        interactionUid: args.interactionUid,
        idpId: args.idpId,
        sealed: this.box.sealString(JSON.stringify(sealed)),
        expiresAt: new Date(this.now() + REQUEST_TTL_MS),
      },
    });
    if (crypto.randomInt(SWEEP_EVERY) === 0) await this.sweep();
    return { state, nonce, codeChallenge: await oidc.calculatePKCECodeChallenge(codeVerifier) };
  }

  /**
   * Takes the login a callback's `state` names, once: undefined when the state is unknown, expired or already used
   * (a replayed callback), so nothing of a second answer is ever acted on.
   */
  async consume(state: string): Promise<PendingFederation | undefined> {
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(state)) return undefined;
    const now = new Date(this.now());
    for (const id of this.digest.candidates(state)) {
      const { count } = await this.db.federationRequest.updateMany({
        where: { id, consumedAt: null, expiresAt: { gt: now } },
        data: { consumedAt: now },
      });
      if (count === 1) return this.read(id);
    }
    return undefined;
  }

  /** Remembers the JitProvision workflow of a consumed login, for its prompt pages. */
  async attachWorkflow(pending: PendingFederation, workflowId: string): Promise<void> {
    const sealed: SealedPart = { nonce: pending.nonce, codeVerifier: pending.codeVerifier, applicationId: pending.applicationId, workflowId };
    await this.db.federationRequest.update({ where: { id: pending.id }, data: { sealed: this.box.sealString(JSON.stringify(sealed)) } });
  }

  /** The consumed login of an interaction that is waiting at a prompt (the newest, if the person tried twice). */
  async forInteraction(interactionUid: string): Promise<PendingFederation | undefined> {
    const row = await this.db.federationRequest.findFirst({
      where: { interactionUid, consumedAt: { not: null, gt: new Date(this.now() - KEEP_AFTER_CALLBACK_MS) } },
      orderBy: { consumedAt: 'desc' },
    });
    return row ? this.read(row.id) : undefined;
  }

  private async read(id: string): Promise<PendingFederation | undefined> {
    const row = await this.db.federationRequest.findUnique({ where: { id } });
    if (!row) return undefined;
    const part = JSON.parse(this.box.openString(row.sealed)) as SealedPart;
    return { id: row.id, interactionUid: row.interactionUid, idpId: row.idpId, ...part };
  }

  private async sweep(): Promise<void> {
    await this.db.federationRequest.deleteMany({ where: { createdAt: { lt: new Date(this.now() - KEEP_AFTER_CALLBACK_MS) } } });
  }
}
