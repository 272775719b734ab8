import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyTransforms, TRANSFORMS } from '../src/spec/transforms/index.js';
import { ALL_CAPABILITIES, systemCapabilities } from '../src/spec/transforms/capabilities.js';
import { CHOWN_SYSCALLS, SYSTEM_SYSCALLS, TRAPPED_SYSCALLS, XATTR_SYSCALLS } from '../src/spec/transforms/seccomp.js';
import { cgroupMount } from '../src/spec/transforms/cgroup-mount.js';
import { wantedSpecialDirs } from '../src/spec/transforms/special-dirs.js';
import type { TransformContext } from '../src/spec/transform.js';
import { DEFAULT_CONTAINER_CONFIG } from '@sysbox/common/container-config';
import { dockerLikeSpec } from './fixtures.js';
import { joinedNetns } from '../src/lifecycle/prepare.js';

const ctx: TransformContext = {
  uid: 231072, gid: 231072, size: 65536, preMapped: false,
  rootfs: '/run/sysbox-containers/abc/rootfs', bindSources: ['/run/sysbox-containers/abc/binds/0', '/run/sysbox-containers/abc/binds/1'],
  specialDirs: ['/var/lib/docker'], specialDirSources: ['/run/sysbox-containers/abc/special/docker'],
  seccompListener: '/run/sysbox/seccomp.sock', config: { ...DEFAULT_CONTAINER_CONFIG },
};

describe('spec transforms', () => {
  it('are applied in a fixed, documented order', () => {
    assert.deepEqual(TRANSFORMS.map((t) => t.name), [
      'sysbox-env', 'user-namespace', 'cgroup-namespace', 'shifted-rootfs', 'idmapped-binds', 'special-dirs', 'read-only', 'cgroup-mount', 'writable-sys',
      'capabilities', 'seccomp', 'mount-traps', 'proc-paths', 'sysctl', 'apparmor', 'oom-score-adj',
    ]);
  });

  it('add user and cgroup namespaces with the allocated mapping', () => {
    const s = applyTransforms(dockerLikeSpec(), ctx);
    const types = s.linux!.namespaces!.map((n) => n.type);
    assert.ok(types.includes('user') && types.includes('cgroup'));
    assert.deepEqual(s.linux!.uidMappings, [{ containerID: 0, hostID: 231072, size: 65536 }]);
    assert.deepEqual(s.linux!.gidMappings, [{ containerID: 0, hostID: 231072, size: 65536 }]);
  });

  it('honour mappings the spec already has (userns-remap)', () => {
    const spec = dockerLikeSpec();
    spec.linux!.namespaces!.push({ type: 'user' });
    spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const s = applyTransforms(spec, { ...ctx, preMapped: true });
    assert.deepEqual(s.linux!.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }]);
    assert.equal(s.linux!.namespaces!.filter((n) => n.type === 'user').length, 1);
  });

  it('join the user namespace of the container whose network namespace the spec joins, with its mappings', () => {
    const spec = dockerLikeSpec();
    spec.linux!.namespaces = [{ type: 'mount' }, { type: 'network', path: '/proc/4242/ns/net' }];
    assert.equal(joinedNetns(spec.linux!.namespaces), '/proc/4242/ns/net');
    const s = applyTransforms(spec, { ...ctx, usernsPath: '/proc/4200/ns/user' });
    assert.deepEqual(s.linux!.namespaces!.filter((n) => n.type === 'user'), [{ type: 'user', path: '/proc/4200/ns/user' }]);
    assert.deepEqual(s.linux!.uidMappings, [{ containerID: 0, hostID: 231072, size: 65536 }]);
    assert.equal(joinedNetns([{ type: 'network', path: '/var/run/netns/cni-1' }]), '/var/run/netns/cni-1');
    assert.equal(joinedNetns([{ type: 'network' }]), '');
    assert.equal(joinedNetns([{ type: 'network', path: '/proc/1/ns/net' }, { type: 'user', path: '/proc/1/ns/user' }]), '', 'both given: as the spec says');
    assert.equal(joinedNetns(undefined), '');
  });

  it('use the shifted rootfs and ID-mapped bind sources, in mount order', () => {
    const s = applyTransforms(dockerLikeSpec(), ctx);
    assert.equal(s.root!.path, ctx.rootfs);
    assert.equal(s.mounts![0]!.source, 'proc');
    assert.equal(s.mounts![1]!.source, ctx.bindSources[0]);
    assert.equal(s.mounts![2]!.source, ctx.bindSources[1]);
    assert.throws(() => applyTransforms(dockerLikeSpec(), { ...ctx, bindSources: [] }), /idmapped-binds: sysbox-mgr prepared 0 bind sources for 2/);
  });

  it('back special dirs with sysbox-mgr host dirs, skipping paths the user mounted', () => {
    const s = applyTransforms(dockerLikeSpec(), ctx);
    assert.deepEqual(s.mounts!.at(-1), { destination: '/var/lib/docker', type: 'bind', source: ctx.specialDirSources[0], options: ['rbind', 'rprivate'] });
    assert.deepEqual(wantedSpecialDirs(['/var/lib/docker', '/var/lib/kubelet'], ['/proc', '/var/lib/docker/']), ['/var/lib/kubelet']);
  });

  it('make /sys and /sys/fs/cgroup writable and nothing else', () => {
    const spec = dockerLikeSpec();
    spec.mounts!.push(
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    );
    const s = applyTransforms(spec, ctx);
    assert.deepEqual(s.mounts!.find((m) => m.destination === '/sys')!.options, ['nosuid', 'noexec', 'nodev']);
    assert.deepEqual(s.mounts!.find((m) => m.destination === '/sys/fs/cgroup')!.options, ['nosuid', 'noexec', 'nodev']);
    assert.deepEqual(s.mounts!.find((m) => m.destination === '/data')!.options, ['rbind', 'ro']);
  });

  it('add a cgroupfs after /sys when the spec has none (containerd\'s default spec), writable like Docker\'s', () => {
    const spec = dockerLikeSpec();
    spec.mounts!.splice(1, 0, { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] });
    const s = applyTransforms(spec, ctx);
    const at = s.mounts!.findIndex((m) => m.destination === '/sys');
    assert.deepEqual(s.mounts![at + 1], { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime'] });
    assert.equal(s.mounts!.filter((m) => m.destination === '/sys/fs/cgroup').length, 1);
    // one already there is kept as the only one
    cgroupMount.apply(s, ctx);
    assert.equal(s.mounts!.filter((m) => m.destination === '/sys/fs/cgroup').length, 1);
    // none without a sysfs to put it on; a read-only container keeps it read-only
    assert.equal(applyTransforms(dockerLikeSpec(), ctx).mounts!.some((m) => m.destination === '/sys/fs/cgroup'), false);
    const ro = dockerLikeSpec();
    ro.root = { ...ro.root!, readonly: true };
    ro.mounts!.push({ destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] });
    assert.deepEqual(applyTransforms(ro, ctx).mounts!.find((m) => m.destination === '/sys/fs/cgroup')!.options, ['ro', 'nosuid', 'noexec', 'nodev', 'relatime']);
  });

  it('give root every capability and non-root none but a full bounding set', () => {
    const s = applyTransforms(dockerLikeSpec(), ctx);
    assert.deepEqual(s.process!.capabilities!.effective, [...ALL_CAPABILITIES]);
    assert.equal(ALL_CAPABILITIES.length, 41);
    const user = systemCapabilities(1000);
    assert.deepEqual(user.effective, []);
    assert.equal(user.bounding!.length, 41);
  });

  it('allow system syscalls unconditionally, removing conditional and denying rules for them', () => {
    const s = applyTransforms(dockerLikeSpec(), ctx);
    const rules = s.linux!.seccomp!.syscalls!;
    assert.equal(s.linux!.seccomp!.defaultAction, 'SCMP_ACT_ERRNO');
    assert.deepEqual(rules[0]!.names, ['read', 'write']);
    assert.ok(!rules.some((r) => r.action !== 'SCMP_ACT_ALLOW' && r.names.includes('clone3')));
    assert.ok(!rules.some((r) => r.args && r.names.includes('clone')));
    assert.deepEqual(rules.at(-2), { names: [...SYSTEM_SYSCALLS], action: 'SCMP_ACT_ALLOW' });
  });

  it('send mount and umount2 to sysbox-fs through the seccomp listener', () => {
    const s = applyTransforms(dockerLikeSpec(), ctx);
    const sc = s.linux!.seccomp!;
    assert.equal(sc.listenerPath, '/run/sysbox/seccomp.sock');
    assert.deepEqual(sc.syscalls!.at(-1), { names: [...TRAPPED_SYSCALLS], action: 'SCMP_ACT_NOTIFY' });
    assert.equal(sc.syscalls!.filter((r) => r.names.includes('mount')).length, 1, 'mount must be in exactly one rule');
  });

  it('trap the chown family only with ignoreSysfsChown, the *xattr family only with allowTrustedXattr', () => {
    const trappedBy = (config: Partial<typeof ctx.config>): string[] => {
      const spec = dockerLikeSpec();
      spec.linux!.seccomp!.syscalls!.push({ names: ['chown', 'fchownat', 'setxattr', 'read'], action: 'SCMP_ACT_ALLOW' });
      const rules = applyTransforms(spec, { ...ctx, config: { ...ctx.config, ...config } }).linux!.seccomp!.syscalls!;
      const notify = rules.filter((r) => r.action === 'SCMP_ACT_NOTIFY');
      assert.equal(notify.length, 1);
      for (const n of notify[0]!.names) assert.equal(rules.filter((r) => r.names.includes(n)).length, 1, `${n} must be in exactly one rule`);
      return notify[0]!.names;
    };
    assert.deepEqual(trappedBy({}), [...TRAPPED_SYSCALLS]);
    assert.deepEqual(trappedBy({ ignoreSysfsChown: true }), [...TRAPPED_SYSCALLS, ...CHOWN_SYSCALLS]);
    assert.deepEqual(trappedBy({ allowTrustedXattr: true }), [...TRAPPED_SYSCALLS, ...XATTR_SYSCALLS]);
    assert.deepEqual(trappedBy({ ignoreSysfsChown: true, allowTrustedXattr: true }), [...TRAPPED_SYSCALLS, ...CHOWN_SYSCALLS, ...XATTR_SYSCALLS]);
  });

  it('give a spec without a seccomp profile one that traps mounts and allows the rest', () => {
    const spec = dockerLikeSpec();
    delete spec.linux!.seccomp;
    const sc = applyTransforms(spec, ctx).linux!.seccomp!;
    assert.equal(sc.defaultAction, 'SCMP_ACT_ALLOW');
    assert.deepEqual(sc.syscalls!.at(-1), { names: [...TRAPPED_SYSCALLS], action: 'SCMP_ACT_NOTIFY' });
  });

  it('leave /proc/sys writable, keep other protections, clamp ping_group_range, drop docker-default', () => {
    const s = applyTransforms(dockerLikeSpec(), ctx);
    assert.deepEqual(s.linux!.readonlyPaths, ['/proc/bus', '/proc/sysrq-trigger']);
    assert.deepEqual(s.linux!.maskedPaths, ['/proc/kcore', '/sys/firmware']);
    assert.equal(s.linux!.sysctl!['net.ipv4.ping_group_range'], '0 65535');
    assert.equal(s.process!.apparmorProfile, undefined);
  });
});
