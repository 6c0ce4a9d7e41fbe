import { QueryRunner } from 'typeorm';
import { isTenantId, storedTenantId } from '../tenancy/tenant-id.util';

/**
 * The migration path from a single-tenant module to tenancy: hands every object stored
 * without a tenant to `tenant`. Call it from a migration of your own, before turning tenancy
 * on (objects without a tenant are invisible to every tenant):
 *
 * ```ts
 * export class AssignLostReasonsToAcme1765000000000 implements MigrationInterface {
 *   up = (queryRunner: QueryRunner) => assignUntenantedLostReasons(queryRunner, 'acme');
 *   down = (queryRunner: QueryRunner) => unassignLostReasons(queryRunner, 'acme');
 * }
 * ```
 */
export async function assignUntenantedLostReasons(queryRunner: QueryRunner, tenant: string): Promise<void> {
  if (!isTenantId(tenant)) throw new Error('assignUntenantedLostReasons: a tenant is a non-empty string of at most 64 bytes (UTF-8).');
  await queryRunner.manager
    .createQueryBuilder()
    .update('opportunity_lost_reason')
    .set({ tenant_id: storedTenantId(tenant) })
    .where('tenant_id = :none', { none: '' })
    .execute();
}

/** The reverse of `assignUntenantedLostReasons`: `tenant`'s objects (all of them) go back to having none. */
export async function unassignLostReasons(queryRunner: QueryRunner, tenant: string): Promise<void> {
  if (!isTenantId(tenant)) throw new Error('unassignLostReasons: a tenant is a non-empty string of at most 64 bytes (UTF-8).');
  await queryRunner.manager
    .createQueryBuilder()
    .update('opportunity_lost_reason')
    .set({ tenant_id: '' })
    .where('tenant_id = :tenant', { tenant: storedTenantId(tenant) })
    .execute();
}
