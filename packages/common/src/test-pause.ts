// Test-only fault hook: lets an end-to-end test kill -9 a daemon at an exact step of a container's
// create or release (test/e2e/kill9.test.ts). With SYSBOX_TEST_PAUSE_AT=<step>:<marker file> in
// the daemon's environment, the daemon writes its pid to the marker file the first time it reaches
// <step> and then blocks, all of it (the handlers are synchronous), until the file is removed or
// 60 s have passed; later passes go on (a daemon the test lets go serves the rest as usual). Unset
// (always, outside tests) it costs one environment lookup at start-up.
import fs from 'node:fs';

const PAUSE_LIMIT_MS = 60_000;

function parse(value: string | undefined): { step: string; marker: string } | undefined {
  const at = value?.indexOf(':') ?? -1;
  if (value === undefined || at <= 0) return undefined;
  return { step: value.slice(0, at), marker: value.slice(at + 1) };
}

let wanted = parse(process.env.SYSBOX_TEST_PAUSE_AT);

/** Blocks here while a test holds the marker file, if SYSBOX_TEST_PAUSE_AT names this step. */
export function pauseAt(step: string): void {
  if (wanted === undefined || wanted.step !== step) return;
  const { marker } = wanted;
  wanted = undefined;
  // Whole or absent (a rename): the test reads the pid as soon as the file shows.
  fs.writeFileSync(`${marker}.tmp`, String(process.pid));
  fs.renameSync(`${marker}.tmp`, marker);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const end = Date.now() + PAUSE_LIMIT_MS;
  while (fs.existsSync(marker) && Date.now() < end) Atomics.wait(cell, 0, 0, 20);
}
