// The rootfs view's requests against a temp dir (as root: it chowns): owners shown as the container
// sees them, and what host root creates or chowns lands on the container's ids.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RootfsView } from '../src/rootfs-view/server.js';
import { Op, type Request } from '../src/rootfs-view/wire.js';

const BASE = 300000;
const asRoot = process.getuid?.() === 0;

let unique = 0n;
function req(opcode: number, nodeid: bigint, body: Buffer, uid = 0, gid = 0): Request {
  return { opcode, unique: ++unique, nodeid, uid, gid, body };
}
const name = (...n: string[]): Buffer => Buffer.concat(n.map((s) => Buffer.from(`${s}\0`)));
function u32(...v: number[]): Buffer {
  const b = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => b.writeUInt32LE(x, i * 4));
  return b;
}
function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}

interface Reply { error: number; body: Buffer }
function call(view: RootfsView, r: Request): Reply {
  const out = view.handle(r)!;
  assert.equal(out.readBigUInt64LE(8), r.unique);
  return { error: out.readInt32LE(4), body: out.subarray(16) };
}
/** nodeid and shown uid:gid of an entry_out reply. */
function entry(rep: Reply): { nodeid: bigint; owner: string } {
  assert.equal(rep.error, 0);
  return { nodeid: rep.body.readBigUInt64LE(0), owner: `${rep.body.readUInt32LE(40 + 68)}:${rep.body.readUInt32LE(40 + 72)}` };
}
function owner(file: string): string {
  const st = fs.lstatSync(file);
  return `${st.uid}:${st.gid}`;
}

describe('rootfs view', { skip: !asRoot && 'needs root (chown)' }, () => {
  let dir = '';
  let view: RootfsView;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rootfs-view-'));
    fs.chownSync(dir, BASE, BASE);
    fs.writeFileSync(path.join(dir, 'root-file'), 'x');
    fs.chownSync(path.join(dir, 'root-file'), BASE, BASE);
    fs.mkdirSync(path.join(dir, 'user-dir'));
    fs.chownSync(path.join(dir, 'user-dir'), BASE + 1000, BASE + 1000);
    fs.writeFileSync(path.join(dir, 'user-dir', 'inner'), 'y');
    fs.writeFileSync(path.join(dir, 'host-file'), 'z');
    fs.chownSync(path.join(dir, 'host-file'), 5, 5);
    view = new RootfsView({ uid: BASE, gid: BASE, size: 65536 }, 128 * 1024, dir);
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('shows owners as the container sees them, others as 65534', () => {
    assert.equal(entry(call(view, req(Op.LOOKUP, 1n, name('root-file')))).owner, '0:0');
    assert.equal(entry(call(view, req(Op.LOOKUP, 1n, name('user-dir')))).owner, '1000:1000');
    assert.equal(entry(call(view, req(Op.LOOKUP, 1n, name('host-file')))).owner, '65534:65534');
    assert.equal(call(view, req(Op.LOOKUP, 1n, name('missing'))).error, -2);
    assert.equal(call(view, req(Op.LOOKUP, 1n, name('..'))).error, -22);
  });

  it("creates as the container's ids of the caller, and chowns within the range only", () => {
    const d = entry(call(view, req(Op.MKDIR, 1n, Buffer.concat([u32(0o755, 0), name('new-dir')]))));
    assert.equal(d.owner, '0:0');
    assert.equal(owner(path.join(dir, 'new-dir')), `${BASE}:${BASE}`);
    const f = call(view, req(Op.CREATE, d.nodeid, Buffer.concat([u32(fs.constants.O_WRONLY, 0o644, 0, 0), name('by-1000')]), 1000, 1000));
    assert.equal(entry(f).owner, '1000:1000');
    assert.equal(owner(path.join(dir, 'new-dir', 'by-1000')), `${BASE + 1000}:${BASE + 1000}`);
    const fh = f.body.readBigUInt64LE(128);
    const data = Buffer.from('hello');
    const w = call(view, req(Op.WRITE, entry(f).nodeid, Buffer.concat([u64(fh), u64(0n), u32(5, 0), u64(0n), u32(0, 0), data])));
    assert.equal(w.body.readUInt32LE(0), 5);
    call(view, req(Op.RELEASE, entry(f).nodeid, Buffer.concat([u64(fh), u32(0, 0), u64(0n)])));
    assert.equal(fs.readFileSync(path.join(dir, 'new-dir', 'by-1000'), 'utf8'), 'hello');

    const setattr = (uid: number): Buffer => {
      const b = Buffer.alloc(88);
      b.writeUInt32LE(2 | 4, 0); // FATTR_UID | FATTR_GID
      b.writeUInt32LE(uid, 76);
      b.writeUInt32LE(uid, 80);
      return b;
    };
    assert.equal(call(view, req(Op.SETATTR, entry(f).nodeid, setattr(0))).error, 0);
    assert.equal(owner(path.join(dir, 'new-dir', 'by-1000')), `${BASE}:${BASE}`);
    assert.equal(call(view, req(Op.SETATTR, entry(f).nodeid, setattr(70000))).error, -75); // EOVERFLOW
  });

  it('follows a renamed dir with the nodes below it', () => {
    const d = entry(call(view, req(Op.LOOKUP, 1n, name('user-dir'))));
    const inner = entry(call(view, req(Op.LOOKUP, d.nodeid, name('inner'))));
    assert.equal(call(view, req(Op.RENAME, 1n, Buffer.concat([u64(1n), name('user-dir', 'moved')]))).error, 0);
    assert.equal(call(view, req(Op.GETATTR, inner.nodeid, Buffer.alloc(16))).error, 0);
    assert.ok(fs.existsSync(path.join(dir, 'moved', 'inner')));
  });

  it('lists a dir with real inode numbers (Go skips entries with inode 0)', () => {
    const open = call(view, req(Op.OPENDIR, 1n, u32(0, 0)));
    const fh = open.body.readBigUInt64LE(0);
    const list = call(view, req(Op.READDIR, 1n, Buffer.concat([u64(fh), u64(0n), u32(4096, 0), u64(0n), u32(0, 0)]))).body;
    const names: string[] = [];
    for (let at = 0; at < list.length;) {
      assert.notEqual(list.readBigUInt64LE(at), 0n);
      const len = list.readUInt32LE(at + 16);
      names.push(list.toString('utf8', at + 24, at + 24 + len));
      at += (24 + len + 7) & ~7;
    }
    assert.deepEqual(names.sort(), ['.', '..', 'host-file', 'moved', 'new-dir', 'root-file']);
  });
});
