import { dropModuleSchema, testedDatabases } from './databases';

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
  for (const db of testedDatabases()) await dropModuleSchema(db);
});
// After every file too: the count table and its triggers must not outlive this project's files,
// or the synchronize projects' apps would find them and count with them.
afterAll(async () => {
  for (const db of testedDatabases()) await dropModuleSchema(db);
});
