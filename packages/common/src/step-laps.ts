// Where a request's time goes, step by step, for its debug line ("ids 0.4, rootfs 3.1, ...", ms):
// sysbox-mgr's Register and release (synchronous work on its event loop: other requests wait), and
// the steps a create takes around them (sysbox-runc's prepare.ts).
export class StepLaps {
  private last = process.hrtime.bigint();
  private readonly laps: string[] = [];

  /** Ends the step running since the previous lap (or since construction). */
  lap(step: string): void {
    const now = process.hrtime.bigint();
    this.laps.push(`${step} ${(Number(now - this.last) / 1e6).toFixed(1)}`);
    this.last = now;
  }

  toString(): string {
    return this.laps.join(', ');
  }
}
