/** Thrown at start-up when `LostReasonModule` is registered with an invalid option. */
export class LostReasonModuleOptionsError extends Error {
  constructor(option: string, problem: string) {
    super(`LostReasonModule option "${option}" ${problem}`);
    this.name = 'LostReasonModuleOptionsError';
  }
}
