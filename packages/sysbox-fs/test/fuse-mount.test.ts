// Mounts a real FUSE session (needs root and /dev/fuse) and drives it from child processes, the way
// container processes will: the handler must see their pids, and every syscall path they use
// (read, sendfile, O_TRUNC write, readdir, stat) must work.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FuseSession } from '../src/fuse/session.js';

const run = promisify(execFile);
const canMount = process.getuid?.() === 0 && fs.existsSync('/dev/fuse');

async function sh(script: string): Promise<string> {
  return (await run('sh', ['-c', script], { timeout: 10_000 })).stdout;
}

function mounted(dir: string): boolean {
  // Mount points in mountinfo escape spaces etc. as octal; our temp dirs have none.
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === dir);
}

describe('FUSE mount (kernel protocol over /dev/fuse)', () => {
  let tmp = '';
  let mnt = '';
  let session: FuseSession | undefined;

  before(async () => {
    // Fail, not skip: sysbox-fs needs both, and so does this test.
    assert.ok(canMount, 'this test needs root and /dev/fuse (run it as root on a machine with the fuse module)');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-fs-test-'));
    mnt = path.join(tmp, 'mnt');
    fs.mkdirSync(mnt);
    session = await FuseSession.mount({
      mountpoint: mnt,
      treeModule: path.join(__dirname, 'fixtures', 'hello-tree.js'),
      treeConfig: { stateFile: path.join(tmp, 'counter') },
      workers: 2,
    });
  });

  after(async () => {
    // Unmount even when a test failed, and wait (bounded) for the workers, so nothing outlives us.
    if (session && mounted(mnt)) session.unmount();
    if (session) await Promise.race([session.closed, new Promise((r) => setTimeout(r, 5000).unref())]);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('is mounted as fuse.sysboxfs with allow_other', () => {
    const line = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === mnt);
    assert.match(line ?? '', / - fuse\.sysboxfs sysboxfs rw,.*allow_other/);
  });

  it('serves content computed for the reading process (its pid in the request header)', async () => {
    const out = await sh(`echo $$; exec cat ${mnt}/hello`);
    const [pid, content] = out.split('\n');
    assert.equal(`${content}\n`, `hello ${pid}\n`);
    assert.equal(await sh(`exec cat ${mnt}/whoami`).then((s) => s.split(' ').slice(1).join(' ')), '0 0\n');
  });

  it('reports a non-zero size, so sendfile readers (busybox cat) get the content', async () => {
    assert.equal((await sh(`stat -c %s ${mnt}/hello`)).trim(), '4096');
    assert.ok(fs.existsSync('/bin/busybox'), '/bin/busybox is missing: apt-get install busybox-static (scripts/deps.sh)');
    const out = await sh(`echo $$; exec /bin/busybox cat ${mnt}/hello`);
    const [pid, content] = out.split('\n');
    assert.equal(content, `hello ${pid}`);
  });

  it('lists directories', async () => {
    assert.equal(await sh(`ls ${mnt}/pair`), 'a\nb\n');
    assert.deepEqual((await sh(`ls ${mnt}`)).trim().split('\n'), ['hello', 'pair', 'slow', 'sys', 'whoami']);
    assert.equal(await sh(`cat ${mnt}/pair/a ${mnt}/pair/b`), 'A\nB\n');
  });

  it('accepts an O_TRUNC write and reads it back; a handler errno reaches the writer', async () => {
    await sh(`echo 5 > ${mnt}/sys/counter`);
    assert.equal(await sh(`cat ${mnt}/sys/counter`), '5\n');
    // dash's echo reports every write error as "I/O error"; dd names the errno.
    await assert.rejects(sh(`echo bad | dd of=${mnt}/sys/counter status=none`), /Invalid argument/);
    await assert.rejects(sh(`echo 1 > ${mnt}/hello`), /Permission denied/);
    assert.equal(await sh(`cat ${mnt}/sys/counter`), '5\n');
  });

  it('fails lookups of missing files with ENOENT', async () => {
    await assert.rejects(sh(`cat ${mnt}/nope`), /No such file or directory/);
    await assert.rejects(sh(`cat ${mnt}/pair/c`), /No such file or directory/);
  });

  it('serves concurrent readers', async () => {
    const outs = await Promise.all(Array.from({ length: 16 }, () => sh(`echo $$; exec cat ${mnt}/hello`)));
    for (const out of outs) {
      const [pid, content] = out.split('\n');
      assert.equal(content, `hello ${pid}`);
    }
  });

  it('answers other requests while one is slow (a helper takes over from the stuck leader)', async () => {
    const done: string[] = [];
    const slow = sh(`exec cat ${mnt}/slow`).then((out) => { done.push('slow'); return out; });
    await new Promise((r) => setTimeout(r, 200));
    const fast = await sh(`echo $$; exec cat ${mnt}/hello`);
    done.push('hello');
    const [pid, content] = fast.split('\n');
    assert.equal(content, `hello ${pid}`);
    assert.equal(await slow, 'slow\n');
    assert.deepEqual(done, ['hello', 'slow']);
  });

  it('on lazy unmount the workers exit and nothing stays mounted', async () => {
    assert.ok(session);
    session.unmount();
    const reasons = await Promise.race([session.closed, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('workers did not exit')), 5000).unref())]);
    // The leader sees the connection go; the helper either does too or follows the leader out.
    assert.equal(reasons[0], 'unmounted');
    assert.match(reasons[1] ?? '', /^(unmounted|leader exited)$/);
    assert.equal(mounted(mnt), false);
    assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(mnt));
  });
});
