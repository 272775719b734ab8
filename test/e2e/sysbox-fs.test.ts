// sysbox-fs as seen from inside system containers started by Docker: virtual /proc files that
// reflect each container's own start time and cgroup limits, per-container emulated sysctls, mount
// trapping (a new procfs gets the virtual files; they cannot be unmounted), and nothing left behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { BUSYBOX, containerIdOf, docker, dockerOk, fsPid, fsRecordFiles, removeContainers, uniqueName } from '../lib/env.js';

const hostMemKb = (): number => Number(/MemTotal:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'))![1]);
const hostUptime = (): number => Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
const hostCpus = (): number => os.cpus().length;

/** A capacity written below the host's in container c stays c's own; the host's is never lowered. */
async function lowerInside(c: string, file: string): Promise<void> {
  assert.ok(fs.existsSync(file), `${file} must exist on the test host (nf_conntrack loaded)`);
  const host = Number(fs.readFileSync(file, 'utf8'));
  await dockerOk('exec', c, 'sh', '-c', `echo ${host - 1} > ${file}`);
  assert.equal(Number(await dockerOk('exec', c, 'cat', file)), host - 1);
  assert.equal(Number(fs.readFileSync(file, 'utf8')), host, 'host value not lowered');
}

/**
 * For a describe block: a function that starts a busybox system container (named prefix-..., with
 * the docker run options given) and returns its name; the block removes them all when done.
 */
function containers(prefix: string): (...args: string[]) => Promise<string> {
  const names: string[] = [];
  after(() => removeContainers(...names));
  return async (...args) => {
    const name = uniqueName(prefix);
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, ...args, BUSYBOX, 'sleep', '600');
    return name;
  };
}

describe('sysbox-fs: virtual /proc files', () => {
  const start = containers('fs');

  it('/proc/uptime counts from the container start, idle consistent with its CPUs', async () => {
    const c = await start();
    const [up, idle] = (await dockerOk('exec', c, 'cat', '/proc/uptime')).split(' ').map(Number);
    assert.ok(up >= 0 && up < 30, `container uptime ${up}s should be small`);
    assert.ok(up < hostUptime(), 'smaller than the host uptime');
    assert.ok(idle >= 0 && idle <= up * hostCpus() + 0.01, `idle ${idle} <= uptime x cpus`);
  });

  it('/proc/meminfo shows --memory as MemTotal, the host figure without a limit', async () => {
    const limited = await start('--memory', '256m');
    const free = await start();
    const mi = await dockerOk('exec', limited, 'cat', '/proc/meminfo');
    assert.match(mi, /^MemTotal:\s+262144 kB$/m);
    const memFree = Number(/^MemFree:\s+(\d+)/m.exec(mi)![1]);
    assert.ok(memFree > 0 && memFree < 262144, `MemFree ${memFree} within the limit`);
    assert.match(mi, /^SwapTotal:\s+0 kB$/m, 'no host swap: none in the container');
    const total = Number(/^MemTotal:\s+(\d+)/m.exec(await dockerOk('exec', free, 'cat', '/proc/meminfo'))![1]);
    assert.equal(total, hostMemKb());
  });

  it('/proc/cpuinfo and /proc/stat show the CPUs of --cpuset-cpus / --cpus', async () => {
    const one = await start('--cpuset-cpus', '0');
    assert.equal(await dockerOk('exec', one, 'grep', '-c', '^processor', '/proc/cpuinfo'), '1');
    assert.equal(await dockerOk('exec', one, 'sh', '-c', 'grep -c "^cpu[0-9]" /proc/stat'), '1');
    const quota = await start('--cpus', '1');
    assert.equal(await dockerOk('exec', quota, 'grep', '-c', '^processor', '/proc/cpuinfo'), '1', '--cpus 1 shows 1 CPU');
    const all = await start();
    assert.equal(Number(await dockerOk('exec', all, 'grep', '-c', '^processor', '/proc/cpuinfo')), hostCpus());
    // Its own CPU time: a fresh container has used well under a second of it.
    const cpu = (await dockerOk('exec', one, 'head', '-1', '/proc/stat')).split(/\s+/).slice(1).map(Number);
    assert.ok(cpu[0] + cpu[2] < 1000, `user+system ${cpu[0] + cpu[2]} ticks is the container's, not the host's`);
  });

  it('/proc/swaps names no host device; /proc/loadavg and /proc/diskstats are the container\'s', async () => {
    const c = await start('--memory', '128m');
    const swaps = (await dockerOk('exec', c, 'cat', '/proc/swaps')).split('\n');
    assert.match(swaps[0], /^Filename\s+Type\s+Size\s+Used\s+Priority$/);
    assert.ok(swaps.slice(1).every((l) => l.startsWith('none')), `only virtual swap lines: ${swaps.join('|')}`);
    const load = await dockerOk('exec', c, 'cat', '/proc/loadavg');
    const m = /^(\d+\.\d\d) (\d+\.\d\d) (\d+\.\d\d) (\d+)\/(\d+) (\d+)$/.exec(load);
    assert.ok(m, `loadavg format: ${load}`);
    assert.ok(Number(m[5]) >= 1 && Number(m[5]) < 50, `the container's own task count: ${m[5]}`);
    const disk = await dockerOk('exec', c, 'cat', '/proc/diskstats');
    assert.ok(disk.split('\n').length <= fs.readFileSync('/proc/diskstats', 'utf8').split('\n').length);
  });

  it('/sys/kernel shows none of the host\'s debug, tracing, security or config contents', async () => {
    const c = await start();
    const out = await dockerOk('exec', c, 'sh', '-c', 'for d in debug tracing security config; do echo "$d:$(ls -A /sys/kernel/$d 2>/dev/null | wc -l)"; done');
    assert.deepEqual(out.split('\n'), ['debug:0', 'tracing:0', 'security:0', 'config:0']);
  });

  it('virtual files are owned by root inside, and read as FUSE mounts of sysbox-fs', async () => {
    const c = await start();
    const ls = await dockerOk('exec', c, 'ls', '-ln', '/proc/uptime', '/proc/sys/kernel/panic');
    for (const line of ls.split('\n')) assert.match(line, /^\S+\s+\d+\s+0\s+0\s/, `root-owned: ${line}`);
    const mounts = await dockerOk('exec', c, 'grep', '-c', 'fuse.sysboxfs', '/proc/self/mountinfo');
    assert.ok(Number(mounts) >= 7, `${mounts} virtual files mounted`);
  });

  it('20 containers reading at once each get their own values', async () => {
    const cs = await Promise.all(Array.from({ length: 20 }, (_, i) => start('--memory', `${64 + i}m`)));
    const totals = await Promise.all(cs.map((c) => dockerOk('exec', c, 'sh', '-c', 'for i in 1 2 3 4 5; do head -1 /proc/meminfo; done | sort -u')));
    totals.forEach((t, i) => assert.match(t, new RegExp(`^MemTotal:\\s+${(64 + i) * 1024} kB$`), `container ${i}`));
  });
});

describe('sysbox-fs: emulated /proc/sys', () => {
  const start = containers('sysctl');

  it('a write inside is seen inside, not on the host nor in another container', async () => {
    const hostPanic = fs.readFileSync('/proc/sys/kernel/panic', 'utf8').trim();
    const hostPrintk = fs.readFileSync('/proc/sys/kernel/printk', 'utf8');
    const [a, b] = await Promise.all([start(), start()]);
    const want = hostPanic === '17' ? '18' : '17';
    await dockerOk('exec', a, 'sh', '-c', `echo ${want} > /proc/sys/kernel/panic && echo 3 > /proc/sys/kernel/printk`);
    assert.equal(await dockerOk('exec', a, 'cat', '/proc/sys/kernel/panic'), want);
    assert.equal(await dockerOk('exec', a, 'cat', '/proc/sys/kernel/printk'), hostPrintk.trim().replace(/^\d+/, '3'));
    assert.equal(fs.readFileSync('/proc/sys/kernel/panic', 'utf8').trim(), hostPanic, 'host unchanged');
    assert.equal(fs.readFileSync('/proc/sys/kernel/printk', 'utf8'), hostPrintk, 'host printk unchanged');
    assert.equal(await dockerOk('exec', b, 'cat', '/proc/sys/kernel/panic'), hostPanic, 'other container sees the host value');
  });

  it('invalid values get EINVAL and change nothing', async () => {
    const c = await start();
    for (const [file, value] of [['kernel/panic', 'abc'], ['kernel/panic_on_oops', '2'], ['vm/overcommit_memory', '3'], ['kernel/kptr_restrict', '-1']]) {
      const before = await dockerOk('exec', c, 'cat', `/proc/sys/${file}`);
      const r = await docker('exec', c, 'sh', '-c', `echo ${value} > /proc/sys/${file}`);
      assert.notEqual(r.status, 0, `${file}=${value} must fail`);
      assert.match(r.stderr, /Invalid argument/, `${file}=${value}: ${r.stderr}`);
      assert.equal(await dockerOk('exec', c, 'cat', `/proc/sys/${file}`), before);
    }
  });

  it('a capacity written below the host\'s stays the container\'s own (never lowers the host)', async () => {
    await lowerInside(await start(), '/proc/sys/net/netfilter/nf_conntrack_max');
  });

  it('nf_conntrack hashsize under /sys/module is emulated the same way', async () => {
    const file = '/sys/module/nf_conntrack/parameters/hashsize';
    const c = await start();
    await lowerInside(c, file);
    const r = await docker('exec', c, 'sh', '-c', `echo 0 > ${file}`);
    assert.match(r.stderr, /Invalid argument/);
  });

  it('namespaced sysctls pass through to the container\'s own namespaces', async () => {
    const c = await start();
    const host = fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim();
    await dockerOk('exec', c, 'sh', '-c', 'echo 1234 > /proc/sys/net/core/somaxconn');
    assert.equal(await dockerOk('exec', c, 'cat', '/proc/sys/net/core/somaxconn'), '1234');
    assert.equal(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim(), host);
  });
});

describe('sysbox-fs: the rest of /proc/sys', () => {
  const start = containers('procsys');

  it('host-wide entries show as root\'s with what root inside may do, and keep the host\'s values', async () => {
    const c = await start();
    const ls = await dockerOk('exec', c, 'ls', '-ln', '/proc/sys/kernel/core_pattern', '/proc/sys/vm/swappiness', '/proc/sys/fs/file-max');
    for (const line of ls.split('\n')) assert.match(line, /^-r--r--r--\s+\d+\s+0\s+0\s/, `root-owned, read-only: ${line}`);
    assert.equal(await dockerOk('exec', c, 'cat', '/proc/sys/kernel/core_pattern'), fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim());
    // What only the host's root may read (0600 on the host) is not readable inside either.
    assert.match(await dockerOk('exec', c, 'ls', '-ln', '/proc/sys/kernel/cad_pid'), /^----------\s+\d+\s+0\s+0\s/);
    const hidden = await docker('exec', c, 'cat', '/proc/sys/kernel/cad_pid');
    assert.notEqual(hidden.status, 0, 'kernel.cad_pid must not be readable inside');
    assert.match(hidden.stderr, /Permission denied/);
    const swappiness = fs.readFileSync('/proc/sys/vm/swappiness', 'utf8');
    const w = await docker('exec', c, 'sh', '-c', 'echo 1 > /proc/sys/vm/swappiness');
    assert.notEqual(w.status, 0, 'a host-wide setting is not writable inside');
    assert.match(w.stderr, /Permission denied/);
    assert.equal(fs.readFileSync('/proc/sys/vm/swappiness', 'utf8'), swappiness, 'host unchanged');
    // Only what a namespace owns without the kernel naming an owner (uts, pid, user; the net
    // directory itself) is nobody's.
    const unowned = (await dockerOk('exec', c, 'find', '/proc/sys', '!', '-user', '0')).split('\n').filter((l) => l !== '');
    const expected = /^\/proc\/sys\/(net|user(\/.*)?|kernel\/(hostname|domainname|ns_last_pid))$/;
    assert.deepEqual(unowned.filter((l) => !expected.test(l)), [], 'nothing else shows as nobody');
    assert.ok(unowned.length > 0 && unowned.every((l) => expected.test(l)));
    const r = await docker('exec', c, 'umount', '/proc/sys');
    assert.notEqual(r.status, 0, 'umount /proc/sys must fail');
    assert.match(r.stderr, /Operation not permitted/);
  });

  it('namespaced entries stay the kernel\'s; only the container\'s root writes emulated ones', async () => {
    const c = await start();
    const id = await containerIdOf(c);
    assert.equal(await dockerOk('exec', c, 'cat', '/proc/sys/kernel/hostname'), id.slice(0, 12), 'the container\'s own uts namespace');
    assert.equal(await dockerOk('exec', c, 'sh', '-c', 'echo 300 > /proc/sys/kernel/shmmni && cat /proc/sys/kernel/shmmni'), '300', 'its own ipc namespace');
    assert.notEqual(fs.readFileSync('/proc/sys/kernel/shmmni', 'utf8').trim(), '300');
    const user = await docker('exec', '-u', '1000', c, 'sh', '-c', 'echo 1 > /proc/sys/kernel/panic');
    assert.notEqual(user.status, 0, 'a non-root user inside cannot write an emulated setting');
    assert.match(user.stderr, /Permission denied/);
  });

  it('net.ipv4.neigh: the container\'s devices, read and written in its namespace, and an emulated default', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    assert.deepEqual((await dockerOk('exec', a, 'ls', '/proc/sys/net/ipv4/neigh')).split(/\s+/).sort(), ['default', 'eth0', 'lo']);
    const hostLo = fs.readFileSync('/proc/sys/net/ipv4/neigh/lo/ucast_solicit', 'utf8').trim();
    const want = hostLo === '7' ? '8' : '7';
    assert.equal(await dockerOk('exec', a, 'sh', '-c', `echo ${want} > /proc/sys/net/ipv4/neigh/lo/ucast_solicit && cat /proc/sys/net/ipv4/neigh/lo/ucast_solicit`), want);
    assert.equal(fs.readFileSync('/proc/sys/net/ipv4/neigh/lo/ucast_solicit', 'utf8').trim(), hostLo, 'host device unchanged');
    assert.equal(await dockerOk('exec', b, 'cat', '/proc/sys/net/ipv4/neigh/lo/ucast_solicit'), hostLo, 'other container unchanged');
    assert.match(await dockerOk('exec', a, 'ls', '-ln', '/proc/sys/net/ipv4/neigh/eth0/ucast_solicit'), /^-rw-r--r--\s+\d+\s+0\s+0\s/);
    const file = '/proc/sys/net/ipv4/neigh/default/gc_thresh1';
    const host = fs.readFileSync(file, 'utf8').trim();
    assert.equal(await dockerOk('exec', a, 'cat', file), host);
    await lowerInside(a, file);
    assert.equal(await dockerOk('exec', b, 'cat', file), host, 'other container sees the host value');
    for (const bad of ['-1', 'abc']) {
      const r = await docker('exec', a, 'sh', '-c', `echo ${bad} > ${file}`);
      assert.match(r.stderr, /Invalid argument/, `${bad}: ${r.stderr}`);
    }
    assert.equal(await dockerOk('exec', a, 'sysctl', '-n', 'net.ipv4.neigh.default.gc_thresh3'), fs.readFileSync('/proc/sys/net/ipv4/neigh/default/gc_thresh3', 'utf8').trim());
  });

  it('a neighbour table limit written above the host\'s raises the host\'s (the table is shared)', async () => {
    const c = await start();
    const file = '/proc/sys/net/ipv4/neigh/default/gc_thresh3';
    const host = fs.readFileSync(file, 'utf8');
    try {
      await dockerOk('exec', c, 'sh', '-c', `echo ${Number(host) + 1} > ${file}`);
      assert.equal(Number(fs.readFileSync(file, 'utf8')), Number(host) + 1, 'host raised');
      assert.equal(Number(await dockerOk('exec', c, 'cat', file)), Number(host) + 1);
    } finally {
      fs.writeFileSync(file, host);
    }
  });
});

describe('sysbox-fs: /sys/kernel and /sys/devices/virtual', () => {
  const start = containers('sysdirs');

  it('show the host\'s entries as root\'s and read-only, symlinks included, and the container\'s own network devices', async () => {
    const c = await start();
    const thp = '/sys/kernel/mm/transparent_hugepage/enabled';
    const ls = await dockerOk('exec', c, 'ls', '-ln', thp, '/sys/devices/virtual/mem/null/dev');
    for (const line of ls.split('\n')) assert.match(line, /^-r--r--r--\s+\d+\s+0\s+0\s/, `root-owned, read-only: ${line}`);
    assert.equal(await dockerOk('exec', c, 'cat', thp), fs.readFileSync(thp, 'utf8').trim());
    const w = await docker('exec', c, 'sh', '-c', `echo never > ${thp}`);
    assert.match(w.stderr, /Permission denied/);
    assert.equal(await dockerOk('exec', c, 'readlink', '/sys/devices/virtual/mem/null/subsystem'), fs.readlinkSync('/sys/devices/virtual/mem/null/subsystem'));
    assert.equal(await dockerOk('exec', c, 'cat', '/sys/devices/virtual/mem/null/subsystem/null/dev'), '1:3', 'a symlink resolves inside the container\'s /sys');
    assert.deepEqual((await dockerOk('exec', c, 'ls', '/sys/devices/virtual/net')).split(/\s+/).sort(), ['eth0', 'lo'], 'its own devices, not the host\'s');
    // Below the network devices (the kernel's, put back) the kernel decides; nothing else is nobody's.
    const unowned = await dockerOk('exec', c, 'sh', '-c', 'find /sys/kernel /sys/devices/virtual ! -user 0 | grep -v "^/sys/devices/virtual/net"; true');
    assert.equal(unowned, '', 'nothing shows as nobody');
    for (const target of ['/sys/kernel', '/sys/devices/virtual']) {
      const r = await docker('exec', c, 'umount', target);
      assert.match(r.stderr, /Operation not permitted/, `umount ${target}`);
    }
  });

  it('a host directory\'s listing inside follows the host once the names\' ttl (1 s) has passed', async () => {
    // A bound loop device's sysfs directory has a loop/ subdirectory, gone when it is detached. A
    // listing kept past the ttl (by sysbox-fs, or by the kernel's directory cache) would keep it.
    const c = await start();
    const backing = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-loop-'));
    const img = path.join(backing, 'img');
    fs.writeFileSync(img, Buffer.alloc(1 << 20));
    let dev = '';
    try {
      const dir = (d: string): string => `/sys/devices/virtual/block/${path.basename(d)}`;
      dev = execFileSync('losetup', ['--find', '--show', img], { encoding: 'utf8' }).trim();
      const listed = async (): Promise<string[]> => (await dockerOk('exec', c, 'ls', dir(dev))).split(/\s+/);
      // An earlier walk may have listed the unbound device's dir less than a ttl ago: it may take that long.
      let bound = await listed();
      for (let i = 0; i < 15 && !bound.includes('loop'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        bound = await listed();
      }
      assert.ok(bound.includes('loop'), `bound: loop/ listed within the ttl (${bound.join(' ')})`);
      execFileSync('losetup', ['-d', dev]);
      const name = dev;
      dev = ''; // detached: the device may be someone else's from now on
      await new Promise((r) => setTimeout(r, 1500));
      const detached = (await dockerOk('exec', c, 'ls', dir(name))).split(/\s+/);
      assert.ok(!detached.includes('loop'), `detached: loop/ no longer listed (${detached.join(' ')})`);
    } finally {
      if (dev) try { execFileSync('losetup', ['-d', dev], { stdio: 'ignore' }); } catch { /* already detached */ }
      fs.rmSync(backing, { recursive: true, force: true });
    }
  });
});

describe('sysbox-fs: mount trapping', () => {
  const start = containers('trap');

  it('a new procfs inside shows the virtual files; virtual files and read-only masks cannot be unmounted', async () => {
    const c = await start('--memory', '100m');
    const out = await dockerOk('exec', c, 'sh', '-c', 'echo 5 > /proc/sys/kernel/panic && mkdir -p /mnt/p && mount -t proc proc /mnt/p && cat /mnt/p/uptime && head -1 /mnt/p/meminfo && cat /mnt/p/sys/kernel/panic && ls /mnt/p/sys/net/ipv4/neigh && stat -c %u /mnt/p/sys/vm/swappiness');
    const [uptime, mem, panic, ...rest] = out.split('\n');
    assert.equal(panic, '5', 'the emulated value, in the new procfs too');
    assert.deepEqual(rest.join(' ').split(/\s+/), ['default', 'eth0', 'lo', '0'], 'its neigh directory and root-owned host entries');
    assert.ok(Number(uptime.split(' ')[0]) < 60, `new procfs uptime ${uptime} is the container's`);
    assert.match(mem, /^MemTotal:\s+102400 kB$/);
    for (const target of ['/proc/uptime', '/proc/sys', '/proc/sys/net/ipv4/neigh', '/mnt/p/uptime', '/mnt/p/sys']) {
      const r = await docker('exec', c, 'umount', target);
      assert.notEqual(r.status, 0, `umount ${target} must fail`);
      assert.match(r.stderr, /Operation not permitted/);
    }
    const rw = await docker('exec', c, 'mount', '-o', 'remount,rw', '/proc/bus');
    assert.notEqual(rw.status, 0, 'remounting a read-only /proc path read-write must fail');
    // Every other mount is the kernel's business.
    assert.equal(await dockerOk('exec', c, 'sh', '-c', 'mount -t tmpfs t /mnt && umount /mnt && echo ok'), 'ok');
    assert.equal(await dockerOk('exec', c, 'sh', '-c', 'mkdir -p /mnt/s && mount -t sysfs s /mnt/s && ls /mnt/s/kernel >/dev/null && umount /mnt/s/module/nf_conntrack/parameters/hashsize 2>&1; echo $?'), 'umount: can\'t unmount /mnt/s/module/nf_conntrack/parameters/hashsize: Operation not permitted\n1');
  });

  it('a chroot mounting its own /proc gets the virtual files', async () => {
    const c = await start('--memory', '96m');
    const out = await dockerOk('exec', c, 'sh', '-c', 'mkdir -p /jail/bin /jail/proc && cp /bin/busybox /jail/bin/ && chroot /jail /bin/busybox sh -c "/bin/busybox mount -t proc proc /proc && /bin/busybox head -1 /proc/meminfo"');
    assert.match(out, /^MemTotal:\s+98304 kB$/);
  });
});

describe('sysbox-fs: cleanup', () => {
  it('a removed container leaves no sysbox-fs state behind', async () => {
    const c = uniqueName('fsgone');
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c, BUSYBOX, 'sleep', '600');
    const id = await containerIdOf(c);
    await dockerOk('exec', c, 'sh', '-c', 'echo 9 > /proc/sys/kernel/panic');
    assert.ok(fs.existsSync(fsRecordFiles(id)[0]), 'registered while it runs');
    await dockerOk('rm', '-f', c);
    for (let i = 0; i < 20 && fsRecordFiles(id).some((f) => fs.existsSync(f)); i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(fsRecordFiles(id).filter((f) => fs.existsSync(f)), []);
  });

  it('the cgroup files read to render a removed container\'s /proc are closed (ring workers too)', async () => {
    // Kept open between renderings (container/kept-files.ts); an fd left on a removed cgroup keeps it
    // as a dying cgroup in the kernel. The workers close them at their housekeeping: a ring worker,
    // which serves the reads of a container's CPUs, after a second with no request.
    const c = uniqueName('fscgfd');
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--memory', '64m', '--name', c, BUSYBOX, 'sleep', '600');
    const id = await containerIdOf(c);
    await dockerOk('exec', c, 'sh', '-c', 'for i in 1 2 3 4 5; do cat /proc/meminfo /proc/stat /proc/diskstats >/dev/null; done');
    const held = (): string[] => {
      const dir = `/proc/${fsPid()}/fd`;
      return fs.readdirSync(dir).map((fd) => { try { return fs.readlinkSync(`${dir}/${fd}`); } catch { return ''; } }).filter((t) => t.includes(id));
    };
    assert.ok(held().length > 0, 'rendering its /proc opened files of its cgroups');
    await dockerOk('rm', '-f', c);
    for (let i = 0; i < 40 && held().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(held(), [], 'closed within 4 s of the removal');
  });
});
