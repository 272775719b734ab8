import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { shiftedId, shiftTreeIds } from '../src/chown-shift.js';
import { planWriteBack } from '../src/clone-sync.js';
import { skippedDestinations } from '../src/service.js';
import { featureLines } from '../src/flags.js';

const H = 165536;
const SIZE = 65536;

describe('shiftedId', () => {
  it('moves ids of the range up and back, and leaves every other id alone (idempotent both ways)', () => {
    assert.equal(shiftedId(0, H, SIZE, true), H);
    assert.equal(shiftedId(1234, H, SIZE, true), H + 1234);
    assert.equal(shiftedId(H, H, SIZE, true), undefined, 'already shifted');
    assert.equal(shiftedId(SIZE, H, SIZE, true), undefined, 'not representable inside');
    assert.equal(shiftedId(H + 1234, H, SIZE, false), 1234);
    assert.equal(shiftedId(0, H, SIZE, false), undefined, 'host root (docker cp) is never pushed below zero');
    assert.equal(shiftedId(H + SIZE, H, SIZE, false), undefined);
  });
});

describe('shiftTreeIds', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  it('shifts a tree up and back, without following symlinks, keeping setuid bits', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-chown-'));
    try {
      fs.mkdirSync(path.join(root, 'bin'));
      fs.writeFileSync(path.join(root, 'bin', 'su'), '');
      fs.chmodSync(path.join(root, 'bin', 'su'), 0o4755);
      fs.writeFileSync(path.join(root, 'owned'), '');
      fs.chownSync(path.join(root, 'owned'), 1000, 1001);
      fs.symlinkSync('/etc/passwd', path.join(root, 'link'));
      const range = { uid: H, gid: H + SIZE, size: SIZE };
      assert.equal(shiftTreeIds(root, range, true), 5);
      const su = fs.statSync(path.join(root, 'bin', 'su'));
      assert.deepEqual([su.uid, su.gid, su.mode & 0o7777], [H, H + SIZE, 0o4755]);
      assert.deepEqual([fs.statSync(path.join(root, 'owned')).uid, fs.statSync(path.join(root, 'owned')).gid], [H + 1000, H + SIZE + 1001]);
      assert.equal(fs.lstatSync(path.join(root, 'link')).uid, H);
      assert.equal(fs.statSync('/etc/passwd').uid, 0, 'the link target is not touched');
      shiftTreeIds(root, range, true);
      assert.equal(fs.statSync(path.join(root, 'owned')).uid, H + 1000, 'a second shift changes nothing');
      shiftTreeIds(root, range, false);
      assert.deepEqual([fs.statSync(path.join(root, 'owned')).uid, fs.statSync(path.join(root, 'owned')).gid], [1000, 1001]);
      assert.deepEqual([fs.statSync(root).uid, fs.statSync(path.join(root, 'bin', 'su')).mode & 0o7777], [0, 0o4755]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('planWriteBack', () => {
  it('copies what changed, removes what went, fixes owners of what only changed owner, skips metadata-only copies', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-writeback-'));
    const [upper, merged, orig] = ['upper', 'merged', 'orig'].map((d) => path.join(base, d));
    try {
      const write = (root: string, rel: string, text: string, mtime = 1000): void => {
        fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
        fs.writeFileSync(path.join(root, rel), text);
        fs.utimesSync(path.join(root, rel), mtime, mtime);
      };
      // orig: the rootfs before; merged: the clone after the container ran; upper: what it touched
      for (const r of [orig, merged]) {
        write(r, 'etc/same', 'same');
        write(r, 'etc/chmodded', 'x');
      }
      write(orig, 'etc/changed', 'old');
      write(merged, 'etc/changed', 'new!', 2000);
      write(orig, 'etc/gone', 'bye');
      write(orig, 'opaque/old', 'hidden');
      write(merged, 'opaque/new', 'fresh');
      write(merged, 'newdir/a/b', 'deep');
      fs.chmodSync(path.join(merged, 'etc/chmodded'), 0o600);
      for (const rel of ['etc/same', 'etc/chmodded', 'etc/changed', 'opaque/new', 'newdir/a/b']) write(upper, rel, '');
      fs.writeFileSync(path.join(upper, 'etc/gone'), ''); // stands for a whiteout: absent from merged
      const plan = planWriteBack(upper, merged, orig);
      assert.deepEqual(plan.remove.sort(), ['etc/changed', 'etc/gone', 'opaque/old']);
      assert.deepEqual(plan.copy.sort(), ['etc/changed', 'newdir', 'newdir/a', 'newdir/a/b', 'opaque/new']);
      assert.deepEqual(plan.meta.map((m) => [m.rel, m.mode]), [['etc/chmodded', 0o600]]);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('skippedDestinations', () => {
  it('matches SYSBOX_SKIP_UID_SHIFT paths to bind destinations, ignoring trailing slashes, and reports the others', () => {
    const r = skippedDestinations(['/etc/resolv.conf', '/data/', '/nowhere'], ['/etc/resolv.conf', '/data', '/etc/hosts']);
    assert.deepEqual([...r.skipped].sort(), ['/data', '/etc/resolv.conf']);
    assert.deepEqual(r.unmatched, ['/nowhere']);
  });
});

describe('featureLines', () => {
  it('says nothing for the defaults and one line per manager flag given', () => {
    const none = { disableInnerImagePreload: false, disableIdmappedMount: false, disableRootfsCloning: false, disableOvfsOnIdmappedMount: false, fsuidMapFailOnError: false, aliasDns: true };
    assert.deepEqual(featureLines(none), []);
    assert.equal(featureLines({ ...none, disableOvfsOnIdmappedMount: true, disableRootfsCloning: true }).length, 2);
  });
});
