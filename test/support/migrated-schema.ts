import { DataSource, DataSourceOptions } from 'typeorm';
import { DATABASES, testedDatabases } from './databases';

/**
 * Set-up of the e2e-migrations jest project: host apps build their schema with the shipped
 * migrations instead of synchronize (see `hostDatabase`).
 */
process.env.LOST_REASON_SCHEMA = 'migrations';
// The schema does not depend on the HTTP adapter: one is enough here, unless ADAPTER says otherwise.
process.env.ADAPTER ??= 'express';

// Before every file: files of the synchronize projects may run in between and leave a table that
// the migrations did not create (and that would make the first migration fail or hide a gap).
beforeAll(async () => {
  for (const db of testedDatabases()) {
    if (db === 'sqlite') continue; // in memory: every data source starts empty
    const dataSource = new DataSource(DATABASES[db] as DataSourceOptions);
    await dataSource.initialize();
    const queryRunner = dataSource.createQueryRunner();
    try {
      await queryRunner.dropTable('opportunity_lost_reason', true);
      await queryRunner.dropTable('opportunity_lost_reason_idempotency', true);
      await queryRunner.dropTable('migrations', true);
    } finally {
      await queryRunner.release();
      await dataSource.destroy();
    }
  }
});
