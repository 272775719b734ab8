import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupHierarchies, parseProcCgroup } from '../src/cgroup.js';
import { mountVisibility, parseMountInfo } from '../src/mountinfo.js';

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

// mountinfo inside a container run with `--cgroupns=host -v /sys:/sys` (a dockerd that itself runs
// in a container, here the host harness H, as recorded on the development machine; trimmed): runc's
// binds of H's own cgroup at /sys/fs/cgroup/* (root /docker/H) are listed first but are hidden under
// the /sys bind, which brings the host's /sys/fs/cgroup with the whole hierarchies (root /).
const H = '6c2320194012';
const DIND_HOST_NS = parseMountInfo([
  '75 51 0:40 / / rw,relatime master:2 - overlay overlay rw',
  '76 75 0:43 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
  `79 75 0:46 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755`,
  `80 79 0:29 /docker/${H} /sys/fs/cgroup/cpu ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu`,
  `83 79 0:32 /docker/${H} /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory`,
  `88 79 0:37 /docker/${H} /sys/fs/cgroup/systemd ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,name=systemd`,
  '91 75 0:22 / /sys rw,relatime - sysfs sysfs rw',
  '92 91 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec - tmpfs tmpfs ro,size=4096k,nr_inodes=1024,mode=755',
  '93 92 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '96 92 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '101 92 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '102 92 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  '103 75 0:48 / /run rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw',
].join('\n'));

describe('cgroup hierarchies seen from a container that bind-mounts the host\'s /sys', () => {
  it('takes the visible mount, not runc\'s hidden under /sys (was /sys/fs/cgroup/<id>: ENOENT)', () => {
    // A system container of the dockerd inside H: cgroupfs driver, parent /docker, host cgroupns.
    assert.deepEqual(cgroupHierarchies('1:cpu:/docker/inner\n4:memory:/docker/inner\n9:name=systemd:/docker/inner\n0::/docker/inner\n', DIND_HOST_NS), [
      { controllers: ['cpu'], dir: '/sys/fs/cgroup/cpu/docker/inner' },
      { controllers: ['memory'], dir: '/sys/fs/cgroup/memory/docker/inner' },
      { controllers: ['name=systemd'], dir: '/sys/fs/cgroup/systemd/docker/inner' },
      { controllers: [], dir: '/sys/fs/cgroup/unified/docker/inner' },
    ]);
    // ...and one under H's own cgroup (a dockerd with cgroup-parent inside it, or systemd's slices).
    assert.deepEqual(cgroupHierarchies(`4:memory:/docker/${H}/system.slice/x\n`, DIND_HOST_NS), [
      { controllers: ['memory'], dir: `/sys/fs/cgroup/memory/docker/${H}/system.slice/x` },
    ]);
  });

  it('skips a hidden mount stacked over, and a visible one whose root does not hold the cgroup', () => {
    const mounts = parseMountInfo([
      '1 0 0:1 / / rw - ext4 /dev/vda rw',
      // a private cgroupns: the host's (now hidden) tmpfs and hierarchies show as /../..
      '20 1 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw',
      '21 20 0:32 /../.. /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
      '30 20 0:51 / /sys/fs/cgroup rw - tmpfs tmpfs rw',
      '31 30 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
      '32 30 0:36 /sub /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids',
    ].join('\n'));
    assert.deepEqual(cgroupHierarchies('4:memory:/docker/x\n8:pids:/elsewhere/x\n', mounts), [
      { controllers: ['memory'], dir: '/sys/fs/cgroup/memory/docker/x' },
    ]);
  });
});

describe('mount visibility', () => {
  it('hides a mount under a later sibling over its path, under one stacked on it, and below either', () => {
    const visible = mountVisibility(DIND_HOST_NS);
    assert.deepEqual(DIND_HOST_NS.filter((m) => !visible(m)).map((m) => m.id), [79, 80, 83, 88]);
    const stacked = parseMountInfo([
      '1 0 0:1 / / rw - ext4 /dev/vda rw',
      '2 1 0:2 / /a rw - tmpfs tmpfs rw',
      '3 2 0:3 / /a/b rw - tmpfs tmpfs rw',
      '4 2 0:4 / /a rw - tmpfs tmpfs rw',
      '5 1 0:5 / /c rw - tmpfs tmpfs rw',
      '6 1 0:6 / /c rw - tmpfs tmpfs rw',
    ].join('\n'));
    const v2 = mountVisibility(stacked);
    assert.deepEqual(stacked.filter((m) => !v2(m)).map((m) => m.id), [2, 3, 5]);
  });
});
