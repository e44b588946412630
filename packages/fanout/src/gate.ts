import { CoordinationClosedError } from './errors';

/** Open/closed state shared by the components of one coordination. */
export class Gate {
  closed = false;

  assertOpen(): void {
    if (this.closed) throw new CoordinationClosedError();
  }
}
