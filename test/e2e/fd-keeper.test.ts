// sysbox-fs's fd keeper holds the seccomp notify fds of live processes only. A `docker exec` that
// ends at once hands its fd over and releases it almost together; the release must not race the
// keeper's copy of it (which logged "pidfd_getfd failed: Bad file descriptor" and could copy
// another fd that got the same number meanwhile).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import { BUSYBOX, dockerOk, FS_STATE_DIR, removeContainers, uniqueName } from '../lib/env.js';

const FS_LOG = `${FS_STATE_DIR}.log`;

describe('sysbox-fs fd keeper', () => {
  const names: string[] = [];
  after(() => removeContainers(...names));

  it('takes and releases the notify fds of 20 quick docker execs without a warning', async () => {
    const name = uniqueName('keeper-quick');
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, BUSYBOX, 'sleep', '300');
    const from = fs.statSync(FS_LOG).size;
    for (let i = 0; i < 20; i++) await dockerOk('exec', name, 'true');
    // The last releases reach the log after the execs return.
    await new Promise((r) => setTimeout(r, 500));
    const fd = fs.openSync(FS_LOG, 'r');
    const added = Buffer.alloc(fs.fstatSync(fd).size - from);
    fs.readSync(fd, added, 0, added.length, from);
    fs.closeSync(fd);
    const warnings = added.toString().split('\n').filter((l) => /level=(warning|error)/.test(l));
    assert.deepEqual(warnings, []);
  });
});
