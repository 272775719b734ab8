import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupHierarchies, parseProcCgroup } from '../src/cgroup.js';
import { parseMountInfo } from '../src/mountinfo.js';

describe('cgroup hierarchies of a process', () => {
  it('parses /proc/PID/cgroup', () => {
    assert.deepEqual(parseProcCgroup('3:cpu,cpuacct:/a\n0::/b\n'), [{ controllers: ['cpu', 'cpuacct'], path: '/a' }, { controllers: [], path: '/b' }]);
  });

  it('keeps each line\'s controllers with its host dir, relative to the mount\'s root', () => {
    const mounts = parseMountInfo([
      '30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
      '32 25 0:28 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
      '34 25 0:30 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
    ].join('\n'));
    assert.deepEqual(cgroupHierarchies('4:cpu,cpuacct:/docker/abc\n5:memory:/docker/abc/inner\n2:pids:/x\n0::/docker/abc\n', mounts), [
      { controllers: ['cpu', 'cpuacct'], dir: '/sys/fs/cgroup/cpu,cpuacct/docker/abc' },
      { controllers: ['memory'], dir: '/sys/fs/cgroup/memory/inner' },
      { controllers: [], dir: '/sys/fs/cgroup/unified/docker/abc' },
    ]);
  });
});
