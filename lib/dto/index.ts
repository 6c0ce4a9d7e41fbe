// The request and response shapes of the API and the service (lib/index.ts picks the public ones).
export { CreateLostReasonDto } from './create-lost-reason.dto';
export { DeletedLostReason } from './deleted-lost-reason.dto';
export { ListLostReasonsDto } from './list-lost-reasons.dto';
export { LostReasonError, LostReasonErrorDetail } from './lost-reason-error.dto';
export { LostReasonList } from './lost-reason-list.dto';
export { LostReasonObject } from './lost-reason-object.dto';
export { UpdateLostReasonDto } from './update-lost-reason.dto';
