import { ConfigurableModuleBuilder } from '@nestjs/common';
import { DEFAULT_LOST_REASON_PATH } from './lost-reason.constants';
import { LostReasonModuleExtras, LostReasonModuleOptions } from './interfaces';

/**
 * Defaults of the extras. Every extra is listed, even without a default, because the builder
 * strips exactly these keys from the options.
 */
const DEFAULT_EXTRAS: LostReasonModuleExtras = {
  path: DEFAULT_LOST_REASON_PATH,
  dataSource: undefined,
  guards: undefined,
  mountRoutes: true,
  isGlobal: false,
};

export const {
  ConfigurableModuleClass: ConfigurableLostReasonModule,
  MODULE_OPTIONS_TOKEN: LOST_REASON_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<LostReasonModuleOptions>({ moduleName: 'LostReason' })
  .setClassMethodName('forRoot')
  .setExtras<LostReasonModuleExtras>(DEFAULT_EXTRAS, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
