import { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions } from 'typeorm';
import { LostReason, LostReasonModule } from '../../lib';
import { DATABASES, DatabaseName } from './databases';

export const API_KEY = 'sk_test_e2e_4eC39HqLyjWDarjtT1zdp7dc';
export const RESOURCE = '/api/crm/opportunity-lost-reason';
export const auth = { Authorization: `Bearer ${API_KEY}` };

/** TypeORM options of a host app on one of the test databases. */
export function hostDatabase(db: DatabaseName, extra: Partial<DataSourceOptions> = {}): DataSourceOptions {
  return { ...DATABASES[db], entities: [LostReason], synchronize: true, ...extra } as DataSourceOptions;
}

/**
 * Boots a host app: its own TypeORM connection plus whatever modules a test adds (by
 * default the module with one API key). The table starts empty.
 */
export async function createHostApp(
  db: DatabaseName,
  imports: ModuleMetadata['imports'] = [LostReasonModule.forRoot({ apiKeys: [API_KEY] })],
  configure?: (app: INestApplication) => void,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [TypeOrmModule.forRoot({ ...hostDatabase(db), retryAttempts: 0 }), ...imports],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  configure?.(app);
  await app.init();
  await app.get(DataSource).getRepository(LostReason).clear();
  return app;
}
