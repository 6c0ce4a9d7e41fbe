import { Inject } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, DataSourceOptions } from 'typeorm';
import { LostReasonService } from './lost-reason.service';

/**
 * The injection token of the `LostReasonService` registered on `dataSource` (the `dataSource`
 * passed to `forRoot`/`forRootAsync`): the class itself for the default data source, a token of
 * its own for a named one, so that an app registering the module on two data sources injects
 * each service by name, as `@nestjs/typeorm` does for repositories.
 */
export function getLostReasonServiceToken(dataSource?: DataSource | DataSourceOptions | string): string | typeof LostReasonService {
  const dataSourceToken = getDataSourceToken(dataSource);
  return typeof dataSourceToken === 'string' ? `LostReasonService(${dataSourceToken})` : LostReasonService;
}

/**
 * Injects the `LostReasonService` registered on `dataSource` (default: the default data source):
 *
 * ```ts
 * constructor(@InjectLostReasonService('archive') private readonly archived: LostReasonService) {}
 * ```
 */
export const InjectLostReasonService = (dataSource?: DataSource | DataSourceOptions | string): ParameterDecorator =>
  Inject(getLostReasonServiceToken(dataSource));
