import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dispatch, type DispatchOptions } from '../src/fuse/dispatch.js';
import * as p from '../src/fuse/protocol.js';
import { dir, file, staticIno, StaticTree, type FileTree } from '../src/tree.js';

const OPTS: DispatchOptions = { entryTimeout: 86400, attrTimeout: 86400, fileSize: 4096, time: 1700000000 };
let written = '';
const tree = new StaticTree(dir({
  hello: file((c) => `hello ${c.pid}\n`),
  d: dir({ w: file(() => written, (_c, data) => { written = data.toString(); }) }),
}));

function req(opcode: number, nodeid: bigint, body: Buffer = Buffer.alloc(0), pid = 99): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32LE(40 + body.length, 0);
  h.writeUInt32LE(opcode, 4);
  h.writeBigUInt64LE(11n, 8);
  h.writeBigUInt64LE(nodeid, 16);
  h.writeUInt32LE(pid, 32);
  return Buffer.concat([h, body]);
}
const errorOf = (r: Buffer | undefined): number => r!.readInt32LE(4);
const bodyOf = (r: Buffer | undefined): Buffer => r!.subarray(16);
function readIn(offset: number, size: number): Buffer {
  const b = Buffer.alloc(40);
  b.writeBigUInt64LE(BigInt(offset), 8);
  b.writeUInt32LE(size, 16);
  return b;
}

const HELLO = staticIno('hello');
const D = staticIno('d');
const W = staticIno('d/w');

describe('dispatch over a StaticTree', () => {
  it('numbers inodes by their path: the same in every worker, and in a tree that gained a node', () => {
    assert.equal(tree.lookup(1n, 'hello')?.ino, HELLO);
    assert.equal(tree.lookup(1n, 'd')?.ino, D);
    assert.equal(tree.lookup(D, 'w')?.ino, W);
    assert.equal(tree.get(W)?.parent, D);
    const grown = new StaticTree(dir({ first: file(() => ''), d: dir({ v: file(() => ''), w: file(() => '') }), hello: file(() => '') }));
    assert.equal(grown.lookup(D, 'w')?.ino, W, 'a node before it in the declaration does not renumber it');
    assert.equal(grown.lookup(1n, 'hello')?.ino, HELLO);
  });

  it('LOOKUP answers an entry with long timeouts and size 4096; a missing name is a cached negative entry', () => {
    const r = dispatch(req(p.Opcode.LOOKUP, 1n, Buffer.from('hello\0')), tree, OPTS);
    assert.equal(errorOf(r), 0);
    const e = bodyOf(r);
    assert.equal(e.length, 128);
    assert.equal(e.readBigUInt64LE(0), HELLO);
    assert.equal(e.readBigUInt64LE(16), 86400n);
    assert.equal(e.readBigUInt64LE(40 + 8), 4096n);
    assert.equal(e.readUInt32LE(40 + 60), p.S_IFREG | 0o444);
    const miss = bodyOf(dispatch(req(p.Opcode.LOOKUP, 1n, Buffer.from('nope\0')), tree, OPTS));
    assert.equal(miss.readBigUInt64LE(0), 0n);
    assert.equal(errorOf(dispatch(req(p.Opcode.LOOKUP, 42n, Buffer.from('x\0')), tree, OPTS)), -2);
  });

  it('OPEN gives DIRECT_IO|NOFLUSH; writing a read-only file or opening a dir fails', () => {
    const wr = Buffer.alloc(8); wr.writeUInt32LE(1, 0); // O_WRONLY
    assert.equal(bodyOf(dispatch(req(p.Opcode.OPEN, HELLO, Buffer.alloc(8)), tree, OPTS)).readUInt32LE(8), p.FOPEN_DIRECT_IO | p.FOPEN_NOFLUSH);
    assert.equal(errorOf(dispatch(req(p.Opcode.OPEN, HELLO, wr), tree, OPTS)), -13);
    assert.equal(errorOf(dispatch(req(p.Opcode.OPEN, W, wr), tree, OPTS)), 0);
    assert.equal(errorOf(dispatch(req(p.Opcode.OPEN, D, Buffer.alloc(8)), tree, OPTS)), -21);
  });

  it('READ computes content for the caller pid and honours offset and size', () => {
    assert.equal(bodyOf(dispatch(req(p.Opcode.READ, HELLO, readIn(0, 4096), 1234), tree, OPTS)).toString(), 'hello 1234\n');
    assert.equal(bodyOf(dispatch(req(p.Opcode.READ, HELLO, readIn(6, 2), 1234), tree, OPTS)).toString(), '12');
    assert.equal(bodyOf(dispatch(req(p.Opcode.READ, HELLO, readIn(100, 10)), tree, OPTS)).length, 0);
  });

  it('WRITE hands the bytes to the file and acknowledges their count; SETATTR size is accepted', () => {
    const w = Buffer.alloc(40 + 2); w.writeUInt32LE(2, 16); w.write('5\n', 40);
    assert.equal(bodyOf(dispatch(req(p.Opcode.WRITE, W, w), tree, OPTS)).readUInt32LE(0), 2);
    assert.equal(written, '5\n');
    assert.equal(errorOf(dispatch(req(p.Opcode.WRITE, HELLO, w), tree, OPTS)), -13);
    const s = Buffer.alloc(88); s.writeUInt32LE(p.FATTR_SIZE, 0);
    assert.equal(bodyOf(dispatch(req(p.Opcode.SETATTR, W, s), tree, OPTS)).length, 104);
    assert.equal(errorOf(dispatch(req(p.Opcode.SETATTR, HELLO, s), tree, OPTS)), -13);
  });

  it('READDIR lists . .. and children with their types', () => {
    const b = bodyOf(dispatch(req(p.Opcode.READDIR, 1n, readIn(0, 4096)), tree, OPTS));
    const names: string[] = [];
    for (let at = 0; at < b.length;) {
      const len = b.readUInt32LE(at + 16);
      names.push(`${b.toString('utf8', at + 24, at + 24 + len)}:${b.readUInt32LE(at + 20)}`);
      at += p.direntSize(len);
    }
    assert.deepEqual(names, ['.:4', '..:4', 'hello:8', 'd:4']);
  });

  it('no reply to FORGET/INTERRUPT; ENOSYS for unknown opcodes; EINVAL for a short body', () => {
    assert.equal(dispatch(req(p.Opcode.FORGET, HELLO, Buffer.alloc(8)), tree, OPTS), undefined);
    assert.equal(dispatch(req(p.Opcode.INTERRUPT, 0n, Buffer.alloc(8)), tree, OPTS), undefined);
    assert.equal(errorOf(dispatch(req(p.Opcode.GETXATTR, HELLO, Buffer.alloc(8)), tree, OPTS)), -38);
    assert.equal(errorOf(dispatch(req(p.Opcode.READ, HELLO, Buffer.alloc(4)), tree, OPTS)), -22);
    assert.equal(dispatch(req(p.Opcode.RELEASE, HELLO, Buffer.alloc(24)), tree, OPTS)!.length, 16);
  });

  it('judges access by the owner, group and other bits, host root excepted, with no override for the owner', () => {
    // Owned by a container's root (host uid 1000): rw for it, r for its other users, nothing on 0000.
    const owned = Object.assign(new StaticTree(dir({
      rw: file(() => 'x', () => undefined),
      hidden: file(() => 'secret', undefined, 0o000),
      closed: dir({}, 0o000),
    })), { owner: () => ({ uid: 1000, gid: 1000 }) });
    const as = (opcode: number, nodeid: bigint, body: Buffer, uid: number): number => {
      const r = req(opcode, nodeid, body);
      r.writeUInt32LE(uid, 24);
      r.writeUInt32LE(uid, 28);
      return errorOf(dispatch(r, owned, OPTS));
    };
    const open = (flags: number): Buffer => { const b = Buffer.alloc(8); b.writeUInt32LE(flags, 0); return b; };
    const [rw, hidden, closed] = [staticIno('rw'), staticIno('hidden'), staticIno('closed')];
    assert.equal(as(p.Opcode.OPEN, rw, open(1), 1000), 0, 'owner writes');
    assert.equal(as(p.Opcode.OPEN, rw, open(1), 1001), -13, 'others do not');
    assert.equal(as(p.Opcode.OPEN, rw, open(0), 1001), 0, 'others read');
    assert.equal(as(p.Opcode.OPEN, hidden, open(0), 1000), -13, 'mode 0000 holds for the owner too');
    assert.equal(as(p.Opcode.OPEN, hidden, open(0), 0), 0, 'host root reads anything');
    assert.equal(as(p.Opcode.OPENDIR, closed, Buffer.alloc(8), 1000), -13);
    const access = (mask: number): Buffer => { const b = Buffer.alloc(8); b.writeUInt32LE(mask, 0); return b; };
    assert.equal(as(p.Opcode.ACCESS, rw, access(2), 1001), -13);
    assert.equal(as(p.Opcode.ACCESS, rw, access(6), 1000), 0);
  });

  it('static attributes are kept for attrTimeout when they carry a container\'s root, never when answered to a host process', () => {
    // Owner by pid, as virtual-tree.ts resolves it: 99 is in a container (host uid 100000), 7 is a host process.
    const owned = new StaticTree(dir({ d: dir({ f: file(() => 'x\n', () => undefined) }) }));
    const t: FileTree = {
      get: (ino, c) => owned.get(ino, c),
      lookup: (parent, name, c) => owned.lookup(parent, name, c),
      list: (ino, c) => owned.list(ino, c),
      size: owned.size,
      owner: (c) => (c.pid === 99 ? { uid: 100000, gid: 100000 } : { uid: 0, gid: 0 }),
    };
    const opts: DispatchOptions = { ...OPTS, attrTimeout: 1 };
    const attrTtl = (nodeid: bigint, pid: number): bigint => bodyOf(dispatch(req(p.Opcode.GETATTR, nodeid, Buffer.alloc(16), pid), t, opts)).readBigUInt64LE(0);
    const F = staticIno('d/f');
    assert.equal(attrTtl(F, 99), 1n, 'a container\'s reader: kept');
    assert.equal(bodyOf(dispatch(req(p.Opcode.GETATTR, F, Buffer.alloc(16), 99), t, opts)).readUInt32LE(16 + 68), 100000, 'owned by its root');
    assert.equal(attrTtl(F, 7), 0n, 'a host process: not kept (it would show the container nobody\'s file)');
    assert.equal(attrTtl(staticIno('d'), 99), 1n, 'a static directory too');
    assert.equal(attrTtl(staticIno('d'), 7), 0n);
    const entry = bodyOf(dispatch(req(p.Opcode.LOOKUP, staticIno('d'), Buffer.from('f\0'), 7), t, opts));
    assert.equal(entry.readBigUInt64LE(24), 0n, 'LOOKUP by a host process: attributes not kept');
    assert.equal(bodyOf(dispatch(req(p.Opcode.GETATTR, HELLO, Buffer.alloc(16), 7), tree, OPTS)).readBigUInt64LE(0), 86400n, 'a tree without owners keeps them for attrTimeout whoever asks');
  });
});
