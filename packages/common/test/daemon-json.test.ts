import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addRuntime, DaemonJsonError, isEmptyObject, removeRuntime } from '../src/install/daemon-json.js';

const P = '/usr/bin/sysbox-runc';

/** add then remove must give back the operator's file byte for byte. */
function roundTrip(original: string): string {
  const added = addRuntime(original, 'sysbox-runc', P);
  assert.ok(added.changed);
  assert.deepEqual(JSON.parse(added.text).runtimes['sysbox-runc'], { path: P });
  const removed = removeRuntime(added.text, 'sysbox-runc');
  assert.ok(removed.changed);
  assert.equal(removed.text, original);
  return added.text;
}

describe('daemon.json runtime entry', () => {
  it('adds "runtimes" to a 4-space file in its own style, keeping every other byte', () => {
    const original = '{\n    "log-driver": "journald",\n    "storage-driver": "overlay2"\n}\n';
    assert.equal(roundTrip(original),
      '{\n    "log-driver": "journald",\n    "storage-driver": "overlay2",\n    "runtimes": {\n        "sysbox-runc": {\n            "path": "/usr/bin/sysbox-runc"\n        }\n    }\n}\n');
  });

  it('adds to an existing runtimes object next to other runtimes (tabs)', () => {
    const original = '{\n\t"runtimes": {\n\t\t"crun": {\n\t\t\t"path": "/usr/bin/crun"\n\t\t}\n\t},\n\t"debug": true\n}';
    const added = roundTrip(original);
    assert.match(added, /\t\t"crun": \{\n\t\t\t"path": "\/usr\/bin\/crun"\n\t\t\},\n\t\t"sysbox-runc": \{\n\t\t\t"path": "\/usr\/bin\/sysbox-runc"\n\t\t\}\n\t\},\n\t"debug": true\n\}$/);
  });

  it('keeps a one-line file on one line', () => {
    assert.equal(roundTrip('{"debug":true}'), '{"debug":true, "runtimes": {"sysbox-runc": {"path": "/usr/bin/sysbox-runc"}}}');
  });

  it('fills an empty object and an empty file', () => {
    assert.equal(roundTrip('{}\n'), '{\n  "runtimes": {\n    "sysbox-runc": {\n      "path": "/usr/bin/sysbox-runc"\n    }\n  }\n}\n');
    const fromNothing = addRuntime('', 'sysbox-runc', P);
    assert.deepEqual(JSON.parse(fromNothing.text), { runtimes: { 'sysbox-runc': { path: P } } });
    assert.ok(isEmptyObject(removeRuntime(fromNothing.text, 'sysbox-runc').text));
  });

  it('can keep an emptied "runtimes" (what makes a running dockerd forget the runtime on reload)', () => {
    const added = addRuntime('{\n  "debug": true\n}\n', 'sysbox-runc', P).text;
    assert.deepEqual(JSON.parse(removeRuntime(added, 'sysbox-runc', true).text), { debug: true, runtimes: {} });
    assert.equal(removeRuntime(added, 'sysbox-runc').text, '{\n  "debug": true\n}\n');
  });

  it('removes an entry that comes first, keeping the runtimes after it', () => {
    const text = '{\n  "runtimes": {\n    "sysbox-runc": {"path": "/x"},\n    "crun": {"path": "/usr/bin/crun"}\n  }\n}\n';
    assert.equal(removeRuntime(text, 'sysbox-runc').text, '{\n  "runtimes": {\n    "crun": {"path": "/usr/bin/crun"}\n  }\n}\n');
  });

  it('changes nothing when the entry is already there with the same path, or absent on remove', () => {
    const text = '{ "runtimes": { "sysbox-runc": { "path": "/usr/bin/sysbox-runc", "runtimeArgs": ["--debug"] } } }';
    assert.deepEqual(addRuntime(text, 'sysbox-runc', P), { text, changed: false });
    assert.deepEqual(removeRuntime('{"debug": true}', 'sysbox-runc'), { text: '{"debug": true}', changed: false });
  });

  it('points an entry with another path at the new one, keeping its other settings', () => {
    const text = '{\n  "runtimes": {\n    "sysbox-runc": {\n      "path": "/usr/local/sbin/sysbox-runc",\n      "runtimeArgs": ["--debug"]\n    }\n  }\n}\n';
    const edit = addRuntime(text, 'sysbox-runc', P);
    assert.ok(edit.changed);
    assert.deepEqual(JSON.parse(edit.text), { runtimes: { 'sysbox-runc': { path: P, runtimeArgs: ['--debug'] } } });
  });

  it('handles strings with braces, quotes and escapes in other values', () => {
    const original = '{\n  "labels": ["a}b", "c\\"{d"],\n  "x": {"y": "]"}\n}\n';
    roundTrip(original);
  });

  it('refuses a file that is not JSON, or not an object, or whose runtimes is not an object', () => {
    assert.throws(() => addRuntime('{ "debug": true,', 'sysbox-runc', P), (e: unknown) => e instanceof DaemonJsonError && /not valid JSON/.test(e.message));
    assert.throws(() => addRuntime('[1]', 'sysbox-runc', P), /not a JSON object/);
    assert.throws(() => addRuntime('{"runtimes": []}', 'sysbox-runc', P), /"runtimes" is not an object/);
  });
});
