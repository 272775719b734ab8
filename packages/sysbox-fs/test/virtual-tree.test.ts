// How the covered directories are laid out: pass-through from the host view at the same path, our
// files winning, placeholders where the container's own entries go back. Includes a host with DMI
// (product_uuid inside the covered /sys/devices/virtual), which this test machine lacks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLASS_DMI_LINK, layCovered, place, virtualPaths } from '../src/virtual-tree.js';
import { HIDDEN } from '../src/mount-layout.js';
import { withoutEntries } from '../src/nodes/host-passthrough.js';
import { dir, file, ROOT_INODE, StaticTree, type Caller, type PassthroughSource } from '../src/tree.js';

const caller: Caller = { pid: 1, uid: 0, gid: 0 };

/** A source that has every name it is asked about: the dirs given, else a file whose content is its rel. */
function echoSource(name: string, dirs: string[] = []): PassthroughSource {
  return {
    name,
    ttl: 1,
    list: () => [],
    stat: (_c, rel) => ({ name: rel.split('/').pop()!, kind: dirs.includes(rel) ? 'dir' : 'file', perm: 0o444 }),
    read: (_c, rel) => `${name}:${rel}`,
  };
}

function walk(t: StaticTree, path: string): ReturnType<StaticTree['get']> {
  let ino = ROOT_INODE;
  for (const part of path.split('/')) {
    const next = t.lookup(ino, part, caller);
    if (!next) return undefined;
    ino = next.ino;
  }
  return t.get(ino, caller);
}

const read = (t: StaticTree, path: string): string => {
  const n = walk(t, path)?.node;
  return n?.kind === 'file' ? String(n.read(caller)) : `(${n?.kind ?? 'none'})`;
};

describe('layCovered', () => {
  const root = dir({});
  place(root, 'proc/sys/kernel/panic', file(() => 'emulated'));
  place(root, 'proc/sys/net/ipv4/neigh', dir({}));
  place(root, 'sys/devices/virtual/dmi/id/product_uuid', file(() => 'uuid'));
  place(root, 'sys/kernel', dir({}));
  const hosts = { procfs: echoSource('procfs', ['sys/vm']), sysfs: echoSource('sysfs') };
  const host: Record<string, 'dir' | 'file'> = { '/proc/sys/kernel': 'dir', '/proc/sys/kernel/hostname': 'file', '/proc/sys/user': 'dir', '/sys/devices/virtual/net': 'dir', '/sys/devices/virtual/dmi': 'dir', '/sys/devices/virtual/dmi/id': 'dir' };
  layCovered(root, hosts, echoSource('neigh'), (p) => host[p]);
  const t = new StaticTree(root);

  it('passes host entries through from the same path below the fs root; our files win', () => {
    assert.equal(read(t, 'proc/sys/kernel/panic'), 'emulated');
    assert.equal(read(t, 'proc/sys/kernel/core_pattern'), 'procfs:sys/kernel/core_pattern');
    assert.equal(read(t, 'proc/sys/vm/swappiness'), 'procfs:sys/vm/swappiness');
    assert.equal(read(t, 'sys/kernel/uevent_seqnum'), 'sysfs:kernel/uevent_seqnum');
    assert.equal(read(t, 'sys/devices/virtual/dmi/id/product_uuid'), 'uuid', 'ours, inside the covered directory');
    assert.equal(read(t, 'sys/devices/virtual/dmi/id/product_name'), 'sysfs:devices/virtual/dmi/id/product_name', 'the host\'s beside it');
  });

  it('leaves empty placeholders where the container\'s own entries go back, and none for what the host lacks', () => {
    assert.equal(read(t, 'proc/sys/kernel/hostname'), '');
    assert.equal(walk(t, 'proc/sys/user')?.node.kind, 'dir');
    assert.equal(read(t, 'proc/sys/user/max_user_namespaces'), '(none)', 'nothing of the host\'s under a placeholder');
    assert.equal(read(t, 'sys/devices/virtual/net/lo'), '(none)');
    assert.equal(read(t, 'proc/sys/net/core/somaxconn'), '(none)', 'net is the container\'s: no pass-through');
    assert.equal(read(t, 'proc/sys/kernel/shmmax'), 'procfs:sys/kernel/shmmax', 'a namespaced entry the host lacks gets no placeholder');
  });

  it('serves net/ipv4/neigh from the caller\'s namespace', () => {
    assert.equal(read(t, 'proc/sys/net/ipv4/neigh/eth0'), 'neigh:eth0');
  });
});

describe('a host without DMI', () => {
  // This machine's kind: /sys/devices/virtual and /sys/class exist, no dmi below either.
  const hostPaths = new Set(['/proc/sys', '/sys/kernel', '/sys/devices/virtual', '/sys/class', '/proc/sys/net/ipv4/neigh', '/proc/uptime']);
  const paths = virtualPaths((p) => hostPaths.has(p));

  it('still gets product_uuid, and /sys/class covered to add the dmi link', () => {
    assert.ok(paths.includes('sys/devices/virtual/dmi/id/product_uuid'));
    assert.ok(paths.includes('sys/class'));
    assert.ok(paths.includes('sys/class/dmi/id'));
    assert.ok(!paths.includes('proc/sys/net/netfilter/nf_conntrack_max'), 'other nodes still need the host\'s file');
  });

  it('with DMI, leaves /sys/class alone (its dmi link already leads into our devices/virtual)', () => {
    const withDmi = virtualPaths((p) => hostPaths.has(p) || p.startsWith('/sys/devices/virtual/dmi') || p.startsWith('/sys/class/dmi'));
    assert.ok(withDmi.includes('sys/devices/virtual/dmi/id/product_uuid'));
    assert.ok(!withDmi.includes('sys/class'));
    assert.ok(!withDmi.includes('sys/class/dmi/id'), 'no bind of a file over the host\'s link');
  });

  it('serves dmi/id with product_uuid alone (no pass-through into a host dir that is not there), and class/dmi/id links to it', () => {
    const root = dir({});
    place(root, 'sys/devices/virtual/dmi/id/product_uuid', file(() => 'uuid\n', undefined, 0o400));
    place(root, 'sys/class/dmi/id', { kind: 'symlink', target: CLASS_DMI_LINK });
    const failing: PassthroughSource = { ...echoSource('sysfs', ['class/tty']), list: () => { throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); } };
    const kinds: Record<string, 'dir'> = { '/sys/devices/virtual/net': 'dir', '/sys/class/net': 'dir' };
    layCovered(root, { procfs: echoSource('procfs'), sysfs: failing }, echoSource('neigh'), (p) => kinds[p]);
    const t = new StaticTree(root);
    const id = walk(t, 'sys/devices/virtual/dmi/id');
    assert.equal(id?.node.kind === 'dir' ? id.node.passthrough : 'not a dir', undefined);
    assert.deepEqual(t.list(id!.ino, caller)?.map((e) => e.name), ['product_uuid']);
    const uuid = walk(t, 'sys/devices/virtual/dmi/id/product_uuid')?.node;
    assert.equal(uuid?.kind === 'file' ? uuid.perm : undefined, 0o400);
    assert.deepEqual(walk(t, 'sys/class/dmi/id')?.node, { kind: 'symlink', target: '../../devices/virtual/dmi/id' });
    assert.equal(read(t, 'sys/class/net/eth0'), '(none)', 'class/net is the container\'s own');
    assert.equal(read(t, 'sys/class/tty/uevent'), 'sysfs:class/tty/uevent', 'the rest of /sys/class is the host\'s');
  });
});

describe('withoutEntries', () => {
  // What the host's /sys/kernel has; HIDDEN takes the debugfs/tracefs/configfs mount points away.
  const host: PassthroughSource = {
    name: 'sysfs',
    ttl: 1,
    list: (_c, rel) => (rel === 'kernel' ? ['debug', 'tracing', 'config', 'mm'] : ['x']).map((name) => ({ name, kind: 'dir' as const, perm: 0o555 })),
    stat: (_c, rel) => ({ name: rel.split('/').pop()!, kind: 'dir', perm: 0o555 }),
    read: (_c, rel) => rel,
  };
  const src = withoutEntries(host, HIDDEN.map((p) => p.slice('sys/'.length)));

  it('leaves /sys/kernel/{debug,tracing,config} out of listings and lookups, so systemd skips their mount units', () => {
    assert.deepEqual(src.list(caller, 'kernel').map((e) => e.name), ['mm']);
    for (const n of ['debug', 'tracing', 'config']) {
      assert.equal(src.stat(caller, `kernel/${n}`), undefined, n);
      assert.equal(src.stat(caller, `kernel/${n}/x`), undefined, `below ${n}`);
    }
    assert.equal(src.stat(caller, 'kernel/mm')?.kind, 'dir');
    assert.deepEqual(src.list(caller, 'kernel/mm').map((e) => e.name), ['x']);
  });
});
