// The host-wide /proc/sys settings sysbox-fs serves through the kernel's page cache (fuse/kept-pages.ts):
// every open shows the value as of that open (never a kept page the host has moved on from), whole
// (no truncation to an older, shorter rendering's size, no padding), however it is read (cat uses
// sendfile, dd bs=1 one read(2) per byte), and also after the attributes' ttl, when the kernel asks
// for them again. Emulated settings (per container, writable) are page-cached for reads and written
// direct: a write reads back, longer or shorter.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { BUSYBOX, dockerOk, keeperKeptOpens, removeContainers, uniqueName } from '../lib/env.js';

const FILE_NR = /^(\d+)\t(\d+)\t(\d+)\n$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$/;
/** The host procfs pass-through's ttl (virtual-tree.ts HOST_TTL.procfs), plus a second. */
const AFTER_TTL_MS = 11_000;
/** Host fds opened, at least: moves fs/file-nr by more than other work on the host does meanwhile. */
const MIN_EXTRA_FDS = 3000;
/** At most (the test runner's fd limit is 20000 here). */
const MAX_EXTRA_FDS = 15000;

/** Reads each path in c with cat (sendfile) and with dd bs=1 (a read(2) per byte), n times each; the contents in order. */
async function readInside(c: string, paths: string[], n = 1): Promise<string[]> {
  const script = paths.map((p) => `for i in $(seq ${n}); do cat ${p}; echo @@; dd if=${p} bs=1 2>/dev/null; echo @@; done`).join('; ');
  const out = await dockerOk('exec', c, 'sh', '-c', script);
  return `${out}\n`.split('@@\n').slice(0, -1);
}

const firstField = (text: string): number => Number(FILE_NR.exec(text)?.[1] ?? NaN);

describe('sysbox-fs: page-cached /proc/sys settings', () => {
  let c = '';
  before(async () => {
    c = uniqueName('sysctlpc');
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--network', 'none', '--name', c, BUSYBOX, 'sleep', '600');
  });
  after(() => removeContainers(c));

  it('static host settings read whole and as the host has them, by cat and by dd bs=1, again and again', async () => {
    const paths = ['/proc/sys/kernel/ostype', '/proc/sys/kernel/osrelease', '/proc/sys/fs/file-max', '/proc/sys/kernel/seccomp/actions_avail'];
    const got = await readInside(c, paths, 3);
    paths.forEach((p, i) => {
      const host = fs.readFileSync(p, 'utf8');
      for (let k = 0; k < 6; k++) assert.equal(got[i * 6 + k], host, `${p}, read ${k} (${k % 2 ? 'dd bs=1' : 'cat'})`);
    });
    // The size shown is the kept rendering's, so tools that trust st_size read it whole.
    const [size, wc] = (await dockerOk('exec', c, 'sh', '-c', 'cat /proc/sys/kernel/ostype >/dev/null; stat -c %s /proc/sys/kernel/ostype; wc -c < /proc/sys/kernel/ostype')).split('\n');
    assert.equal(Number(wc), fs.readFileSync('/proc/sys/kernel/ostype').length);
    assert.equal(Number(size), Number(wc), 'st_size is the content length');
  });

  it('a setting that changes at every read is never served from a kept page (kernel/random/uuid)', async () => {
    const got = await readInside(c, ['/proc/sys/kernel/random/uuid'], 4);
    for (const [i, u] of got.entries()) assert.match(u, UUID, `read ${i}`);
    assert.equal(new Set(got).size, got.length, `each open renders afresh: ${got.join(' ')}`);
  });

  it('a value cat sent into a pipe stays the one it read while the next open refills the page (kernel/random/uuid)', async () => {
    // cat's sendfile puts the file's page itself into the pipe; the pipe's reader takes it 0.3 s
    // later, after another open has rendered a new value. That open's store must not rewrite the
    // page the pipe still holds.
    const script = 'U=/proc/sys/kernel/random/uuid; for i in 1 2 3; do (cat $U | (sleep 0.3; cat) > /tmp/a) & sleep 0.1; cat $U > /tmp/b; wait; cat /tmp/a /tmp/b; done';
    const got = (await dockerOk('exec', c, 'sh', '-c', script)).split('\n');
    assert.equal(got.length, 6);
    for (const u of got) assert.match(`${u}\n`, UUID);
    for (let i = 0; i < 6; i += 2) assert.notEqual(got[i], got[i + 1], `round ${i / 2 + 1}: the piped value became the next open's`);
  });

  it('fs/file-nr follows the host as its first field grows and shrinks by digits, never cut or padded', async (t) => {
    const inside = async (): Promise<{ host: [number, number]; seen: string[] }> => {
      const h1 = firstField(fs.readFileSync('/proc/sys/fs/file-nr', 'utf8'));
      const seen = await readInside(c, ['/proc/sys/fs/file-nr'], 2);
      const h2 = firstField(fs.readFileSync('/proc/sys/fs/file-nr', 'utf8'));
      return { host: [Math.min(h1, h2), Math.max(h1, h2)], seen };
    };
    const check = (r: { host: [number, number]; seen: string[] }, what: string): void => {
      for (const [i, s] of r.seen.entries()) {
        assert.match(s, FILE_NR, `${what}, read ${i}: well-formed ${JSON.stringify(s)}`);
        const v = firstField(s);
        // Other work on the host moves it too, but by far less than the fds this test opens.
        assert.ok(v >= r.host[0] - MIN_EXTRA_FDS / 3 && v <= r.host[1] + MIN_EXTRA_FDS / 3, `${what}, read ${i}: ${v} is not the host's value (${r.host[0]}..${r.host[1]})`);
      }
    };
    const quiet = await inside();
    check(quiet, 'before');
    // Enough to add a digit (1076 → 12076: the rendering grows by a byte, and shrinks back after).
    const base = firstField(quiet.seen[0]!);
    const toNextDigit = 10 ** String(base).length - base + 1000;
    const extra = Math.max(MIN_EXTRA_FDS, toNextDigit <= MAX_EXTRA_FDS ? toNextDigit : 0);
    const fds: number[] = [];
    let busyValue = 0;
    try {
      for (let i = 0; i < extra; i++) fds.push(fs.openSync('/dev/null', 'r'));
      const busy = await inside();
      check(busy, `with ${extra} more fds`);
      busyValue = firstField(busy.seen[0]!);
      assert.ok(busyValue > base + extra / 2, `the container saw the host's new value (${base} → ${busyValue})`);
      if (toNextDigit <= MAX_EXTRA_FDS) assert.ok(String(busyValue).length > String(base).length, `a digit more: ${base} → ${busyValue}`);
    } finally {
      for (const fd of fds) fs.closeSync(fd);
    }
    const again = await inside();
    check(again, 'after closing them');
    t.diagnostic(`file-nr inside: ${base} → ${busyValue} (${extra} fds) → ${firstField(again.seen[0]!)}`);
  });

  it('after the attributes\' ttl (the kernel asks for them again) a kept setting still reads whole', async () => {
    const paths = ['/proc/sys/kernel/ostype', '/proc/sys/fs/file-max'];
    const first = await readInside(c, paths);
    await new Promise((r) => setTimeout(r, AFTER_TTL_MS));
    const [sizes] = [await dockerOk('exec', c, 'stat', '-c', '%s', ...paths)];
    const later = await readInside(c, paths, 2);
    paths.forEach((p, i) => {
      const host = fs.readFileSync(p, 'utf8');
      assert.equal(first[i * 2], host, `${p} before`);
      for (let k = 0; k < 4; k++) assert.equal(later[i * 4 + k], host, `${p} after the ttl, read ${k}`);
      assert.equal(Number(sizes.split('\n')[i]), Buffer.byteLength(host), `${p}: st_size after the ttl`);
    });
  });

  it('a direct-I/O file whose length changes reads whole by cat (sendfile) too: /proc/loadavg while processes come and go', async () => {
    // loadavg's "running/total" and last pid fields change length as processes come and go; cat
    // reads it through the page cache up to i_size, which each short read shrinks (worker.ts).
    const out = await dockerOk('exec', c, 'sh', '-c', 'for i in $(seq 40); do cat /proc/loadavg; sleep 0.01 & sleep 0.01 & sleep 0.01 & done; wait');
    const lines = `${out}\n`.split(/(?<=\n)/);
    assert.equal(lines.length, 40);
    for (const [i, l] of lines.entries()) assert.match(l, /^\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+\/\d+ \d+\n$/, `read ${i}`);
  });

  it('an emulated setting written inside reads back its new value (written direct, read through the page cache)', async () => {
    const p = '/proc/sys/kernel/panic';
    const host = fs.readFileSync(p, 'utf8');
    assert.equal((await readInside(c, [p]))[0], host);
    const want = host.trim() === '7' ? '8' : '7';
    await dockerOk('exec', c, 'sh', '-c', `echo ${want} > ${p}`);
    assert.deepEqual(await readInside(c, [p], 2), Array(4).fill(`${want}\n`));
    await dockerOk('exec', c, 'sh', '-c', `echo 12345 > ${p}`);
    assert.deepEqual(await readInside(c, [p]), ['12345\n', '12345\n'], 'a longer value, read whole');
    await dockerOk('exec', c, 'sh', '-c', `echo ${want} > ${p}`);
    assert.deepEqual(await readInside(c, [p]), [`${want}\n`, `${want}\n`], 'a shorter one, not padded');
    assert.equal(fs.readFileSync(p, 'utf8'), host, 'the host value is unchanged');
  });

  it('the fd keeper answers OPENs of unchanged host settings itself (a second sysctl -a), and a host setting changed since is read anew', async () => {
    await dockerOk('exec', c, 'sh', '-c', 'sysctl -a > /dev/null 2>&1; true');
    const before = await keeperKeptOpens();
    await dockerOk('exec', c, 'sh', '-c', 'sysctl -a > /dev/null 2>&1; true');
    const walk = (await keeperKeptOpens()) - before;
    // ~250 host-wide settings, all but the few that change between walks (file-nr, entropy, ...).
    assert.ok(walk >= 100, `the keeper answered ${walk} of a sysctl -a's OPENs (io_uring and the arena's page records are required here)`);

    const setting = '/proc/sys/fs/lease-break-time';
    const host = fs.readFileSync(setting, 'utf8');
    try {
      const twice = await dockerOk('exec', c, 'sh', '-c', `cat ${setting}; cat ${setting}`);
      assert.equal(`${twice}\n`, host + host);
      const kept = await keeperKeptOpens();
      const changed = `${Number(host) + 1}\n`;
      fs.writeFileSync(setting, changed);
      // The first open finds the record stale and goes on to sysbox-fs, which records the new value;
      // the keeper answers the ones after it (docker exec's own opens may add a few).
      const reads = await dockerOk('exec', c, 'sh', '-c', `for i in $(seq 20); do cat ${setting}; done`);
      assert.equal(`${reads}\n`, changed.repeat(20), 'the value the host has now at every open, not the page kept');
      const answered = (await keeperKeptOpens()) - kept;
      assert.ok(answered >= 19, `the keeper answered ${answered} of the 20 opens after the change`);
    } finally {
      fs.writeFileSync(setting, host);
    }
    assert.equal(`${await dockerOk('exec', c, 'cat', setting)}\n`, host);
  });
});
