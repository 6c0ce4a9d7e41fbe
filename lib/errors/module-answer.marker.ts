/** Set on a request whose error the module has answered in its own shape. */
const ANSWERED = Symbol('lostReasonAnswered');

/** Marks `request` as answered by the module's exception filter. */
export function markAnsweredByModule(request: object): void {
  (request as { [ANSWERED]?: boolean })[ANSWERED] = true;
}

/** Whether the module's exception filter answered `request` (so an adapter hook leaves the answer as it is). */
export const isAnsweredByModule = (request: object): boolean => (request as { [ANSWERED]?: boolean })[ANSWERED] === true;
