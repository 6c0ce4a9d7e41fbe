export * from './lost-reason-module-options.interface';
