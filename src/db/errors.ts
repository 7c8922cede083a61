import { Prisma } from '../generated/prisma/client.js';

/** A unique constraint refused the write (Prisma P2002), e.g. a concurrent insert of the same key. */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}
