// The per-container knobs that decide how far a container is a *system* container, end to end through
// Docker: honor-caps (SYSBOX_HONOR_CAPS, sysbox-mgr --honor-caps), syscont-mode
// (SYSBOX_SYSCONT_MODE, --syscont-mode=false), and the SYSBOX_* environment surface itself (bad
// knobs refused with nothing left behind, knobs never visible to the processes inside). Expected
// capability sets are the original Sysbox's (its tests/ honor-caps and syscont-mode bats files) on
// this kernel (41 capabilities) and Docker 20.10.14+ (empty inheritable set).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  BUSYBOX, containerIdOf, docker, dockerOk, hostRootId, leftoversOf, removeContainers, restartMgr, uniqueName,
} from '../lib/env.js';

const ALL = '000001ffffffffff';
const NONE = '0000000000000000';
/** Docker's default set (CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP). */
const DOCKER_DEFAULT = '00000000a80425fb';
const SYS_ADMIN = '0000000000200000';

type CapSets = [inh: string, prm: string, eff: string, bnd: string, amb: string];

const ROOT_ALL: CapSets = [ALL, ALL, ALL, ALL, ALL];
const USER_NONE: CapSets = [NONE, NONE, NONE, ALL, NONE];
const ROOT_DOCKER: CapSets = [NONE, DOCKER_DEFAULT, DOCKER_DEFAULT, DOCKER_DEFAULT, NONE];
const USER_DOCKER: CapSets = [NONE, NONE, NONE, DOCKER_DEFAULT, NONE];

function capSets(status: string): CapSets {
  const get = (k: string): string => {
    const m = new RegExp(`^Cap${k}:\\s*([0-9a-f]+)$`, 'm').exec(status);
    if (!m) throw new Error(`no Cap${k} in ${status}`);
    return m[1]!;
  };
  return [get('Inh'), get('Prm'), get('Eff'), get('Bnd'), get('Amb')];
}

const SELF_CAPS = ['grep', '^Cap', '/proc/self/status'];

/** Capability sets of a one-shot container's init; runtime and docker options as given. */
async function runCaps(opts: string[], runtime = 'sysbox-runc'): Promise<CapSets> {
  return capSets(await dockerOk('run', '--rm', `--runtime=${runtime}`, ...opts, BUSYBOX, ...SELF_CAPS));
}

async function execCaps(name: string, opts: string[] = []): Promise<CapSets> {
  return capSets(await dockerOk('exec', ...opts, name, ...SELF_CAPS));
}

describe('honor-caps', () => {
  const names: string[] = [];
  after(async () => {
    await removeContainers(...names);
    await restartMgr();
  });

  async function sleeper(prefix: string, opts: string[] = []): Promise<string> {
    const name = uniqueName(prefix);
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, ...opts, BUSYBOX, 'sleep', '300');
    return name;
  }

  it('off by default: root holds every capability in all five sets, other users only the bounding set', async () => {
    assert.deepEqual(await runCaps([]), ROOT_ALL);
    assert.deepEqual(await runCaps(['-u', '1000:1000']), USER_NONE);
    // --cap-add/--cap-drop have no effect then (as in the original)
    assert.deepEqual(await runCaps(['--cap-drop=ALL']), ROOT_ALL);
    const name = await sleeper('caps-default');
    assert.deepEqual(await execCaps(name), ROOT_ALL);
    assert.deepEqual(await execCaps(name, ['-u', '1000:1000']), USER_NONE);
  });

  it('SYSBOX_HONOR_CAPS=TRUE gives init exactly what runc gives it, --cap-add/--cap-drop included', async () => {
    assert.deepEqual(await runCaps(['-e', 'SYSBOX_HONOR_CAPS=TRUE']), ROOT_DOCKER);
    assert.deepEqual(await runCaps([], 'runc'), ROOT_DOCKER, 'runc itself must give Docker\'s default set');
    assert.deepEqual(await runCaps(['-e', 'SYSBOX_HONOR_CAPS=TRUE', '-u', '1000:1000']), USER_DOCKER);
    assert.deepEqual(await runCaps(['-u', '1000:1000'], 'runc'), USER_DOCKER);
    const dropAdd = ['--cap-drop=ALL', '--cap-add=SYS_ADMIN'];
    assert.deepEqual(await runCaps(['-e', 'SYSBOX_HONOR_CAPS=TRUE', ...dropAdd]), [NONE, SYS_ADMIN, SYS_ADMIN, SYS_ADMIN, NONE]);
    assert.deepEqual(await runCaps(dropAdd, 'runc'), [NONE, SYS_ADMIN, SYS_ADMIN, SYS_ADMIN, NONE]);
    // Honoured caps still live in the container's own user namespace.
    const name = await sleeper('caps-honor', ['-e', 'SYSBOX_HONOR_CAPS=TRUE']);
    assert.ok(await hostRootId(name) > 0);
  });

  it('docker exec follows the container\'s setting, or its own SYSBOX_HONOR_CAPS', async () => {
    const honoring = await sleeper('caps-exec-h', ['-e', 'SYSBOX_HONOR_CAPS=TRUE']);
    assert.deepEqual(await execCaps(honoring), ROOT_DOCKER);
    assert.deepEqual(await execCaps(honoring, ['-u', '1000:1000']), USER_DOCKER);
    assert.deepEqual(await execCaps(honoring, ['-e', 'SYSBOX_HONOR_CAPS=FALSE']), ROOT_ALL);
    const plain = await sleeper('caps-exec-p');
    assert.deepEqual(await execCaps(plain, ['-e', 'SYSBOX_HONOR_CAPS=TRUE']), ROOT_DOCKER);
    assert.deepEqual(await execCaps(plain), ROOT_ALL);
  });

  it('sysbox-mgr --honor-caps makes it the default; SYSBOX_HONOR_CAPS=FALSE opts a container out', async () => {
    await restartMgr(['--honor-caps']);
    assert.deepEqual(await runCaps([]), ROOT_DOCKER);
    assert.deepEqual(await runCaps(['-u', '1000:1000']), USER_DOCKER);
    assert.deepEqual(await runCaps(['-e', 'SYSBOX_HONOR_CAPS=FALSE']), ROOT_ALL);
    const name = await sleeper('caps-global');
    assert.deepEqual(await execCaps(name), ROOT_DOCKER);
    assert.deepEqual(await execCaps(name, ['-e', 'SYSBOX_HONOR_CAPS=FALSE']), ROOT_ALL);
    await restartMgr();
    // The config is the container's, fixed when it was created: a restart with the default changes nothing.
    assert.deepEqual(await execCaps(name), ROOT_DOCKER);
  });
});

describe('syscont-mode=false', () => {
  const names: string[] = [];
  after(async () => {
    await removeContainers(...names);
    await restartMgr();
  });

  async function sleeper(prefix: string, opts: string[]): Promise<string> {
    const name = uniqueName(prefix);
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, ...opts, BUSYBOX, 'sleep', '300');
    return name;
  }

  /** Mount options of the mount at target in the container (its mountinfo's per-mount field). */
  async function mountOptions(name: string, target: string): Promise<string | undefined> {
    const info = await dockerOk('exec', name, 'cat', '/proc/self/mountinfo');
    const line = info.split('\n').reverse().find((l) => l.split(' ')[4] === target);
    return line?.split(' ')[5];
  }

  it('SYSBOX_SYSCONT_MODE=FALSE: set up per the spec, but in its own user and cgroup namespaces', async () => {
    const name = await sleeper('scm-off', ['-e', 'SYSBOX_SYSCONT_MODE=FALSE']);
    const id = await containerIdOf(name);
    // capabilities, seccomp and /sys as Docker asked: no mount, no unshare, read-only sysfs and cgroups
    assert.deepEqual(capSets(await dockerOk('exec', name, 'grep', '^Cap', '/proc/1/status')), ROOT_DOCKER);
    assert.match((await mountOptions(name, '/sys'))!, /^ro,/);
    assert.match((await mountOptions(name, '/sys/fs/cgroup/pids'))!, /^ro,/);
    const mount = await docker('exec', name, 'sh', '-c', 'mkdir -p /root/t && mount -t tmpfs t /root/t');
    assert.notEqual(mount.status, 0, 'mount must be refused');
    assert.notEqual((await docker('exec', name, 'unshare', '-m', 'true')).status, 0, 'unshare must be refused');
    // no special dirs backed by sysbox-mgr
    assert.equal(await mountOptions(name, '/var/lib/docker'), undefined);
    // but the user namespace on an exclusive range, a cgroup namespace and sysbox-fs's files
    assert.ok(await hostRootId(name) >= 1_000_000_000, 'root must map into the test pool');
    assert.match(await dockerOk('exec', name, 'cat', '/proc/self/cgroup'), /^\d+:pids:\/$/m);
    assert.match(await dockerOk('exec', name, 'grep', ' /proc/uptime ', '/proc/self/mountinfo'), /fuse\.sysboxfs/);
    // the mode is fixed at create: an exec cannot switch it back
    assert.deepEqual(await execCaps(name, ['-e', 'SYSBOX_SYSCONT_MODE=TRUE']), ROOT_DOCKER);
    assert.deepEqual(await execCaps(name, ['-e', 'SYSBOX_HONOR_CAPS=FALSE']), ROOT_DOCKER);
    await dockerOk('rm', '-f', name);
    assert.deepEqual(leftoversOf(id), []);
  });

  it('with CAP_SYS_ADMIN and no seccomp profile, mount is still trapped: the virtual files stay', async () => {
    const r = await dockerOk('run', '--rm', '--runtime=sysbox-runc', '-e', 'SYSBOX_SYSCONT_MODE=FALSE', '--cap-add', 'SYS_ADMIN',
      '--security-opt', 'seccomp=unconfined', BUSYBOX, 'sh', '-c', [
        'grep CapEff /proc/self/status',
        'mkdir -p /mnt/p && mount -t proc proc /mnt/p && grep -c " /mnt/p/uptime .* fuse.sysboxfs " /proc/self/mountinfo',
        'umount /proc/uptime 2>/dev/null && echo unmounted || echo kept',
      ].join('; '));
    // Docker's default set plus SYS_ADMIN; the new procfs got sysbox-fs's uptime; the old one kept it
    assert.deepEqual(r.split('\n').map((l) => l.trim().split(/\s+/).join(' ')), ['CapEff: 00000000a82425fb', '1', 'kept']);
  });

  it('a system container next to it keeps the system setup', async () => {
    const name = await sleeper('scm-on', ['-e', 'SYSBOX_SYSCONT_MODE=TRUE']);
    assert.deepEqual(capSets(await dockerOk('exec', name, 'grep', '^Cap', '/proc/1/status')), ROOT_ALL);
    assert.match((await mountOptions(name, '/sys'))!, /^rw,/);
    assert.match((await mountOptions(name, '/var/lib/docker'))!, /^rw,/);
    assert.equal((await docker('exec', name, 'sh', '-c', 'mkdir -p /root/t && mount -t tmpfs t /root/t && umount /root/t')).status, 0);
  });

  it('sysbox-mgr --syscont-mode=false makes it the default; SYSBOX_SYSCONT_MODE=TRUE opts a container in', async () => {
    await restartMgr(['--syscont-mode=false']);
    assert.deepEqual(await runCaps([]), ROOT_DOCKER);
    const name = await sleeper('scm-global', []);
    assert.match((await mountOptions(name, '/sys'))!, /^ro,/);
    assert.deepEqual(await runCaps(['-e', 'SYSBOX_SYSCONT_MODE=TRUE']), ROOT_ALL);
  });
});

describe('SYSBOX_* environment variables', () => {
  const names: string[] = [];
  after(() => removeContainers(...names));

  for (const [knob, problem] of [
    ['SYSBOX_FOO=TRUE', /unknown sysbox environment variable SYSBOX_FOO/],
    ['SYSBOX_HONOR_CAPS=yes', /invalid value for SYSBOX_HONOR_CAPS: "yes"/],
  ] as const) {
    it(`docker run -e ${knob} fails naming the variable and leaves nothing behind`, async () => {
      const name = uniqueName('knob-bad');
      names.push(name);
      const r = await docker('run', '--runtime=sysbox-runc', '--name', name, '-e', knob, BUSYBOX, 'true');
      assert.notEqual(r.status, 0, `must fail: ${r.stdout}`);
      assert.match(r.stderr, problem, `docker's stderr must carry sysbox-runc's message: ${r.stderr}`);
      const id = await containerIdOf(name);
      // no run dir, mounts, rootfs view, sysbox-mgr record (the id range) or sysbox-fs state
      assert.deepEqual(leftoversOf(id), []);
    });
  }

  it('are absent from the environment of init and of docker exec', async () => {
    const env = await dockerOk('run', '--rm', '--runtime=sysbox-runc', '-e', 'SYSBOX_HONOR_CAPS=TRUE', '-e', 'SYSBOX_SYSCONT_MODE=TRUE', '-e', 'KEEP=1', BUSYBOX, 'env');
    assert.match(env, /^KEEP=1$/m);
    assert.doesNotMatch(env, /SYSBOX_/);
    const name = uniqueName('knob-env');
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, '-e', 'SYSBOX_HONOR_CAPS=TRUE', '-e', 'KEEP=1', BUSYBOX, 'sleep', '300');
    // Docker gives exec the container's env plus its own -e: sysbox-runc strips both.
    const execEnv = await dockerOk('exec', '-e', 'SYSBOX_HONOR_CAPS=FALSE', name, 'env');
    assert.match(execEnv, /^KEEP=1$/m);
    assert.doesNotMatch(execEnv, /SYSBOX_/);
    assert.doesNotMatch(await dockerOk('exec', name, 'cat', '/proc/1/environ'), /SYSBOX_/);
  });

  it('docker exec -e SYSBOX_FOO=TRUE fails naming the variable', async () => {
    const name = uniqueName('knob-exec');
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, BUSYBOX, 'sleep', '300');
    const r = await docker('exec', '-e', 'SYSBOX_FOO=TRUE', name, 'true');
    assert.notEqual(r.status, 0);
    // docker exec prints the runtime's error on stdout
    assert.match(r.stdout + r.stderr, /OCI runtime exec failed: unknown sysbox environment variable SYSBOX_FOO/);
    assert.equal((await docker('exec', name, 'true')).status, 0, 'the container is unaffected');
  });
});
