// One copy of the tree per container slot, with inode numbers that map back and forth.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shrunkIndex } from '../src/fuse/worker-config.js';
import { SlottedTree } from '../src/slotted-tree.js';
import { dir, file, ROOT_INODE, StaticTree } from '../src/tree.js';

const base = new StaticTree(dir({ proc: dir({ uptime: file(() => 'u\n'), meminfo: file(() => 'm\n') }) }));

describe('SlottedTree', () => {
  it('looks up <slot>/... to distinct inodes sharing the same nodes', () => {
    const t = new SlottedTree(base, 8);
    assert.equal(t.size, 1 + 8 * base.size);
    const s0 = t.lookup(ROOT_INODE, '0')!;
    const s5 = t.lookup(ROOT_INODE, '5')!;
    assert.equal(s0.parent, ROOT_INODE);
    const u0 = t.lookup(t.lookup(s0.ino, 'proc')!.ino, 'uptime')!;
    const u5 = t.lookup(t.lookup(s5.ino, 'proc')!.ino, 'uptime')!;
    assert.notEqual(u0.ino, u5.ino);
    assert.equal(u0.node, u5.node);
    assert.equal(t.get(u5.ino), u5);
    assert.equal(t.get(t.get(u5.parent)!.parent), s5);
  });

  it('refuses slots out of range and names that are not slot numbers', () => {
    const t = new SlottedTree(base, 8);
    for (const name of ['8', '-1', '01', 'proc', '1e3']) assert.equal(t.lookup(ROOT_INODE, name), undefined, name);
    assert.equal(t.get(BigInt(t.size + 1)), undefined);
    assert.equal(t.get((1n << 62n) + (8n << 40n)), undefined, 'slot 8 of 8');
  });

  it('gives one file\'s inodes in different slots different bytes of the shrunk-inode table', () => {
    const t = new SlottedTree(base, 64);
    const uptime = (slot: string): bigint => t.lookup(t.lookup(t.lookup(ROOT_INODE, slot)!.ino, 'proc')!.ino, 'uptime')!.ino;
    const size = 1 << 20;
    const bytes = new Set(Array.from({ length: 64 }, (_, s) => shrunkIndex(uptime(String(s)), size)));
    assert.equal(bytes.size, 64);
    for (const b of bytes) assert.ok(b >= 0 && b < size);
  });
});
