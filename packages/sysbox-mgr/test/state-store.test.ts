import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { StateStore, type ContainerRecord } from '../src/state-store.js';

function record(id: string, initPid = 0): ContainerRecord {
  return {
    id, bundle: `/b/${id}`, runDir: `/run/sysbox-containers/${id}`, uid: 200000, gid: 200000, size: 65536,
    allocated: true, state: 'registered', rootfs: `/b/${id}/rootfs`, mounts: [], specialDirs: [],
    exclusiveSources: [], initPid, initStartTime: 0, replacedRootfs: '', replacedOptions: '',
  };
}

function withStore(fn: (store: StateStore, dir: string, root: string) => void): void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-store-'));
  try {
    const store = new StateStore(root);
    fn(store, store.dir, root);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

describe('StateStore', () => {
  it('saves over a record: the last save loads, no temp file left', () => {
    withStore((store, dir) => {
      store.save(record('c1'));
      store.save(record('c1', 42));
      assert.deepEqual(fs.readdirSync(dir), ['c1.json']);
      assert.equal(new StateStore(path.dirname(path.dirname(dir))).loadAll()[0]?.initPid, 42);
    });
  });

  it('takes a complete temp file whose record was already unlinked (a kill -9 between unlink and rename)', () => {
    withStore((store, dir, root) => {
      store.save(record('c1'));
      fs.writeFileSync(path.join(dir, 'c1.json.tmp'), JSON.stringify(record('c1', 7)));
      fs.unlinkSync(path.join(dir, 'c1.json'));
      const loaded = new StateStore(root).loadAll();
      assert.deepEqual(loaded.map((r) => [r.id, r.initPid]), [['c1', 7]]);
      assert.deepEqual(fs.readdirSync(dir), ['c1.json']);
    });
  });

  it('drops a temp file cut short: beside its record the record stands, alone there was none', () => {
    withStore((store, dir, root) => {
      store.save(record('c1', 3));
      const half = JSON.stringify(record('c1', 9), null, 1);
      fs.writeFileSync(path.join(dir, 'c1.json.tmp'), half.slice(0, half.length - 1));
      fs.writeFileSync(path.join(dir, 'c2.json.tmp'), half.slice(0, 40));
      const loaded = new StateStore(root).loadAll();
      assert.deepEqual(loaded.map((r) => [r.id, r.initPid]), [['c1', 3]]);
      assert.deepEqual(fs.readdirSync(dir), ['c1.json']);
    });
  });

  it('removes a record', () => {
    withStore((store, dir) => {
      store.save(record('c1'));
      store.remove('c1');
      store.remove('c1');
      assert.deepEqual(fs.readdirSync(dir), []);
    });
  });
});
