import bcrypt from 'bcrypt';

/** bcrypt only reads the first 72 bytes; longer passwords are refused rather than silently cut. */
export const MAX_PASSWORD_BYTES = 72;
export const MIN_PASSWORD_LENGTH = 8;

/** Returns why a password is not acceptable, or null. Shared by every route that sets one. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return `must be at most ${MAX_PASSWORD_BYTES} bytes (UTF-8)`;
  if (!/[A-Za-z\p{L}]/u.test(password) || !/[0-9]/.test(password)) return 'must contain at least one letter and one digit';
  return null;
}

export function createPasswords(cost: number) {
  // Compared against when the email is unknown, so that path costs one bcrypt comparison too.
  const dummyHash = bcrypt.hash('not-a-real-password-0', cost);
  return {
    hash: (password: string) => bcrypt.hash(password, cost),
    verify: (password: string, hash: string) => bcrypt.compare(password, hash),
    async burn(password: string): Promise<false> {
      await bcrypt.compare(password, await dummyHash);
      return false;
    },
  };
}

export type Passwords = ReturnType<typeof createPasswords>;
