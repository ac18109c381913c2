/** Monotonic milliseconds since the run started; wall-clock jumps never reorder the history. */
export class RunClock {
  private readonly origin: number;
  readonly startedAtWall: Date;

  constructor() {
    this.origin = performance.now();
    this.startedAtWall = new Date();
  }

  now(): number {
    return Math.round((performance.now() - this.origin) * 1000) / 1000;
  }
}
