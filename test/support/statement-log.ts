import { Logger as TypeOrmLogger } from 'typeorm';

/** A TypeORM logger that records the SQL statements sent (trimmed), for tests that count them. */
export class StatementLog implements TypeOrmLogger {
  statements: string[] = [];
  logQuery(query: string) {
    this.statements.push(query.trim());
  }
  logQueryError() {}
  logQuerySlow() {}
  logSchemaBuild() {}
  logMigration() {}
  log() {}
}
