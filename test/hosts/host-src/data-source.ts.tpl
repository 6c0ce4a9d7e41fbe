import { DataSource } from 'typeorm';
import { LOST_REASON_ENTITIES, LOST_REASON_MIGRATIONS } from 'nestjs-lost-reason';
import { databaseOptions } from './database__EXT__';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL is not set');

/** For the TypeORM CLI: `npx typeorm migration:run -d dist/data-source.js`. */
export default new DataSource({
  ...databaseOptions(url),
  entities: [...LOST_REASON_ENTITIES],
  migrations: [...LOST_REASON_MIGRATIONS],
  synchronize: false,
});
