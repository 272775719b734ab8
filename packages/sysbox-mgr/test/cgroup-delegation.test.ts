import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupDirs } from '../src/cgroup-delegation.js';
import { parseMountInfo } from '../src/mountinfo.js';

// The hybrid v1 layout of the development machine (trimmed), and a container's /proc/PID/cgroup.
const MOUNTS = parseMountInfo([
  '30 25 0:26 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '31 25 0:27 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct',
  '32 25 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '33 25 0:29 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
  '34 25 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n'));
const PROC = '5:memory:/docker/abc\n4:cpuacct:/docker/abc\n3:cpu:/docker/abc\n1:name=systemd:/docker/abc\n0::/docker/abc\n';

describe('cgroup delegation', () => {
  it('maps every hierarchy of a process to its host dir', () => {
    assert.deepEqual(cgroupDirs(PROC, MOUNTS), [
      '/sys/fs/cgroup/memory/docker/abc', '/sys/fs/cgroup/cpuacct/docker/abc', '/sys/fs/cgroup/cpu/docker/abc',
      '/sys/fs/cgroup/systemd/docker/abc', '/sys/fs/cgroup/unified/docker/abc',
    ]);
  });
});
