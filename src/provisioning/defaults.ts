/**
 * Rows every installation has: the PRIMARY user store domain and the resident service provider. Created
 * with INSERT ... ON CONFLICT DO NOTHING so the api and the worker can both ensure them at start-up
 * without racing.
 */
import type { PrismaClient } from '../db/client.js';

export const PRIMARY_DOMAIN_ID = '00000000-0000-4000-8000-000000000001';
export const RESIDENT_APPLICATION_ID = '00000000-0000-4000-8000-000000000002';
export const RESIDENT_APPLICATION_NAME = 'resident';

export async function ensureDefaults(db: PrismaClient): Promise<void> {
  await db.$executeRaw`
    INSERT INTO user_store_domain (id, name, description)
    VALUES (${PRIMARY_DOMAIN_ID}::uuid, 'PRIMARY', 'The primary user store domain')
    ON CONFLICT DO NOTHING`;
  await db.$executeRaw`
    INSERT INTO application (id, name, description, is_resident, inbound_domain_id, updated_at)
    VALUES (${RESIDENT_APPLICATION_ID}::uuid, ${RESIDENT_APPLICATION_NAME},
            'The resident service provider: its outbound provisioning applies to every user-management operation',
            true, ${PRIMARY_DOMAIN_ID}::uuid, now())
    ON CONFLICT DO NOTHING`;
}
