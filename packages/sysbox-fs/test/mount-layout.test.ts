// The order of binds that lays the tree over a container's /proc and /sys.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inSlot, NAMESPACED_SYSCTLS, virtualBinds } from '../src/mount-layout.js';

const PATHS = [
  'proc/sys',
  'sys/kernel',
  'sys/devices/virtual',
  'proc/sys/net/ipv4/neigh',
  'proc/uptime',
  'proc/sys/kernel/panic',
  'proc/sys/net/netfilter/nf_conntrack_max',
  'proc/sys/net/ipv4/neigh/default/gc_thresh1',
  'sys/module/nf_conntrack/parameters/hashsize',
  'sys/devices/virtual/dmi/id/product_uuid',
];

describe('virtualBinds', () => {
  it('covers /proc/sys, puts the namespaced originals back, then binds what lands inside them', () => {
    const binds = virtualBinds(PATHS, 'proc', (p) => `/${p}`);
    assert.deepEqual(binds[0], { source: 'proc/sys', target: '/proc/sys' });
    assert.deepEqual(binds.slice(1, 1 + NAMESPACED_SYSCTLS.length), NAMESPACED_SYSCTLS.map((n) => ({ original: true, target: `/proc/sys/${n}` })));
    assert.deepEqual(binds.slice(1 + NAMESPACED_SYSCTLS.length), [
      { source: 'proc/sys/net/ipv4/neigh', target: '/proc/sys/net/ipv4/neigh' },
      { source: 'proc/uptime', target: '/proc/uptime' },
      // kernel/panic is served inside the /proc/sys directory; gc_thresh1 inside neigh.
      { source: 'proc/sys/net/netfilter/nf_conntrack_max', target: '/proc/sys/net/netfilter/nf_conntrack_max' },
    ]);
  });

  it('covers /sys/kernel and /sys/devices/virtual (its net put back), names targets inside a new fs, puts sources in a slot', () => {
    const binds = inSlot(virtualBinds(PATHS, 'sys', (p) => p.slice(4)), 3);
    assert.deepEqual(binds, [
      { source: '3/sys/kernel', target: 'kernel' },
      { source: '3/sys/devices/virtual', target: 'devices/virtual' },
      { original: true, target: 'devices/virtual/net' },
      // product_uuid is served inside devices/virtual.
      { source: '3/sys/module/nf_conntrack/parameters/hashsize', target: 'module/nf_conntrack/parameters/hashsize' },
    ]);
    const proc = inSlot(virtualBinds(PATHS, 'proc', (p) => p.slice(5)), 3);
    assert.deepEqual(proc[0], { source: '3/proc/sys', target: 'sys' });
    assert.deepEqual(proc[1], { original: true, target: 'sys/net' });
  });

  it('covers /sys/class where it is laid (a host without DMI), its net put back', () => {
    const binds = virtualBinds([...PATHS, 'sys/class', 'sys/class/dmi/id'], 'sys', (p) => `/${p}`);
    const i = binds.findIndex((b) => 'source' in b && b.source === 'sys/class');
    assert.ok(i >= 0);
    assert.deepEqual(binds[i + 1], { original: true, target: '/sys/class/net' });
    assert.ok(!binds.some((b) => 'source' in b && b.source === 'sys/class/dmi/id'), 'the link is served inside the covered /sys/class');
  });

  it('without a covered directory, every file is bound on its own', () => {
    const binds = virtualBinds(PATHS.filter((p) => p !== 'proc/sys'), 'proc', (p) => `/${p}`);
    assert.ok(binds.some((b) => 'source' in b && b.source === 'proc/sys/kernel/panic'));
    assert.ok(!binds.some((b) => 'original' in b));
  });
});
