#!/usr/bin/env bash
# Register's rootfs-view step (issue 14): mount a FUSE connection and start the view program
# (out/bin/sysbox-mgr-rootfs-view) on a temp rootfs, launched the way sysbox-mgr does
# (native.spawnNoWait: fork, exec not waited for) against child_process.spawn (waits for the exec),
# alternated in one run; medians of the step and of the time until the view says "ready", ratios.
#   sudo bench/view-start.sh                  # ROUNDS=40 of each
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x out/bin/sysbox-mgr-rootfs-view ] || npm run --silent build
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
ROUNDS=${ROUNDS:-40} node - <<'JS'
const fs = require('fs'); const os = require('os'); const path = require('path'); const { spawn } = require('child_process');
const native = require('./out/bin/sysbox_native.node');
const program = path.resolve('out/bin/sysbox-mgr-rootfs-view');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-view-start-'));
const rootfs = path.join(dir, 'rootfs');
fs.mkdirSync(rootfs);
native.mount(rootfs, rootfs, '', native.constants.MS_BIND); // pivot_root needs a mount point
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const launchers = {
  spawnNoWait: (args, log, fd) => native.spawnNoWait(program, args, [-1, log, log, fd]),
  'child_process.spawn': (args, log, fd) => {
    const c = spawn(program, args, { detached: true, stdio: ['ignore', log, log, fd] });
    c.unref();
    return c.pid;
  },
};
const times = Object.fromEntries(Object.keys(launchers).map((k) => [k, { step: [], ready: [] }]));
for (let i = 0; i < Number(process.env.ROUNDS); i++) {
  for (const [name, launch] of Object.entries(launchers)) {
    const m = path.join(dir, `m-${i}-${name.length}`);
    const logFile = `${m}.log`;
    fs.mkdirSync(m);
    const fd = fs.openSync('/dev/fuse', fs.constants.O_RDWR);
    const t0 = process.hrtime.bigint();
    native.mount('sysbox-rootfs', m, 'fuse.sysbox-rootfs', native.constants.MS_NOSUID | native.constants.MS_NODEV,
      `fd=${fd},rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other`);
    const log = fs.openSync(logFile, 'w');
    const pid = launch([rootfs, '300000', '300000', '65536'], log, fd);
    const t1 = process.hrtime.bigint();
    fs.closeSync(log);
    fs.closeSync(fd);
    while (!fs.readFileSync(logFile, 'utf8').includes('ready')) sleep(0.2);
    const t2 = process.hrtime.bigint();
    times[name].step.push(Number(t1 - t0) / 1e6);
    times[name].ready.push(Number(t2 - t0) / 1e6);
    native.umount(m, native.constants.MNT_DETACH); // the view exits (ENODEV)
    while (!native.reapChild(pid)) sleep(0.2);
  }
}
native.umount(rootfs, native.constants.MNT_DETACH);
fs.rmSync(dir, { recursive: true });
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const [a, b] = Object.keys(launchers);
console.log(`${''.padEnd(34)}${a.padStart(14)}${b.padStart(22)}   ratio`);
for (const k of ['step', 'ready']) {
  const x = median(times[a][k]), y = median(times[b][k]);
  const label = k === 'step' ? 'mount + start (Register waits)' : 'until the view says ready';
  console.log(`${label.padEnd(34)}${`${x.toFixed(2)} ms`.padStart(14)}${`${y.toFixed(2)} ms`.padStart(22)}   ${(x / y).toFixed(2)}x`);
}
JS
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
