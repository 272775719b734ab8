// What the per-container knobs (honor-caps, syscont-mode, relaxed-read-only) change in the spec
// transforms, and how exec picks its capability rule.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CONTAINER_CONFIG, KnobError, type ContainerConfig } from '@sysbox/common/container-config';
import { execConfig } from '../src/lifecycle/container-config.js';
import type { Spec } from '../src/spec/oci.js';
import type { TransformContext } from '../src/spec/transform.js';
import { ALL_CAPABILITIES, honorsCaps, systemCapabilities } from '../src/spec/transforms/capabilities.js';
import { applyTransforms } from '../src/spec/transforms/index.js';
import { trapMounts } from '../src/spec/transforms/mount-traps.js';
import { dockerLikeSpec } from './fixtures.js';

const DOCKER_CAPS = { bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_CHOWN', 'CAP_KILL'], permitted: ['CAP_CHOWN', 'CAP_KILL'] };

function context(config: Partial<ContainerConfig> = {}): TransformContext {
  return {
    uid: 231072, gid: 231072, size: 65536, preMapped: false,
    rootfs: '/run/sysbox-containers/abc/rootfs', bindSources: ['/run/sysbox-containers/abc/binds/0', '/run/sysbox-containers/abc/binds/1'],
    specialDirs: ['/var/lib/docker'], specialDirSources: ['/run/sysbox-containers/abc/special/docker'],
    seccompListener: '/run/sysbox/seccomp.sock', config: { ...DEFAULT_CONTAINER_CONFIG, ...config },
  };
}

function withSys(spec: Spec): Spec {
  spec.mounts!.push(
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
  );
  return spec;
}

function readOnly(spec: Spec): Spec {
  spec.root!.readonly = true;
  return spec;
}

const mountAt = (s: Spec, dest: string) => s.mounts!.find((m) => m.destination === dest);

describe('honor-caps', () => {
  it('by default gives root all five sets in full and other users only the bounding set', () => {
    const all = [...ALL_CAPABILITIES];
    assert.deepEqual(applyTransforms(dockerLikeSpec(), context()).process!.capabilities,
      { bounding: all, effective: all, permitted: all, inheritable: all, ambient: all });
    const spec = dockerLikeSpec();
    spec.process!.user = { uid: 1000, gid: 1000 };
    assert.deepEqual(applyTransforms(spec, context()).process!.capabilities,
      { bounding: all, effective: [], permitted: [], inheritable: [], ambient: [] });
  });

  it('keeps the spec\'s capabilities as given, for root and others', () => {
    assert.deepEqual(applyTransforms(dockerLikeSpec(), context({ honorCaps: true })).process!.capabilities, DOCKER_CAPS);
    const spec = dockerLikeSpec();
    spec.process!.user = { uid: 1000, gid: 1000 };
    assert.deepEqual(applyTransforms(spec, context({ honorCaps: true })).process!.capabilities, DOCKER_CAPS);
  });

  it('changes nothing else in the spec', () => {
    const a = applyTransforms(dockerLikeSpec(), context());
    const b = applyTransforms(dockerLikeSpec(), context({ honorCaps: true }));
    delete a.process!.capabilities;
    delete b.process!.capabilities;
    assert.deepEqual(a, b);
  });

  it('is the rule outside system-container mode too', () => {
    assert.equal(honorsCaps({ honorCaps: false, syscontMode: true }), false);
    assert.equal(honorsCaps({ honorCaps: true, syscontMode: true }), true);
    assert.equal(honorsCaps({ honorCaps: false, syscontMode: false }), true);
    assert.deepEqual(systemCapabilities(0).ambient, [...ALL_CAPABILITIES]);
  });
});

describe('exec config', () => {
  const container = { ...DEFAULT_CONTAINER_CONFIG };

  it('is the container\'s when the exec sets no knob', () => {
    assert.deepEqual(execConfig(container, ['PATH=/bin']), container);
    assert.deepEqual(execConfig({ ...container, honorCaps: true }, undefined), { ...container, honorCaps: true });
  });

  it('takes SYSBOX_HONOR_CAPS from the exec, both ways', () => {
    assert.equal(execConfig(container, ['SYSBOX_HONOR_CAPS=TRUE']).honorCaps, true);
    assert.equal(execConfig({ ...container, honorCaps: true }, ['SYSBOX_HONOR_CAPS=FALSE']).honorCaps, false);
  });

  it('ignores the knobs fixed at create (syscont mode stays what it was)', () => {
    const off = { ...container, syscontMode: false };
    assert.deepEqual(execConfig(off, ['SYSBOX_SYSCONT_MODE=TRUE', 'SYSBOX_SKIP_UID_SHIFT=/x', 'SYSBOX_IGNORE_SYSFS_CHOWN=TRUE']), off);
    assert.equal(honorsCaps(execConfig(off, ['SYSBOX_HONOR_CAPS=FALSE'])), true);
  });

  it('refuses an unknown SYSBOX_* variable or a bad value, naming it', () => {
    assert.throws(() => execConfig(container, ['SYSBOX_FOO=TRUE']), (e: unknown) => e instanceof KnobError && /SYSBOX_FOO/.test(e.message));
    assert.throws(() => execConfig(container, ['SYSBOX_HONOR_CAPS=yes']), (e: unknown) => e instanceof KnobError && /SYSBOX_HONOR_CAPS/.test(e.message));
  });
});

describe('syscont-mode=false', () => {
  const off = context({ syscontMode: false });

  it('keeps user and cgroup namespaces, the ID-shifted rootfs and ID-mapped binds', () => {
    const s = applyTransforms(dockerLikeSpec(), off);
    const types = s.linux!.namespaces!.map((n) => n.type);
    assert.ok(types.includes('user') && types.includes('cgroup'));
    assert.deepEqual(s.linux!.uidMappings, [{ containerID: 0, hostID: 231072, size: 65536 }]);
    assert.equal(s.root!.path, off.rootfs);
    assert.equal(mountAt(s, '/etc/resolv.conf')!.source, off.bindSources[0]);
  });

  it('leaves capabilities, seccomp, AppArmor, read-only paths and /sys as the spec has them', () => {
    const original = withSys(dockerLikeSpec());
    const s = applyTransforms(withSys(dockerLikeSpec()), off);
    assert.deepEqual(s.process!.capabilities, original.process!.capabilities);
    assert.deepEqual(s.linux!.seccomp, original.linux!.seccomp);
    assert.equal(s.process!.apparmorProfile, 'docker-default');
    assert.deepEqual(s.linux!.readonlyPaths, original.linux!.readonlyPaths);
    assert.deepEqual(s.linux!.maskedPaths, original.linux!.maskedPaths);
    assert.deepEqual(mountAt(s, '/sys')!.options, mountAt(original, '/sys')!.options);
    assert.deepEqual(mountAt(s, '/sys/fs/cgroup')!.options, mountAt(original, '/sys/fs/cgroup')!.options);
  });

  it('keeps mount trapped by sysbox-fs wherever the spec\'s profile lets it through', () => {
    const L = '/run/sysbox/seccomp.sock';
    // no profile (seccomp=unconfined): everything allowed, mount, umount and mount_setattr go to sysbox-fs
    const unconfined = dockerLikeSpec();
    delete unconfined.linux!.seccomp;
    const u = applyTransforms(unconfined, off).linux!.seccomp!;
    assert.deepEqual(u, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount', 'umount2', 'umount', 'mount_setattr'], action: 'SCMP_ACT_NOTIFY' }], listenerPath: L });
    // Docker's profile with --cap-add SYS_ADMIN allows mount among others: that part becomes a trap
    const withAdmin = trapMounts({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'mount', 'umount2'], action: 'SCMP_ACT_ALLOW' }] }, L);
    assert.deepEqual(withAdmin.syscalls, [
      { names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['mount', 'umount2'], action: 'SCMP_ACT_NOTIFY' },
    ]);
    // a conditional allow keeps its conditions; a denial is left alone
    const arg = [{ index: 3, value: 0, op: 'SCMP_CMP_EQ' }];
    const cond = trapMounts({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ALLOW', args: arg }, { names: ['umount2'], action: 'SCMP_ACT_ERRNO' }] }, L);
    assert.deepEqual(cond.syscalls, [
      { names: ['mount'], action: 'SCMP_ACT_NOTIFY', args: arg }, { names: ['umount2'], action: 'SCMP_ACT_ERRNO' }, { names: ['umount', 'mount_setattr'], action: 'SCMP_ACT_NOTIFY' },
    ]);
    // a profile that denies them (Docker's default without SYS_ADMIN) is not touched at all
    const docker = applyTransforms(dockerLikeSpec(), off).linux!.seccomp!;
    assert.deepEqual(docker, dockerLikeSpec().linux!.seccomp);
    assert.equal(applyTransforms(dockerLikeSpec(), context()).linux!.seccomp!.listenerPath, L, 'system mode: the seccomp transform traps');
  });

  it('adds no special dirs and no read-only tmpfs', () => {
    const s = applyTransforms(readOnly(dockerLikeSpec()), off);
    assert.equal(mountAt(s, '/var/lib/docker'), undefined);
    assert.equal(mountAt(s, '/run'), undefined);
    assert.equal(mountAt(s, '/tmp'), undefined);
  });

  it('still makes sysctls and the OOM score valid in the user namespace and strips the knobs', () => {
    const spec = dockerLikeSpec();
    spec.process!.env = ['PATH=/bin', 'SYSBOX_SYSCONT_MODE=FALSE'];
    spec.process!.oomScoreAdj = -1000;
    const s = applyTransforms(spec, off);
    assert.equal(s.linux!.sysctl!['net.ipv4.ping_group_range'], '0 65535');
    assert.equal(s.process!.oomScoreAdj, -999);
    assert.deepEqual(s.process!.env, ['PATH=/bin']);
  });
});

describe('read-only containers', () => {
  it('get writable tmpfs on /run and /tmp, unless the spec mounts something there', () => {
    const s = applyTransforms(readOnly(dockerLikeSpec()), context());
    assert.equal(s.root!.readonly, true);
    assert.equal(mountAt(s, '/run')!.type, 'tmpfs');
    assert.ok(mountAt(s, '/run')!.options!.includes('rw'));
    assert.ok(mountAt(s, '/tmp')!.options!.includes('mode=1777'));
    const own = readOnly(dockerLikeSpec());
    own.mounts!.push({ destination: '/tmp/', type: 'bind', source: '/srv/tmp', options: ['rbind'] });
    const t = applyTransforms(own, { ...context(), bindSources: [...context().bindSources, '/b/2'] });
    assert.deepEqual(t.mounts!.filter((m) => m.destination.startsWith('/tmp')).map((m) => m.type), ['bind']);
    assert.equal(mountAt(t, '/run')!.type, 'tmpfs');
  });

  it('keep special dirs, /sys and cgroupfs read-only', () => {
    const s = applyTransforms(withSys(readOnly(dockerLikeSpec())), context());
    assert.deepEqual(mountAt(s, '/var/lib/docker')!.options, ['rbind', 'rprivate', 'ro']);
    assert.ok(mountAt(s, '/sys')!.options!.includes('ro'));
    assert.ok(mountAt(s, '/sys/fs/cgroup')!.options!.includes('ro'));
  });

  it('with relaxed-read-only leave special dirs, /sys and cgroupfs writable', () => {
    const s = applyTransforms(withSys(readOnly(dockerLikeSpec())), context({ relaxedReadOnly: true }));
    assert.deepEqual(mountAt(s, '/var/lib/docker')!.options, ['rbind', 'rprivate']);
    assert.ok(!mountAt(s, '/sys')!.options!.includes('ro'));
    assert.ok(!mountAt(s, '/sys/fs/cgroup')!.options!.includes('ro'));
    assert.equal(mountAt(s, '/run')!.type, 'tmpfs');
  });

  it('change nothing in a writable container', () => {
    const a = applyTransforms(withSys(dockerLikeSpec()), context());
    const b = applyTransforms(withSys(dockerLikeSpec()), context({ relaxedReadOnly: true }));
    assert.deepEqual(a, b);
    assert.equal(mountAt(a, '/run'), undefined);
  });
});
