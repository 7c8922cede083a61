/**
 * The password policy (WSO2's "Password Patterns" and length limits): checked wherever a password is set,
 * before it is hashed. Settings come from src/config.ts (PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH,
 * PASSWORD_PATTERN, PASSWORD_PATTERN_DESCRIPTION).
 */
export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
  /** A regular expression (source) every password must match, e.g. `(?=.*\d)(?=.*[a-z])(?=.*[A-Z])`. */
  pattern?: string | undefined;
  /** What the pattern requires, in words, for the error message. */
  patternDescription?: string | undefined;
}

/** Returns what is wrong with the password, or undefined if it satisfies the policy. Never echoes it. */
export function checkPassword(policy: PasswordPolicy, password: string): string | undefined {
  const length = [...password].length;
  if (length < policy.minLength) return `it must be at least ${policy.minLength} characters long`;
  if (length > policy.maxLength) return `it must be at most ${policy.maxLength} characters long`;
  if (policy.pattern !== undefined && !new RegExp(policy.pattern, 'u').test(password)) {
    return policy.patternDescription ?? `it must match the pattern ${policy.pattern}`;
  }
  return undefined;
}
