/** Confirmation of a permanent delete. */
export class DeletedLostReason {
  id!: string;
  deleted!: true;
}
