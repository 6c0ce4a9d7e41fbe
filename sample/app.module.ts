import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LostReasonModule } from 'nestjs-lost-reason';
import { databaseOptionsFromUrl } from './database-options';

/** Keys from API_KEYS (comma-separated); outside production a demo key when unset. */
export function apiKeysFromEnv(env = process.env): string[] {
  const keys = (env.API_KEYS ?? '').split(',').map((key) => key.trim()).filter(Boolean);
  if (keys.length > 0) return keys;
  if (env.NODE_ENV === 'production') throw new Error('API_KEYS must be set in production.');
  return ['sk_test_sample'];
}

@Module({
  imports: [
    TypeOrmModule.forRoot({
      ...databaseOptionsFromUrl(process.env.DATABASE_URL),
      autoLoadEntities: true,
      // A demo: the schema follows the entity. Production hosts use migrations instead.
      synchronize: true,
    }),
    LostReasonModule.forRoot({ apiKeys: apiKeysFromEnv() }),
  ],
})
export class AppModule {}
