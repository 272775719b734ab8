// Listings the kernel keeps for sysbox-fs (FOPEN_CACHE_DIR on the host sysfs directories, whose
// listing is the same for every caller): a host directory that gains or loses an entry shows it
// inside within its ttl (the directory's mtime carries a stamp of its listing, and the kernel
// compares it), and a listing per network namespace (net/ipv4/neigh) is never kept, so no
// namespace sees another's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { BUSYBOX, docker, dockerOk, removeContainers, uniqueName } from '../lib/env.js';

const BDI = '/sys/devices/virtual/bdi';
/** sysfs's ttl is 1 s; the worker's listing and the kernel's attributes may each be that old: 2 s, plus a loaded machine's slack. */
const SHOWS_WITHIN_MS = 6000;

/**
 * A FUSE mount nobody serves: mount(2) makes the superblock, and with it a new backing device
 * (/sys/devices/virtual/bdi/<major:minor>), before any request is answered. A real host directory
 * gaining an entry, made and removed by the test alone.
 */
function mountUnserved(dir: string): { device: string; remove: () => void } {
  fs.mkdirSync(dir, { recursive: true });
  const fd = fs.openSync('/dev/fuse', 'r+');
  const name = path.basename(dir);
  const r = spawnSync('mount', ['-i', '-t', `fuse.${name}`, '-o', 'fd=3,rootmode=40000,user_id=0,group_id=0', name, dir], { stdio: ['ignore', 'pipe', 'pipe', fd] });
  if (r.status !== 0) {
    fs.closeSync(fd);
    throw new Error(`mount of an unserved FUSE on ${dir}: ${r.stderr.toString()}`);
  }
  const line = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === dir);
  const remove = (): void => {
    spawnSync('umount', ['-l', dir]);
    fs.closeSync(fd);
    fs.rmdirSync(dir);
  };
  if (!line) {
    remove();
    throw new Error(`${dir} not in mountinfo after mount`);
  }
  return { device: line.split(' ')[2]!, remove };
}

/**
 * Lists dir in container c (with ls, which reads the directory from offset 0 each time) until
 * want(names) holds; returns how long it took, or undefined. Within the ttl a kept listing may
 * still name an entry the host removed, and busybox ls, which stats each name, then says it is
 * gone and exits 1: that listing counts, with the name still in it; any other failure throws.
 */
async function listUntil(c: string, dir: string, want: (names: string[]) => boolean, ms: number): Promise<number | undefined> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    const r = await docker('exec', c, 'ls', dir);
    const vanished = [...r.stderr.matchAll(/ls: \S+\/([^/\s]+): No such file or directory/g)].map((m) => m[1]!);
    const others = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/: No such file or directory$/.test(l));
    if (r.status !== 0 && (vanished.length === 0 || others.length > 0)) throw new Error(`docker exec ${c} ls ${dir} failed (${r.status}): ${r.stderr}`);
    if (want([...r.stdout.split(/\s+/).filter((n) => n !== ''), ...vanished])) return Date.now() - start;
    await new Promise((r2) => setTimeout(r2, 100));
  }
  return undefined;
}

describe('sysbox-fs: listings the kernel keeps', () => {
  const names: string[] = [];
  after(() => removeContainers(...names));
  const start = async (...args: string[]): Promise<string> => {
    const name = uniqueName('listcache');
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, ...args, BUSYBOX, 'sleep', '600');
    return name;
  };

  it('a host directory that gains an entry shows it inside within the ttl, and loses it again', async (t) => {
    const c = await start('--network', 'none');
    // Listed twice first: the second listing is the kernel's own (kept) when caching is on.
    const before = (await dockerOk('exec', c, 'ls', BDI)).split(/\s+/);
    assert.deepEqual((await dockerOk('exec', c, 'ls', BDI)).split(/\s+/), before);
    const bdi = mountUnserved(path.join(os.tmpdir(), uniqueName('sbxbdi')));
    let removed = false;
    try {
      assert.ok(fs.existsSync(`${BDI}/${bdi.device}`), `the host has ${BDI}/${bdi.device}`);
      assert.ok(!before.includes(bdi.device));
      const shown = await listUntil(c, BDI, (n) => n.includes(bdi.device), SHOWS_WITHIN_MS);
      assert.ok(shown !== undefined, `${bdi.device} never showed in the container's ${BDI} within ${SHOWS_WITHIN_MS} ms`);
      // And by name, through a lookup rather than a listing.
      assert.equal(await dockerOk('exec', c, 'sh', '-c', `test -d ${BDI}/${bdi.device} && echo yes`), 'yes');
      bdi.remove();
      removed = true;
      const gone = await listUntil(c, BDI, (n) => !n.includes(bdi.device), SHOWS_WITHIN_MS);
      assert.ok(gone !== undefined, `${bdi.device} still listed in the container ${SHOWS_WITHIN_MS} ms after it went`);
      t.diagnostic(`new entry shown after ${shown} ms, removed one gone after ${gone} ms`);
    } finally {
      if (!removed) bdi.remove();
    }
  });

  it('net/ipv4/neigh is listed per network namespace: never one namespace\'s listing to another', async () => {
    const bridged = await start();
    const isolated = await start('--network', 'none');
    const neigh = '/proc/sys/net/ipv4/neigh';
    const names = (out: string): string => out.split(/\s+/).sort().join(' ');
    const list = async (c: string): Promise<string> => names(await dockerOk('exec', c, 'ls', neigh));
    // A new network namespace reaches the same inode (the container's slot) only through a procfs
    // mounted in it (its own /proc/sys/net is another dentry, which the container's bind is not on):
    // as an inner container does.
    const listInNewNetns = async (c: string): Promise<string> =>
      names(await dockerOk('exec', c, 'unshare', '-n', '-m', 'sh', '-c', `mkdir -p /mnt/p && mount -t proc proc /mnt/p && ls /mnt/p/sys/net/ipv4/neigh`));
    // Alternated, several times: a kept listing would show up as the other's on the second round.
    for (let i = 0; i < 3; i++) {
      assert.equal(await list(bridged), 'default eth0 lo', `round ${i}: the bridged container's devices`);
      assert.equal(await list(isolated), 'default lo', `round ${i}: the isolated container's devices`);
      // One container's inode, two namespaces: its own, and a new one made by unshare.
      assert.equal(await listInNewNetns(bridged), 'default lo', `round ${i}: a new network namespace inside the bridged container`);
      assert.equal(await list(bridged), 'default eth0 lo', `round ${i}: the bridged container's devices again`);
    }
  });

  it('neigh/lo\'s names are kept (every network namespace has lo), its values stay each namespace\'s, and another device\'s name never reaches a namespace without it', async () => {
    const bridged = await start();
    const neigh = '/proc/sys/net/ipv4/neigh';
    const hostLo = fs.readFileSync(`${neigh}/lo/ucast_solicit`, 'utf8').trim();
    const want = hostLo === '7' ? '8' : '7';
    // One exec, well within the names' ttl: the container looks lo and eth0 up, then a new network
    // namespace inside it (an inner container's) reads through the same inodes.
    const inner = `mkdir -p /mnt/p && mount -t proc proc /mnt/p && cat /mnt/p/sys/net/ipv4/neigh/lo/ucast_solicit && ls /mnt/p/sys/net/ipv4/neigh/lo | wc -l && { cat /mnt/p/sys/net/ipv4/neigh/eth0/ucast_solicit 2>/dev/null || echo no-eth0; }`;
    const out = await dockerOk('exec', bridged, 'sh', '-c', [
      `echo ${want} > ${neigh}/lo/ucast_solicit`, `cat ${neigh}/lo/ucast_solicit`, `ls ${neigh}/lo | wc -l`, `cat ${neigh}/eth0/ucast_solicit >/dev/null && echo eth0`,
      `unshare -n -m sh -c '${inner}'`, `cat ${neigh}/lo/ucast_solicit`,
    ].join(' && '));
    const [mine, entries, eth0, innerLo, innerEntries, innerEth0, mineAgain] = out.split('\n');
    assert.equal(mine, want, 'the container reads back what it wrote to its lo');
    assert.equal(eth0, 'eth0');
    assert.equal(innerLo, hostLo, 'a new namespace reads its own lo through the cached name, not the container\'s value');
    assert.equal(innerEntries, entries, 'the same entries in its lo');
    assert.equal(innerEth0, 'no-eth0', 'the container\'s eth0, looked up a moment before, is not the new namespace\'s');
    assert.equal(mineAgain, want, 'and the container\'s own value is unchanged');
  });

  it('a kept listing is the host\'s: /sys/kernel as the host lists it (less what is hidden), and a walk of it the same twice in a row', async () => {
    const c = await start('--network', 'none');
    const host = fs.readdirSync('/sys/kernel').filter((n) => !['debug', 'tracing', 'config'].includes(n)).sort().join(' ');
    for (let i = 0; i < 3; i++) assert.equal((await dockerOk('exec', c, 'ls', '/sys/kernel')).split(/\s+/).sort().join(' '), host, `listing ${i}`);
    const [first, second] = (await dockerOk('exec', c, 'sh', '-c', 'find /sys/kernel | sort | md5sum; find /sys/kernel | sort | md5sum')).split('\n');
    assert.equal(second, first);
  });
});
