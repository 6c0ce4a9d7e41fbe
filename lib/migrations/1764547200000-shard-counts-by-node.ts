import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE = 'opportunity_lost_reason';
const COUNT = 'opportunity_lost_reason_count';
/** Counter rows per tenant and server, as in `CountOpportunityLostReasons1764374400000`. */
const SHARDS = 16;
/** Server buckets: 2048 × 16 shards still fit the counter's `smallint` shard. */
const SERVER_BUCKETS = 2048;

/**
 * MySQL/MariaDB: the count triggers pick a counter row by connection *and server*, so that the
 * nodes of a multi-primary cluster (MariaDB Galera) update rows of their own. Connection ids are
 * per server: on a cluster, creates through different nodes picked the same rows, and Galera's
 * certification refused one of two such concurrent commits (a deadlock error, answered 503). The
 * server is told by its host name and port. Rows already counted stay where they are: a total is
 * the sum over all of a tenant's rows. PostgreSQL and SQLite have one writer node: nothing changes.
 */
export class ShardCountsByNode1764547200000 implements MigrationInterface {
  /** Explicit, so the name TypeORM records survives bundlers that rename classes. */
  name = 'ShardCountsByNode1764547200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (!isMysql(queryRunner)) return;
    await recreateTriggers(queryRunner, `(CRC32(CONCAT(@@hostname, ':', @@port)) % ${SERVER_BUCKETS}) * ${SHARDS} + CONNECTION_ID() % ${SHARDS}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (!isMysql(queryRunner)) return;
    await recreateTriggers(queryRunner, `CONNECTION_ID() % ${SHARDS}`);
  }
}

const isMysql = (queryRunner: QueryRunner): boolean => ['mysql', 'mariadb'].includes(queryRunner.connection.driver.options.type);

/** The three count triggers of the count migration, with `shard` as the counter row's shard. */
async function recreateTriggers(queryRunner: QueryRunner, shard: string): Promise<void> {
  for (const event of ['insert', 'delete', 'update']) await queryRunner.query(`DROP TRIGGER IF EXISTS ${COUNT}_${event}`);
  const add = (tenant: string, delta: string) =>
    `INSERT INTO ${COUNT} (tenant_id, shard, n) VALUES (${tenant}, ${shard}, ${delta}) ON DUPLICATE KEY UPDATE n = n + (${delta})`;
  await queryRunner.query(`CREATE TRIGGER ${COUNT}_insert AFTER INSERT ON ${TABLE} FOR EACH ROW ${add('NEW.tenant_id', '1')}`);
  await queryRunner.query(`CREATE TRIGGER ${COUNT}_delete AFTER DELETE ON ${TABLE} FOR EACH ROW ${add('OLD.tenant_id', '-1')}`);
  await queryRunner.query(
    `CREATE TRIGGER ${COUNT}_update AFTER UPDATE ON ${TABLE} FOR EACH ROW ` +
      `BEGIN IF NEW.tenant_id <> OLD.tenant_id THEN ${add('OLD.tenant_id', '-1')}; ${add('NEW.tenant_id', '1')}; END IF; END`,
  );
}
