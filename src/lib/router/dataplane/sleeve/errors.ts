/** A sleeve that cannot start or carry on; the message says what to do. */
export class SleeveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SleeveError';
  }
}
