import { MigrationInterface } from 'typeorm';
import { CreateOpportunityLostReason1764115200000 } from './1764115200000-create-opportunity-lost-reason';
import { AddTenantToOpportunityLostReason1764201600000 } from './1764201600000-add-tenant-to-opportunity-lost-reason';
import { CreateOpportunityLostReasonIdempotency1764288000000 } from './1764288000000-create-opportunity-lost-reason-idempotency';
import { CountOpportunityLostReasons1764374400000 } from './1764374400000-count-opportunity-lost-reasons';
import { StoreIdempotencyTenantsAsHex1764460800000 } from './1764460800000-store-idempotency-tenants-as-hex';
import { ShardCountsByNode1764547200000 } from './1764547200000-shard-counts-by-node';

export {
  AddTenantToOpportunityLostReason1764201600000,
  CountOpportunityLostReasons1764374400000,
  CreateOpportunityLostReason1764115200000,
  CreateOpportunityLostReasonIdempotency1764288000000,
  ShardCountsByNode1764547200000,
  StoreIdempotencyTenantsAsHex1764460800000,
};
export { recountLostReasons } from './1764374400000-count-opportunity-lost-reasons';
export { assignUntenantedLostReasons, unassignLostReasons } from './assign-tenant.util';

/**
 * The module's TypeORM migrations, oldest first. Add them to your data source's `migrations`
 * (next to your own) and run them with `migrationsRun: true` or the TypeORM CLI: they create
 * and evolve the tables `opportunity_lost_reason`, `opportunity_lost_reason_idempotency` and
 * `opportunity_lost_reason_count` (with the triggers that keep it) when `synchronize` is off.
 *
 * @example
 * new DataSource({ ...options, synchronize: false, migrations: [...LOST_REASON_MIGRATIONS, ...ownMigrations] });
 */
export const LOST_REASON_MIGRATIONS: Array<new () => MigrationInterface> = [
  CreateOpportunityLostReason1764115200000,
  AddTenantToOpportunityLostReason1764201600000,
  CreateOpportunityLostReasonIdempotency1764288000000,
  CountOpportunityLostReasons1764374400000,
  StoreIdempotencyTenantsAsHex1764460800000,
  ShardCountsByNode1764547200000,
];
