/**
 * JitProvision: one per federated login (issue #9). Its id is the identity's (`jit-<idp name>-<hash of iss and sub>`,
 * src/federation/jit-client.ts) and the callback starts it with update-with-start (USE_EXISTING), so ten concurrent
 * first logins of one person meet in one run: one user, one link, one outbound create.
 *
 * What it decides, in order:
 * - an existing link always wins: that user logs in (refused if inactive), updated per the sync mode;
 * - else association by verified email, when the IdP allows it (every scheme: WSO2 #19493 did it only in silent
 *   mode): the link is recorded, then the same update;
 * - else JIT off: failed `jit_disabled`;
 * - provision silently: the user is created in the IdP's user store domain with the mapped attributes and no
 *   password; a local user who holds that username is never taken over (WSO2-2024-3179): failed `username_taken`;
 * - the prompt schemes answer a `prompt` and wait for the person's answer (jitAnswer, validated) for at most
 *   promptTimeoutSeconds; a username typed at the prompt that exists here is refused and the prompt shown again: it
 *   is never asserted as that local user (CVE-2023-6837). Timeout: `abandoned`, nothing created.
 * Then the change goes to OutboundFanOut for the targets linked with Enable JIT, waiting for the blocking ones like
 * InboundProvision (the shared code: workflows/provision-saga.ts); a refusal is compensated (a created user deleted,
 * an update restored, a link made by this run removed) and, when the IdP fails closed, the login fails
 * `target_failed`. Groups the IdP asserts are synced authoritatively after the user change stands.
 *
 * The user itself is written by the user-store activities InboundProvision uses; a password chosen at a prompt
 * arrives sealed (the api seals it) and only the store's activity opens it to hash it.
 */
import {
  allHandlersFinished,
  condition,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { JitPreparation } from '../activities/jit.js';
import type { JitScheme } from '../src/federation/config.js';
import type { JitAnswer, JitFailureReason, JitOutcome, JitPromptErrorCode, JitPromptKind, JitProvisionInput } from '../src/federation/jit-types.js';
import type { DeliveryReport, Initiator, MultiValue, OutboundTarget, UserInput, UserRecord } from '../src/provisioning/types.js';
import type { UserSnapshot } from '../src/userstore/users.js';
import { IdentityProviderKey, ProvisioningOutcomeKey, UserIdKey, UserNameKey } from '../src/temporal/search-attributes.js';
import { configRead, roleProvisioningHandOver, userStoreWrite } from './activity-profiles.js';
import { keyword } from './keyword.js';
import { deliveryReportSignal, jitAnswerUpdate, jitProgressUpdate } from './messages.js';
import { compensate, fanOut } from './provision-saga.js';

type Activities = ReturnType<typeof createActivities>;

// Local activities (workflows/activity-profiles.ts): the person waits for each of them.
const store = proxyLocalActivities<Activities>(userStoreWrite);
const writes = proxyLocalActivities<Activities>(userStoreWrite);
const reads = proxyLocalActivities<Activities>(configRead);
const handOver = proxyActivities<Activities>(roleProvisioningHandOver);

const PROMPTS: Record<Exclude<JitScheme, 'provision_silently'>, JitPromptKind> = {
  prompt_username_password_consent: 'username_password_consent',
  prompt_password_consent: 'password_consent',
  prompt_consent: 'consent',
};

/** The longest username an answer may carry (4 x the store's 255 code points, as the store's own input bound). */
export const MAX_ANSWER_USERNAME_LENGTH = 1020;
/** The longest sealed password an answer may carry (a 1,024-character password sealed, with room to spare). */
export const MAX_ANSWER_SEALED_PASSWORD_LENGTH = 8192;
/** The form src/crypto/sealed-secret.ts gives a sealed value (that module uses node:crypto, so it is not imported). */
const SEALED_PREFIX = 'sealed:v1:';
/** Answers one prompt may refuse before the login is given up (keeps a run's history bounded). */
export const MAX_PROMPT_ANSWERS = 20;

/**
 * The jitAnswer validator: refuses an answer when no prompt waits for one, and answers of the wrong shape. Throws
 * (the Update is then rejected, nothing of it in history) with a message the prompt page may show.
 */
export function validateJitAnswer(answer: JitAnswer, shown: JitOutcome | undefined): void {
  if (shown?.state !== 'prompt') throw new Error('This sign-in is not waiting for an answer');
  if (typeof answer !== 'object' || answer === null) throw new Error('The answer is not an object');
  const extra = Object.keys(answer).filter((k) => !['consent', 'userName', 'password'].includes(k));
  if (extra.length > 0) throw new Error(`Unexpected fields in the answer: ${extra.slice(0, 5).join(', ')}`);
  if (typeof answer.consent !== 'boolean') throw new Error('consent must be true or false');
  if (answer.userName !== undefined && (typeof answer.userName !== 'string' || answer.userName.length > MAX_ANSWER_USERNAME_LENGTH)) {
    throw new Error(`The username must be text of at most ${MAX_ANSWER_USERNAME_LENGTH} characters`);
  }
  if (answer.password !== undefined) {
    if (typeof answer.password !== 'string' || answer.password.length > MAX_ANSWER_SEALED_PASSWORD_LENGTH) throw new Error('The password is too long');
    // A password in clear would be in this workflow's history for anyone who can decode it: refused, not stored.
    if (!answer.password.startsWith(SEALED_PREFIX)) throw new Error('The password must be sealed by the api before it is sent');
  }
  if (!answer.consent) return;
  if (shown.prompt === 'username_password_consent' && (answer.userName === undefined || answer.userName.trim() === '')) throw new Error('Choose a username');
  if (shown.prompt !== 'consent' && answer.password === undefined) throw new Error('Choose a password');
  if (shown.prompt !== 'username_password_consent' && answer.userName !== undefined) throw new Error('This prompt does not let you choose a username');
  if (shown.prompt === 'consent' && answer.password !== undefined) throw new Error('This prompt does not ask for a password');
}

function primaryValue(values: readonly MultiValue[]): string | undefined {
  return (values.find((v) => v.primary) ?? values[0])?.value;
}

export async function jitProvision(input: JitProvisionInput): Promise<JitOutcome> {
  const reports = new Map<string, DeliveryReport>();
  /** What the login stands at: undefined while the workflow works (jitProgress waits), else done, prompt or failed. */
  let shown: JitOutcome | undefined;
  /** Bumped each time `shown` is set, so an answer's Update waits for the outcome that follows it. */
  let revision = 0;
  let answer: JitAnswer | undefined;
  const show = (outcome: JitOutcome) => {
    shown = outcome;
    revision++;
  };
  // Handlers set before the first await: a blocking target may report, and the callback asks, at once.
  setHandler(deliveryReportSignal, (report) => {
    reports.set(report.connectorId, report);
  });
  setHandler(jitProgressUpdate, async () => {
    await condition(() => shown !== undefined);
    return shown!;
  });
  setHandler(
    jitAnswerUpdate,
    async (a) => {
      answer = a;
      shown = undefined; // a second answer is refused until this one is dealt with
      const seen = revision;
      await condition(() => revision > seen);
      return shown!;
    },
    { validator: (a: JitAnswer) => validateJitAnswer(a, shown) },
  );

  const outcome = await login(input, reports, {
    show,
    nextAnswer: async (timeoutMs) => {
      const got = await condition(() => answer !== undefined, timeoutMs);
      const a = answer;
      answer = undefined;
      return got ? a : undefined;
    },
  });
  show(outcome);
  upsertSearchAttributes([{ key: ProvisioningOutcomeKey, value: outcome.state === 'done' ? (outcome.created ? 'jit-created' : `jit-${outcome.linkedBy}`) : `failed-${outcome.state === 'failed' ? outcome.reason : 'prompt'}` }]);
  // Every caller waiting on jitProgress or jitAnswer gets the outcome before the run ends.
  await condition(allHandlersFinished);
  return outcome;
}

interface Prompter {
  show(outcome: JitOutcome): void;
  /** The next answer, or undefined when none came within `timeoutMs`. */
  nextAnswer(timeoutMs: number): Promise<JitAnswer | undefined>;
}

async function login(input: JitProvisionInput, reports: Map<string, DeliveryReport>, prompter: Prompter): Promise<JitOutcome> {
  const { identity, settings } = input;
  const initiator: Initiator = { applicationId: input.applicationId, channel: 'jit', label: `jit:${identity.idpName}` };
  const { workflowId, runId } = workflowInfo();
  /** A run's own event id: every login of one identity is a run of one workflow id. */
  const eventId = `${workflowId}:${runId}`;
  upsertSearchAttributes([{ key: IdentityProviderKey, value: [keyword(identity.idpName)] }]);

  const failed = (reason: JitFailureReason, message: string, detail = message): JitOutcome => {
    upsertMemo({ summary: `JIT login through ${identity.idpName}: failed ${reason}: ${detail}` });
    return { state: 'failed', reason, message };
  };
  const found = (user: UserRecord) =>
    upsertSearchAttributes([
      { key: UserIdKey, value: keyword(user.id) },
      { key: UserNameKey, value: keyword(user.userName) },
    ]);

  const prep = await reads.prepareJitLogin(input);
  if (!prep.ok) return failed('invalid_claims', `Your identity provider's answer cannot make an account here: ${prep.message}`);

  /** Sends a user change to the Enable JIT targets; on a blocking refusal, undoes it (and a link this run made). */
  const deliver = async (
    operation: 'create' | 'replace',
    user: UserRecord,
    previous: UserSnapshot | undefined,
    password: string | undefined,
    newLinkId: string | undefined,
  ): Promise<{ refused?: string | undefined; targets: OutboundTarget[] }> => {
    const { targets, failedTargets } = await fanOut(
      { initiator, blockingTimeoutMs: input.blockingTimeoutMs },
      (targets, replyTo) => ({
        eventId,
        resourceType: 'User',
        operation: operation === 'create' ? 'create' : 'update',
        localId: user.id,
        version: user.version,
        user: { ...user, password },
        targets,
        initiator,
        replyTo,
      }),
      reports,
      (t) => t.jitEnabled,
    );
    if (failedTargets.length === 0) return { targets };
    const reasons = failedTargets.map((f) => `${f.label}: ${f.error ?? 'rejected'}`).join('; ');
    if (!settings.failClosed) return { targets };
    const undone = await compensate({ operation, initiator }, user, previous, targets, eventId);
    if (newLinkId !== undefined && operation !== 'create') await writes.removeJitLink({ linkId: newLinkId });
    return { refused: `${reasons}${undone ? ` ${undone}` : ''}`, targets };
  };

  /** After the user change stands: groups, the link's last login, the verified email, the audit. */
  const finish = async (user: UserRecord, linkId: string, emailVerified: boolean | undefined, audits: Array<'jit-create' | 'jit-update' | 'jit-link'>) => {
    if (prep.groupIds !== undefined) {
      const synced = await writes.syncJitGroups({ linkId, userId: user.id, groupIds: prep.groupIds, initiator });
      if (synced.provisioningPending > 0) await handOver.enqueueRoleProvisioning({ initiator });
    }
    await writes.finishJitLogin({ linkId, userId: user.id, emailVerified, at: new Date(Date.now()).toISOString() });
    for (const operation of audits) await writes.auditJit({ userId: user.id, userName: user.userName, operation, outcome: 'applied', initiator });
  };

  /** Whether the user's primary email is verified after JIT wrote it: the IdP verified the very address kept. */
  const verifiedAfterWrite = (user: UserRecord) => prep.emailVerified && primaryValue(user.emails) === input.claims.email;

  // An existing user: the link's, or the one association by verified email found.
  const existing = async (user: UserRecord, update: UserInput | undefined, link: { id: string; made: boolean }, linkedBy: 'existing' | 'email'): Promise<JitOutcome> => {
    let current = user;
    if (update) {
      const replaced = await store.replaceUser({ id: user.id, input: update, ifMatchVersion: user.version });
      if (!replaced.ok) {
        if (settings.failClosed) {
          if (link.made) await writes.removeJitLink({ linkId: link.id });
          return failed('provisioning_failed', 'Your account here could not be updated from your identity provider; try again.', `${replaced.rejection.status} ${replaced.rejection.detail}`);
        }
      } else {
        current = replaced.user;
        const { refused } = await deliver('replace', current, replaced.previous, undefined, link.made ? link.id : undefined);
        if (refused !== undefined) {
          await writes.auditJit({ userId: user.id, userName: user.userName, operation: 'jit-update', outcome: 'failed', error: refused, initiator });
          return failed('target_failed', 'A system your account must be kept in refused the update, so the sign-in was stopped.', refused);
        }
      }
    }
    const emailChanged = current !== user && primaryValue(current.emails) !== primaryValue(user.emails);
    await finish(current, link.id, emailChanged ? verifiedAfterWrite(current) : undefined, [...(link.made ? (['jit-link'] as const) : []), ...(current !== user ? (['jit-update'] as const) : [])]);
    upsertMemo({ summary: `JIT login through ${identity.idpName}: ${linkedBy === 'email' ? 'linked by verified email to' : 'linked'} ${current.domain}/${current.userName}${current !== user ? `, updated to v${current.version}` : ', unchanged'}` });
    return { state: 'done', userId: current.id, userName: current.userName, domain: current.domain, created: false, linkedBy };
  };

  const match = prep.match;
  if (match.kind === 'linked') {
    found(match.user);
    if (match.user.active === false) return failed('inactive', 'Your account here is deactivated.');
    return existing(match.user, match.update, { id: match.linkId, made: false }, 'existing');
  }
  if (match.kind === 'email') {
    found(match.user);
    if (match.user.active === false) return failed('inactive', 'Your account here is deactivated.');
    const link = await writes.recordJitLink({ userId: match.user.id, idpId: identity.idpId, issuer: identity.issuer, subject: identity.subject, linkedBy: 'email' });
    if (!link.ok) return failed('provisioning_failed', 'Your sign-in could not be linked to your account here; try again.', link.message);
    return existing(match.user, match.update, { id: link.linkId, made: true }, 'email');
  }

  if (!settings.enabled) return failed('jit_disabled', 'There is no account here for this sign-in, and accounts are not created from this identity provider.');

  /** Creates the user (the store validates, hashes a sealed password, checks uniqueness), links it, delivers it. */
  const create = async (user: UserInput, attempt: number | undefined): Promise<JitOutcome | { rejected: { status: number; detail: string } }> => {
    const created = await store.createUser({ id: uuid4(), input: user, ...(attempt !== undefined && { attempt }) });
    if (!created.ok) return { rejected: created.rejection };
    found(created.user);
    const link = await writes.recordJitLink({ userId: created.user.id, idpId: identity.idpId, issuer: identity.issuer, subject: identity.subject, linkedBy: 'jit' });
    if (!link.ok) {
      await store.deleteUser({ id: created.user.id });
      return failed('provisioning_failed', 'Your sign-in could not be completed; try again.', link.message);
    }
    const { refused } = await deliver('create', created.user, undefined, user.password, undefined);
    if (refused !== undefined) {
      await writes.auditJit({ userId: created.user.id, userName: created.user.userName, operation: 'jit-create', outcome: 'failed', error: refused, initiator });
      return failed('target_failed', 'A system your account must be created in refused it, so the sign-in was stopped and no account was created.', refused);
    }
    await finish(created.user, link.linkId, verifiedAfterWrite(created.user), ['jit-create']);
    upsertMemo({ summary: `JIT login through ${identity.idpName}: created ${created.user.domain}/${created.user.userName}` });
    return { state: 'done', userId: created.user.id, userName: created.user.userName, domain: created.user.domain, created: true, linkedBy: 'jit' };
  };
  const usernameTaken = (userName: string) =>
    failed(
      'username_taken',
      `An account named '${userName}' already exists here and is not linked to your identity provider, so it cannot be used for this sign-in. Ask an administrator to link it.`,
    );

  if (settings.scheme === 'provision_silently') {
    if (prep.newUser.userName === '') return failed('invalid_claims', 'Your identity provider gave no username for an account here.');
    // Never take over an unlinked local user who has the name (WSO2-2024-3179): checked, and the store's uniqueness
    // refuses the create if one appeared since.
    if (match.userNameTaken) return usernameTaken(prep.newUser.userName);
    const result = await create(prep.newUser, undefined);
    if ('rejected' in result) {
      if (result.rejected.status === 409) return usernameTaken(prep.newUser.userName);
      return failed('invalid_claims', `Your identity provider's answer cannot make an account here: ${result.rejected.detail}`);
    }
    return result;
  }

  return prompted(PROMPTS[settings.scheme], prep, match.userNameTaken, create, usernameTaken, failed, prompter, settings.promptTimeoutSeconds * 1000);
}

/** The prompt schemes: shows the prompt, waits for the answer, creates the user with what the person chose. */
async function prompted(
  kind: JitPromptKind,
  prep: Extract<JitPreparation, { ok: true }>,
  suggestionTaken: boolean,
  create: (user: UserInput, attempt: number | undefined) => Promise<JitOutcome | { rejected: { status: number; detail: string } }>,
  usernameTaken: (userName: string) => JitOutcome,
  failed: (reason: JitFailureReason, message: string, detail?: string) => JitOutcome,
  prompter: Prompter,
  timeoutMs: number,
): Promise<JitOutcome> {
  const choosesName = kind === 'username_password_consent';
  if (!choosesName) {
    if (prep.newUser.userName === '') return failed('invalid_claims', 'Your identity provider gave no username for an account here.');
    if (suggestionTaken) return usernameTaken(prep.newUser.userName);
  }
  let error: string | undefined;
  let errorCode: JitPromptErrorCode | undefined;
  for (let attempt = 0; attempt < MAX_PROMPT_ANSWERS; attempt++) {
    prompter.show({ state: 'prompt', prompt: kind, suggestedUserName: prep.userName ?? '', attributes: prep.consent, ...(error !== undefined && { error, errorCode }) });
    const answer = await prompter.nextAnswer(timeoutMs);
    if (!answer) return failed('abandoned', 'The sign-in waited too long for your answer and was stopped; no account was created. Sign in again to start over.');
    if (!answer.consent) return failed('declined', 'You declined, so no account was created.');
    let user: UserInput = prep.newUser;
    if (choosesName) {
      const chosen = answer.userName!.trim();
      // A typed name is only ever a new account's name: one that exists here is refused, never logged into
      // (CVE-2023-6837). The store's uniqueness refuses it too if it appeared since.
      const check = await reads.checkJitUserName({ domain: prep.newUser.domain, userName: chosen });
      if (!check.ok) {
        error = check.message;
        errorCode = check.taken ? 'username_taken' : 'username_invalid';
        continue;
      }
      user = { ...user, userName: chosen };
    }
    if (answer.password !== undefined) user = { ...user, password: answer.password };
    const result = await create(user, attempt);
    if (!('rejected' in result)) return result;
    if (result.rejected.status === 409) {
      if (!choosesName) return usernameTaken(user.userName);
      error = `The username '${user.userName}' is already taken here; choose another`;
      errorCode = 'username_taken';
      continue;
    }
    // The password policy's refusal (or another value the store refuses) is shown on the prompt, to be answered again.
    if (kind !== 'consent' && result.rejected.detail.startsWith('The password')) {
      error = result.rejected.detail;
      errorCode = 'password_refused';
      continue;
    }
    return failed('invalid_claims', `An account cannot be made from this answer: ${result.rejected.detail}`);
  }
  return failed('abandoned', 'Too many answers were refused; no account was created. Sign in again to start over.');
}
