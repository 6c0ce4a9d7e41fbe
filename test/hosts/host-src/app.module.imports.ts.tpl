import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LOST_REASON_MIGRATIONS, LostReasonModule } from 'nestjs-lost-reason';
import { apiKeysFrom } from './api-keys__EXT__';
import { databaseOptions } from './database__EXT__';
import { OpportunitiesModule } from './opportunities/opportunities.module__EXT__';
