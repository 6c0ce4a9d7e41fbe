import { ConfigurableModuleBuilder } from '@nestjs/common';
import { LostReasonModuleExtras, LostReasonModuleOptions } from './interfaces/lost-reason-module-options.interface';
import { LOST_REASON_DEFAULTS } from './common/lost-reason.constants';

/**
 * The extras' defaults for the builder. Every extra is listed, even without a default, because
 * the builder strips exactly these keys from the options.
 */
const EXTRAS: { [K in keyof Required<LostReasonModuleExtras>]: LostReasonModuleExtras[K] } = {
  path: LOST_REASON_DEFAULTS.path,
  dataSource: undefined,
  guards: undefined,
  mountRoutes: LOST_REASON_DEFAULTS.mountRoutes,
  isGlobal: LOST_REASON_DEFAULTS.isGlobal,
};

export const {
  ConfigurableModuleClass: ConfigurableLostReasonModule,
  MODULE_OPTIONS_TOKEN: LOST_REASON_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<LostReasonModuleOptions>({ moduleName: 'LostReason' })
  .setClassMethodName('forRoot')
  .setExtras<LostReasonModuleExtras>(EXTRAS, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/** A provider class for `forRootAsync({ useClass })` or `forRootAsync({ useExisting })`: its `create()` returns the options. */
export type LostReasonModuleOptionsFactory = InstanceType<NonNullable<(typeof ASYNC_OPTIONS_TYPE)['useClass']>>;
