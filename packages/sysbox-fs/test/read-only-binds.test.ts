// Which virtual files are bound read-only into a container.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMountInfo } from '@sysbox/common/mountinfo';
import { readOnlyTargets } from '../src/daemon/read-only-binds.js';

// A container's mounts as runc leaves them outside system-container mode: Docker's spec has /sys
// read-only and /proc/sys among its read-only paths (a read-only bind of itself).
const SPEC_MODE = parseMountInfo([
  '100 99 0:50 / / rw,relatime - overlay overlay rw',
  '101 100 0:51 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
  '102 100 0:52 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro',
  '103 101 0:51 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw',
  '104 101 0:5 /null /proc/kcore rw,nosuid - devtmpfs udev rw',
].join('\n'));

const SYSTEM_MODE = parseMountInfo([
  '100 99 0:50 / / rw,relatime - overlay overlay rw',
  '101 100 0:51 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
  '102 100 0:52 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw',
  '103 101 0:51 /bus /proc/bus ro,nosuid,nodev,noexec,relatime - proc proc rw',
].join('\n'));

const TARGETS = ['/proc/sys', '/proc/sys/net', '/proc/uptime', '/sys/kernel', '/sys/devices/virtual/net'];

describe('readOnlyTargets', () => {
  it('makes every virtual file read-only in a read-only container', () => {
    assert.deepEqual([...readOnlyTargets(TARGETS, SYSTEM_MODE, true)], TARGETS);
  });

  it('otherwise takes the read-only flag of the mount each file covers', () => {
    assert.deepEqual([...readOnlyTargets(TARGETS, SPEC_MODE, false)], ['/proc/sys', '/proc/sys/net', '/sys/kernel', '/sys/devices/virtual/net']);
    assert.deepEqual([...readOnlyTargets(TARGETS, SYSTEM_MODE, false)], []);
  });

  it('goes by mount points, not by name prefixes', () => {
    const mounts = parseMountInfo([
      '100 99 0:50 / / rw,relatime - overlay overlay rw',
      '101 100 0:51 / /proc rw,nosuid - proc proc rw',
      '103 101 0:51 /sys /proc/sys ro,nosuid - proc proc rw',
    ].join('\n'));
    assert.deepEqual([...readOnlyTargets(['/proc/sysrq-trigger', '/proc/sys/kernel'], mounts, false)], ['/proc/sys/kernel']);
  });

  it('of mounts stacked at one point, the last listed is the one shown', () => {
    const mounts = parseMountInfo([
      '100 99 0:50 / / rw,relatime - overlay overlay rw',
      '101 100 0:51 / /proc ro,nosuid - proc proc rw',
      '102 101 0:53 / /proc rw,nosuid - proc proc rw',
    ].join('\n'));
    assert.deepEqual([...readOnlyTargets(['/proc/uptime'], mounts, false)], []);
  });
});
