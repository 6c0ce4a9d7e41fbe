import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LostReasonModule } from 'nestjs-lost-reason';
import { databaseOptionsFromUrl } from './database-options';

/** The key the sample accepts when API_KEYS names none (never in production). */
export const DEMO_API_KEY = 'sk_test_sample';

/** Keys from API_KEYS (comma-separated); outside production the demo key when it names none. */
export function apiKeysFromEnv(env = process.env): string[] {
  const keys = (env.API_KEYS ?? '').split(',').map((key) => key.trim()).filter(Boolean);
  if (keys.length > 0) return keys;
  if (env.NODE_ENV === 'production') throw new Error('API_KEYS must be set in production.');
  return [DEMO_API_KEY];
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
