// The options' types hosts write (the resolved options' type is internal: imported by path).
export type {
  LostReasonApiKeyVerifier,
  LostReasonHookContext,
  LostReasonHooks,
  LostReasonModuleExtras,
  LostReasonModuleOptions,
  LostReasonTenantResolver,
} from './lost-reason-module-options.interface';
