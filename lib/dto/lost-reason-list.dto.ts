import { LostReasonObject } from './lost-reason-object.dto';

/** One page of the list, newest first. */
export class LostReasonList {
  data!: LostReasonObject[];
  /** True exactly when more objects exist after this page. */
  has_more!: boolean;
  /** Number of objects in all pages together. */
  total!: number;
}
