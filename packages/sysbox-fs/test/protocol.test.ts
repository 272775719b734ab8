import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as p from '../src/fuse/protocol.js';

/** A request as the kernel would write it: fuse_in_header then body. */
function request(opcode: number, body: Buffer, o: { unique?: bigint; nodeid?: bigint; uid?: number; gid?: number; pid?: number } = {}): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32LE(40 + body.length, 0);
  h.writeUInt32LE(opcode, 4);
  h.writeBigUInt64LE(o.unique ?? 7n, 8);
  h.writeBigUInt64LE(o.nodeid ?? 1n, 16);
  h.writeUInt32LE(o.uid ?? 0, 24);
  h.writeUInt32LE(o.gid ?? 0, 28);
  h.writeUInt32LE(o.pid ?? 0, 32);
  return Buffer.concat([h, body]);
}

const ATTR: p.Attr = { ino: 5n, size: 4096n, mode: p.S_IFREG | 0o644, nlink: 1, uid: 10, gid: 20, time: 1700000000 };

describe('fuse protocol: requests', () => {
  it('decodes fuse_in_header (40 bytes) including the caller', () => {
    const buf = request(p.Opcode.LOOKUP, Buffer.from('name\0'), { unique: 0x1122334455n, nodeid: 9n, uid: 1000, gid: 1001, pid: 4242 });
    const h = p.decodeInHeader(buf);
    assert.deepEqual(h, { len: 45, opcode: 1, unique: 0x1122334455n, nodeid: 9n, uid: 1000, gid: 1001, pid: 4242 });
    assert.equal(p.decodeName(p.requestBody(buf, h)), 'name');
    assert.throws(() => p.decodeInHeader(Buffer.alloc(39)), RangeError);
  });

  it('bounds the body by header.len, not by the (larger) read buffer', () => {
    const big = Buffer.alloc(200);
    request(p.Opcode.LOOKUP, Buffer.from('x\0')).copy(big);
    assert.equal(p.requestBody(big, p.decodeInHeader(big)).length, 2);
  });

  it('decodes fuse_init_in, both the 64-byte and the pre-7.36 16-byte form', () => {
    const b = Buffer.alloc(64);
    b.writeUInt32LE(7, 0); b.writeUInt32LE(41, 4); b.writeUInt32LE(131072, 8); b.writeUInt32LE(0xffffffff, 12);
    assert.deepEqual(p.decodeInitIn(b), { major: 7, minor: 41, maxReadahead: 131072, flags: 0xffffffff, flags2: 0 });
    assert.deepEqual(p.decodeInitIn(b.subarray(0, 16)), p.decodeInitIn(b));
    b.writeUInt32LE(p.FUSE2_OVER_IO_URING, 16);
    assert.equal(p.decodeInitIn(b).flags2, p.FUSE2_OVER_IO_URING, 'flags2 (7.36+) at 16');
  });

  it('offers io_uring only when asked and offered, at minor 42 with FUSE_INIT_EXT and flags2', () => {
    const offered = { major: 7, minor: 45, maxReadahead: 131072, flags: p.FUSE_ASYNC_READ, flags2: p.FUSE2_OVER_IO_URING };
    const yes = p.negotiateInit(offered, { maxWrite: 131072, ioUring: true });
    assert.ok(yes.ok);
    if (yes.ok) {
      assert.equal(yes.out.minor, 42);
      assert.equal(yes.out.flags2, p.FUSE2_OVER_IO_URING);
      assert.ok((yes.out.flags & p.FUSE_INIT_EXT) !== 0);
      assert.equal(p.encodeInitOut(yes.out).readUInt32LE(32), p.FUSE2_OVER_IO_URING, 'flags2 at 32 of fuse_init_out');
    }
    for (const [req, want] of [[offered, false], [{ ...offered, flags2: 0 }, true], [{ ...offered, minor: 41 }, true]] as const) {
      const r = p.negotiateInit(req, { maxWrite: 131072, ioUring: want });
      assert.ok(r.ok && r.out.flags2 === 0 && r.out.minor <= 31 && (r.out.flags & p.FUSE_INIT_EXT) === 0);
    }
  });

  it('decodes read_in, write_in (data follows the 40-byte struct), setattr_in, open_in, release_in', () => {
    const r = Buffer.alloc(40);
    r.writeBigUInt64LE(3n, 0); r.writeBigUInt64LE(4096n, 8); r.writeUInt32LE(131072, 16); r.writeUInt32LE(0o2, 32);
    assert.deepEqual(p.decodeReadIn(r), { fh: 3n, offset: 4096n, size: 131072, flags: 2 });

    const w = Buffer.alloc(40 + 3);
    w.writeBigUInt64LE(1n, 0); w.writeUInt32LE(3, 16); w.write('5\n!', 40);
    const wi = p.decodeWriteIn(w);
    assert.equal(wi.size, 3);
    assert.equal(wi.data.toString(), '5\n!');
    assert.throws(() => p.decodeWriteIn(w.subarray(0, 41)), /truncated/);

    const s = Buffer.alloc(88);
    s.writeUInt32LE(p.FATTR_SIZE | p.FATTR_FH, 0); s.writeBigUInt64LE(2n, 8); s.writeBigUInt64LE(0n, 16); s.writeUInt32LE(0o600, 68);
    assert.deepEqual(p.decodeSetattrIn(s), { valid: p.FATTR_SIZE | p.FATTR_FH, fh: 2n, size: 0n, mode: 0o600, uid: 0, gid: 0 });

    const o = Buffer.alloc(8); o.writeUInt32LE(0o1001, 0);
    assert.deepEqual(p.decodeOpenIn(o), { flags: 0o1001 });
    const rel = Buffer.alloc(24); rel.writeBigUInt64LE(9n, 0); rel.writeUInt32LE(1, 8);
    assert.deepEqual(p.decodeReleaseIn(rel), { fh: 9n, flags: 1 });
  });

  it('decodes FORGET and BATCH_FORGET, which take no reply (nor does INTERRUPT)', () => {
    const f = Buffer.alloc(8); f.writeBigUInt64LE(3n, 0);
    assert.deepEqual(p.decodeForget(p.decodeInHeader(request(p.Opcode.FORGET, f, { nodeid: 6n })), f), [{ nodeid: 6n, nlookup: 3n }]);
    const b = Buffer.alloc(8 + 32);
    b.writeUInt32LE(2, 0); b.writeBigUInt64LE(2n, 8); b.writeBigUInt64LE(1n, 16); b.writeBigUInt64LE(4n, 24); b.writeBigUInt64LE(5n, 32);
    assert.deepEqual(p.decodeForget(p.decodeInHeader(request(p.Opcode.BATCH_FORGET, b)), b), [{ nodeid: 2n, nlookup: 1n }, { nodeid: 4n, nlookup: 5n }]);
    for (const op of [p.Opcode.FORGET, p.Opcode.BATCH_FORGET, p.Opcode.INTERRUPT]) assert.equal(p.expectsReply(op), false);
    for (const op of [p.Opcode.LOOKUP, p.Opcode.RELEASE, p.Opcode.FLUSH, p.Opcode.DESTROY]) assert.equal(p.expectsReply(op), true);
  });
});

describe('fuse protocol: replies', () => {
  it('fuse_out_header is 16 bytes with len, error, unique; errors are negative errno', () => {
    const ok = p.reply(0xabcn, Buffer.from([1, 2, 3]));
    assert.equal(ok.length, 19);
    assert.equal(ok.readUInt32LE(0), 19);
    assert.equal(ok.readInt32LE(4), 0);
    assert.equal(ok.readBigUInt64LE(8), 0xabcn);
    assert.deepEqual([...ok.subarray(16)], [1, 2, 3]);
    for (const e of [2, -2]) {
      const err = p.replyError(5n, e);
      assert.equal(err.length, 16);
      assert.equal(err.readUInt32LE(0), 16);
      assert.equal(err.readInt32LE(4), -2);
    }
    assert.equal(p.reply(1n).length, 16);
  });

  it('fuse_attr is 88 bytes at the kernel offsets', () => {
    const a = p.encodeAttr(ATTR);
    assert.equal(a.length, 88);
    assert.equal(a.readBigUInt64LE(0), 5n); // ino
    assert.equal(a.readBigUInt64LE(8), 4096n); // size
    assert.equal(a.readBigUInt64LE(16), 8n); // blocks (512 B units)
    assert.equal(a.readBigUInt64LE(24), 1700000000n); // atime
    assert.equal(a.readBigUInt64LE(40), 1700000000n); // ctime
    assert.equal(a.readUInt32LE(60), 0o100644); // mode
    assert.equal(a.readUInt32LE(64), 1); // nlink
    assert.equal(a.readUInt32LE(68), 10); // uid
    assert.equal(a.readUInt32LE(72), 20); // gid
    assert.equal(a.readUInt32LE(80), 4096); // blksize
  });

  it('fuse_entry_out is 128 bytes: nodeid, generation, timeouts (s + ns), attr at 40', () => {
    const e = p.encodeEntryOut({ nodeid: 5n, generation: 1n, entryTimeout: 86400, attrTimeout: 1.5, attr: ATTR });
    assert.equal(e.length, 128);
    assert.equal(e.readBigUInt64LE(0), 5n);
    assert.equal(e.readBigUInt64LE(8), 1n);
    assert.equal(e.readBigUInt64LE(16), 86400n);
    assert.equal(e.readBigUInt64LE(24), 1n);
    assert.equal(e.readUInt32LE(32), 0);
    assert.equal(e.readUInt32LE(36), 500_000_000);
    assert.deepEqual(e.subarray(40), p.encodeAttr(ATTR));
  });

  it('fuse_attr_out is 104 bytes with attr at 16', () => {
    const o = p.encodeAttrOut(3600, ATTR);
    assert.equal(o.length, 104);
    assert.equal(o.readBigUInt64LE(0), 3600n);
    assert.deepEqual(o.subarray(16), p.encodeAttr(ATTR));
  });

  it('fuse_open_out is 16 bytes; DIRECT_IO|NOFLUSH = 0x21', () => {
    const o = p.encodeOpenOut(77n, p.FOPEN_DIRECT_IO | p.FOPEN_NOFLUSH);
    assert.equal(o.length, 16);
    assert.equal(o.readBigUInt64LE(0), 77n);
    assert.equal(o.readUInt32LE(8), 0x21);
  });

  it('fuse_write_out is 8 bytes', () => {
    const o = p.encodeWriteOut(2);
    assert.equal(o.length, 8);
    assert.equal(o.readUInt32LE(0), 2);
  });

  it('fuse_statfs_out is 80 bytes', () => {
    const o = p.encodeStatfsOut({ blocks: 0n, bfree: 0n, bavail: 0n, files: 6n, ffree: 0n, bsize: 4096, namelen: 255, frsize: 4096 });
    assert.equal(o.length, 80);
    assert.equal(o.readBigUInt64LE(24), 6n);
    assert.equal(o.readUInt32LE(44), 255);
  });

  it('negotiates INIT: min minor, offered flags only, max_write in pages, 64-byte init_out', () => {
    const res = p.negotiateInit({ major: 7, minor: 41, maxReadahead: 131072, flags: p.FUSE_ASYNC_READ | p.FUSE_MAX_PAGES | (1 << 10) }, { maxWrite: 100_000 });
    assert.ok(res.ok);
    assert.equal(res.out.minor, p.FUSE_KERNEL_MINOR_VERSION);
    assert.equal(res.out.flags, p.FUSE_ASYNC_READ | p.FUSE_MAX_PAGES);
    assert.equal(res.out.maxWrite, 25 * 4096);
    assert.equal(res.out.maxPages, 25);
    const auto = p.negotiateInit({ major: 7, minor: 41, maxReadahead: 0, flags: p.FUSE_AUTO_INVAL_DATA }, { maxWrite: 4096 });
    assert.ok(auto.ok);
    assert.equal(auto.out.flags, p.FUSE_AUTO_INVAL_DATA, 'taken when offered: kept listings depend on it');
    const o = p.encodeInitOut(res.out);
    assert.equal(o.length, 64);
    assert.equal(o.readUInt32LE(0), 7);
    assert.equal(o.readUInt32LE(4), 31);
    assert.equal(o.readUInt32LE(8), 131072);
    assert.equal(o.readUInt32LE(12), p.FUSE_ASYNC_READ | p.FUSE_MAX_PAGES);
    assert.equal(o.readUInt16LE(16), 64); // max_background
    assert.equal(o.readUInt32LE(20), 25 * 4096); // max_write
    assert.equal(o.readUInt16LE(28), 25); // max_pages

    const old = p.negotiateInit({ major: 7, minor: 26, maxReadahead: 0, flags: 0 }, { maxWrite: 4096 });
    assert.ok(old.ok);
    assert.equal(old.out.minor, 26);
    assert.equal(old.out.maxPages, 0); // kernel did not offer MAX_PAGES
    const newer = p.negotiateInit({ major: 8, minor: 0, maxReadahead: 0, flags: 0 }, { maxWrite: 4096 });
    assert.ok(newer.ok);
    assert.equal(newer.out.major, 7);
    assert.equal(p.negotiateInit({ major: 6, minor: 0, maxReadahead: 0, flags: 0 }, { maxWrite: 4096 }).ok, false);
  });

  it('packs dirents 8-byte aligned with off = index of the next entry, never splitting one', () => {
    const entries: p.Dirent[] = [
      { ino: 1n, name: '.', type: p.DT_DIR },
      { ino: 1n, name: '..', type: p.DT_DIR },
      { ino: 2n, name: 'hello', type: p.DT_REG },
      { ino: 3n, name: 'abcdefgh', type: p.DT_REG },
    ];
    assert.equal(p.direntSize(1), 32);
    assert.equal(p.direntSize(8), 32);
    assert.equal(p.direntSize(9), 40);
    const all = p.packDirents(entries, 0, 4096);
    assert.equal(all.length, 32 * 4);
    for (let i = 0; i < 4; i++) {
      const d = all.subarray(i * 32, (i + 1) * 32);
      assert.equal(d.readBigUInt64LE(0), entries[i]!.ino);
      assert.equal(d.readBigUInt64LE(8), BigInt(i + 1));
      assert.equal(d.readUInt32LE(16), entries[i]!.name.length);
      assert.equal(d.readUInt32LE(20), entries[i]!.type);
      assert.equal(d.toString('utf8', 24, 24 + entries[i]!.name.length), entries[i]!.name);
      assert.ok(d.subarray(24 + entries[i]!.name.length).every((b) => b === 0), 'zero padding');
    }
    assert.equal(p.packDirents(entries, 0, 70).length, 64); // third entry does not fit whole
    assert.deepEqual(p.packDirents(entries, 2, 4096), all.subarray(64));
    assert.equal(p.packDirents(entries, 4, 4096).length, 0); // end of directory
  });

  it('sizes the read buffer to max_write + a page, at least 8 KiB', () => {
    assert.equal(p.readBufferSize(131072), 135168);
    assert.equal(p.readBufferSize(0), 8192);
  });
});

describe('notifications', () => {
  it('store (size only) and resend have the kernel layouts', () => {
    const store = p.notifyStore(7n, 4096n);
    assert.equal(store.length, 40);
    assert.equal(store.readUInt32LE(0), 40);
    assert.equal(store.readInt32LE(4), p.NOTIFY_STORE);
    assert.equal(store.readBigUInt64LE(16), 7n);
    assert.equal(store.readBigUInt64LE(24), 4096n);
    assert.equal(store.readUInt32LE(32), 0);
    const withData = p.notifyStore(7n, 0n, Buffer.from('12\n'));
    assert.equal(withData.length, 43);
    assert.equal(withData.readUInt32LE(0), 43);
    assert.equal(withData.readUInt32LE(32), 3, 'size: the bytes that follow');
    assert.equal(withData.subarray(40).toString(), '12\n');
    const resend = p.notifyResend();
    assert.deepEqual([resend.length, resend.readInt32LE(4), resend.readBigUInt64LE(8)], [16, 7, 0n]);
  });

  it('inval inode: the whole file by default (offset 0, len 0: to the end)', () => {
    const inval = p.notifyInvalInode(9n);
    assert.deepEqual([inval.length, inval.readUInt32LE(0), inval.readInt32LE(4), inval.readBigUInt64LE(8)], [40, 40, p.NOTIFY_INVAL_INODE, 0n]);
    assert.deepEqual([inval.readBigUInt64LE(16), inval.readBigInt64LE(24), inval.readBigInt64LE(32)], [9n, 0n, 0n]);
  });
});
