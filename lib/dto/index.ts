export * from './create-lost-reason.dto';
export * from './deleted-lost-reason.dto';
export * from './list-lost-reasons.dto';
export * from './lost-reason-error.dto';
export * from './lost-reason-list.dto';
export * from './lost-reason-object.dto';
export * from './update-lost-reason.dto';
