// /proc/uptime and /proc/loadavg served through the kernel's page cache (fuse/kept-pages.ts, counted
// open handles): each open shows its container's figures as of that open, fresh within the
// renderings' staleness (--max-staleness-ms, 10 ms), whole however it is read (cat: sendfile; dd
// bs=1: a read(2) per byte) while other processes reopen the file, and never another container's or
// another pid namespace's.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { BOOKWORM, BUSYBOX, DOCKER, DOCKER_HOST, dockerOk, removeContainers, run, uniqueName } from '../lib/env.js';

const UPTIME = /^\d+\.\d\d \d+\.\d\d\n$/;
const LOADAVG = /^\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+\/\d+ \d+\n$/;
const USER_HZ = 100;
/** Staleness allowed (10 ms) plus the figures' own rounding (10 ms) plus a margin for a loaded host. */
const FRESH_S = 0.05;

const first = (text: string): number => Number(text.split(' ')[0]);
const hostUptime = (): number => first(fs.readFileSync('/proc/uptime', 'utf8'));

/** Seconds after boot at which a host pid started (/proc/PID/stat field 22, in USER_HZ ticks). */
function startOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]) / USER_HZ;
}

/** Runs script in c; its output split at lines "@@". */
async function chunks(c: string, script: string): Promise<string[]> {
  const out = await dockerOk('exec', c, 'sh', '-c', script);
  return `${out}\n`.split('@@\n').slice(0, -1);
}

describe('sysbox-fs: page-cached /proc/uptime and /proc/loadavg', () => {
  let c1 = '';
  let c2 = '';
  let init1 = 0;
  before(async () => {
    c1 = uniqueName('procpc1');
    c2 = uniqueName('procpc2');
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--network', 'none', '--name', c1, BUSYBOX, 'sleep', '600');
    // Started at least 2 s after c1, so the two uptimes cannot be confused.
    await new Promise((r) => setTimeout(r, 2000));
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--network', 'none', '--name', c2, BUSYBOX, 'sleep', '600');
    init1 = Number(await dockerOk('inspect', '-f', '{{.State.Pid}}', c1));
  });
  after(() => removeContainers(c1, c2));

  it('uptime is fresh at every open: between the host\'s uptime before and after, minus the init\'s start', async () => {
    for (let round = 0; round < 5; round++) {
      const before = hostUptime();
      const seen = await chunks(c1, 'for i in 1 2 3; do cat /proc/uptime; echo @@; dd if=/proc/uptime bs=1 2>/dev/null; echo @@; sleep 0.03; done');
      const after = hostUptime();
      const start = startOf(init1);
      let last = 0;
      for (const [i, s] of seen.entries()) {
        assert.match(s, UPTIME, `round ${round} read ${i}: ${JSON.stringify(s)}`);
        const v = first(s);
        assert.ok(v >= before - start - FRESH_S && v <= after - start + FRESH_S, `round ${round} read ${i}: ${v} outside ${before - start}..${after - start}`);
        assert.ok(v >= last, `round ${round} read ${i}: went back from ${last} to ${v}`);
        // 30 ms apart (sleep), so every other read (cat, then dd after a sleep) has moved on.
        if (i % 2 === 0 && i > 0) assert.ok(v > last, `round ${round} read ${i}: ${v} did not advance past ${last}`);
        last = v;
      }
    }
  });

  it('dd bs=1 reads one whole rendering per open while other processes reopen the file in a loop', async () => {
    for (const [path, shape] of [['/proc/uptime', UPTIME], ['/proc/loadavg', LOADAVG]] as const) {
      const seen = await chunks(c1, `
        for j in 1 2; do (while :; do cat ${path} >/dev/null; dd if=${path} bs=7 2>/dev/null >/dev/null; done) & done
        for i in $(seq 150); do dd if=${path} bs=1 2>/dev/null; echo @@; cat ${path}; echo @@; done
        kill $(jobs -p)`);
      assert.equal(seen.length, 300, path);
      for (const [i, s] of seen.entries()) assert.match(s, shape, `${path} read ${i} (${i % 2 ? 'cat' : 'dd bs=1'}): cut, padded or mixed: ${JSON.stringify(s)}`);
    }
  });

  it('loadavg renderings of other lengths (running/total tasks move) are never cut or padded', async () => {
    // The task count jumps by a digit (95 sleepers), so the rendering's length changes between opens;
    // the load table is resampled every 5 s, so 6 s of reading see at least one sample with them.
    const seen = await chunks(c1, `
      for k in $(seq 95); do sleep 6 & done
      end=$(( $(date +%s) + 6 ))
      while [ $(date +%s) -lt $end ]; do
        dd if=/proc/loadavg bs=1 2>/dev/null; echo @@; cat /proc/loadavg; echo @@; sleep 0.02
      done
      wait`);
    for (const [i, s] of seen.entries()) assert.match(s, LOADAVG, `read ${i}: ${JSON.stringify(s)}`);
    const lengths = new Set(seen.map((s) => s.length));
    const totals = new Set(seen.map((s) => s.split(' ')[3]!.split('/')[1]));
    assert.ok(totals.size > 1, `the task count moved (${[...totals].join(', ')})`);
    assert.ok(lengths.size > 1, `renderings of more than one length were read (${[...lengths].join(', ')})`);
  });

  it('a reader that keeps the file open and reads it again from the start (procps 3.3\'s top) sees it move on', async () => {
    // perl (Debian's perl-base): sysseek to 0 and sysread, as procps 3.3's FILE_TO_BUF does with lseek + read.
    const c3 = uniqueName('procpc3');
    try {
      await dockerOk('run', '-d', '--runtime=sysbox-runc', '--network', 'none', '--name', c3, BOOKWORM, 'sleep', '600');
      const out = await dockerOk('exec', c3, 'perl', '-e',
        'open(my $f, "<", "/proc/uptime") or die; for (1..4) { sysseek($f, 0, 0); my $b = ""; sysread($f, $b, 4096); print $b; select(undef, undef, undef, 1.3) }');
      const seen = out.split('\n').filter((l) => l !== '').map((l) => `${l}\n`);
      assert.equal(seen.length, 4, out);
      for (const [i, l] of seen.entries()) {
        assert.match(l, UPTIME);
        if (i > 0) assert.ok(first(l) - first(seen[i - 1]!) >= 0.3, `read ${i} on one open handle, 1.3 s after the last: ${seen.map(first).join(' ')}`);
      }
    } finally {
      await removeContainers(c3);
    }
  });

  it('two containers, and a pid namespace nested in one, each read their own uptime', async () => {
    for (let round = 0; round < 3; round++) {
      const [a, b] = await Promise.all([
        chunks(c1, 'for i in $(seq 20); do cat /proc/uptime; echo @@; dd if=/proc/uptime bs=3 2>/dev/null; echo @@; done'),
        chunks(c2, 'for i in $(seq 20); do cat /proc/uptime; echo @@; dd if=/proc/uptime bs=3 2>/dev/null; echo @@; done'),
      ]);
      const minA = Math.min(...a.map(first));
      const maxB = Math.max(...b.map(first));
      assert.ok(minA - maxB > 1.5, `round ${round}: c1 (started 2 s earlier) read ${minA}, c2 ${maxB}`);
    }
    // A nested pid namespace's init started just now: its uptime is well under the container's. Its
    // reads use read(2) (dd): splice readers go through the page whatever the open answered.
    const [outer, nested] = await Promise.all([
      chunks(c1, 'for i in $(seq 40); do dd if=/proc/uptime bs=64 2>/dev/null; echo @@; done'),
      chunks(c1, "unshare -pf sh -c 'for i in $(seq 40); do dd if=/proc/uptime bs=64 2>/dev/null; echo @@; done'"),
    ]);
    for (const s of nested) assert.match(s, UPTIME);
    const maxNested = Math.max(...nested.map(first));
    const minOuter = Math.min(...outer.map(first));
    assert.ok(maxNested < 1.5 && minOuter > 2, `nested ${maxNested}, container ${minOuter}`);
  });
});

describe('sysbox-fs: page-cached /proc/meminfo, stat and cpuinfo (renderings up to a page long)', () => {
  let c = '';
  before(async () => {
    c = uniqueName('proclong');
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--network', 'none', '--memory', '256m', '--cpuset-cpus', '0', '--name', c, BOOKWORM, 'sleep', '600');
  });
  after(() => removeContainers(c));

  it('cat and dd bs=1 read each file whole (the container\'s figures) while other processes reopen it in a loop', async () => {
    for (const path of ['/proc/meminfo', '/proc/stat', '/proc/cpuinfo']) {
      const seen = await chunks(c, `
        loop() { while :; do cat ${path} >/dev/null; dd if=${path} bs=100 2>/dev/null >/dev/null; done; }
        loop & l1=$!; loop & l2=$!
        for i in $(seq 40); do dd if=${path} bs=1 2>/dev/null; echo @@; cat ${path}; echo @@; done
        kill $l1 $l2`);
      assert.equal(seen.length, 80, path);
      const lines = (t: string): string[] => t.split('\n');
      const shape = lines(seen[0]!).map((l) => l.slice(0, l.search(/[\s:]/)));
      for (const [i, t] of seen.entries()) {
        const what = `${path} read ${i} (${i % 2 ? 'cat' : 'dd bs=1'})`;
        assert.ok(t.endsWith('\n') && !t.includes('\0'), `${what}: cut or padded: ${JSON.stringify(t.slice(-80))}`);
        assert.deepEqual(lines(t).map((l) => l.slice(0, l.search(/[\s:]/))), shape, `${what}: mixed: ${JSON.stringify(t)}`);
        if (path === '/proc/meminfo') assert.match(t, /^MemTotal: +262144 kB\n/, what);
        if (path === '/proc/stat') assert.match(t, /^cpu {2}\d+( \d+){9}\ncpu0 \d+/, what);
        if (path === '/proc/cpuinfo') assert.equal(t.match(/^processor\t: /gm)?.length, 1, `${what}: one CPU (--cpuset-cpus 0)`);
      }
    }
  });

  it('a reader that keeps /proc/stat open and reads it again every 0.4 s (top -d 0.4) sees it move on each time', async () => {
    // Long renderings' attributes are kept 0.1 s, so each read(2) after that asks GETATTR, which
    // renews the lone handle's record; with the 1 s of the short ones, 2 reads in 3 repeated the last.
    const reader = 'open(my $f, "<", "/proc/stat") or die; for (1..6) { sysseek($f, 0, 0); my $b = ""; sysread($f, $b, 4096); my @t = split(" ", (split("\\n", $b))[0]); my $s = 0; $s += $_ for @t[1..3]; print "$s\\n"; select(undef, undef, undef, 0.4) }';
    const out = await dockerOk('exec', c, 'sh', '-c', `(while :; do :; done) & busy=$!; perl -e '${reader}'; kill $busy`);
    const sums = out.split('\n').filter((l) => l !== '').map(Number);
    assert.equal(sums.length, 6, out);
    for (let i = 1; i < sums.length; i++) assert.ok(sums[i]! > sums[i - 1]!, `read ${i}, 0.4 s after the last on one open handle: user+nice+system jiffies ${sums.join(' ')}`);
  });

  it('two readers that each keep /proc/stat open and read it again (two tops) both see it move on', async () => {
    // perl: sysseek to 0 and sysread, as procps's top and vmstat do with lseek + read. A busy loop
    // in the container makes its CPU time (the cpu line) grow between the reads, 1.3 s apart.
    const reader = 'open(my $f, "<", "/proc/stat") or die; for (1..4) { sysseek($f, 0, 0); my $b = ""; sysread($f, $b, 4096); my @t = split(" ", (split("\\n", $b))[0]); my $s = 0; $s += $_ for @t[1..$#t]; print "$s\\n"; select(undef, undef, undef, 1.3) }';
    const out = await dockerOk('exec', c, 'sh', '-c', `
      (while :; do :; done) & busy=$!
      perl -e '${reader}' > /tmp/a & a=$!
      perl -e '${reader}' > /tmp/b & b=$!
      wait $a $b; kill $busy; cat /tmp/a; echo @@; cat /tmp/b`);
    for (const [who, part] of out.split('@@\n').entries()) {
      const sums = part.split('\n').filter((l) => l !== '').map(Number);
      assert.equal(sums.length, 4, out);
      for (let i = 1; i < sums.length; i++) assert.ok(sums[i]! - sums[i - 1]! >= 30, `reader ${who}, read ${i}, 1.3 s after the last on one open handle: jiffies ${sums.join(' ')}`);
    }
  });
});

describe('sysbox-fs: page-cached /proc/uptime with every reader on one CPU', () => {
  // One CPU, so with FUSE over io_uring one ring queue: a refill's store (which locks the page) and a
  // splice reader's page-filling READ (which holds it until answered) meet in the queue one worker
  // serves. Its notifies are written by another thread while it serves the queue (worker.ts
  // storeServingOthers); written by the worker itself, a CI run hung here with cat in D state.
  let c = '';
  before(async () => {
    c = uniqueName('procpin');
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--network', 'none', '--cpuset-cpus', '0', '--name', c, BUSYBOX, 'sleep', '600');
  });
  after(() => removeContainers(c));

  it('cat (sendfile), dd bs=7 and dd bs=1 in loops for 8 s: every read answered, whole', async () => {
    const r = await run(DOCKER, ['-H', DOCKER_HOST, 'exec', c, 'sh', '-c', `
      for j in 1 2 3; do (while :; do cat /proc/uptime >/dev/null; dd if=/proc/uptime bs=7 2>/dev/null >/dev/null; done) & done
      end=$(( $(date +%s) + 8 )); n=0
      while [ $(date +%s) -lt $end ]; do dd if=/proc/uptime bs=1 2>/dev/null; echo @@; cat /proc/uptime; echo @@; n=$((n+1)); done
      kill $(jobs -p)`], { timeoutMs: 60_000 });
    assert.equal(r.status, 0, `no answer within 60 s (a reader left waiting on an unanswered FUSE request?): ${r.stderr}`);
    const seen = `${r.stdout}\n`.split('@@\n').slice(0, -1);
    assert.ok(seen.length >= 100, `only ${seen.length} reads in 8 s`);
    for (const [i, t] of seen.entries()) assert.match(t, UPTIME, `read ${i} (${i % 2 ? 'cat' : 'dd bs=1'}): cut, padded or mixed: ${JSON.stringify(t)}`);
  });
});
