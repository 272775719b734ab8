// Which sysbox-runc.js the launcher hands to Node: the one beside its real path, found with shell
// tests (no readlink fork on every create) when the launcher is called by that path, and through
// the link otherwise (/usr/bin/sysbox-runc links into /usr/lib/sysbox).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

describe('launcher: the Node runtime it starts', () => {
  const source = path.resolve(__dirname, '..', '..', 'launcher', 'sysbox-runc.sh');
  let dir: string;
  let real: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-node-path-'));
    fs.mkdirSync(path.join(dir, 'lib'));
    fs.mkdirSync(path.join(dir, 'bin'));
    real = path.join(dir, 'lib', 'sysbox-runc');
    fs.copyFileSync(source, real);
    fs.chmodSync(real, 0o755);
    // Says which file Node ran.
    fs.writeFileSync(path.join(dir, 'lib', 'sysbox-runc.js'), 'console.log(__filename)\n');
    fs.symlinkSync(real, path.join(dir, 'bin', 'sysbox-runc'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ran = (cmd: string, cwd = dir): string => {
    const r = spawnSync(cmd, ['create', 'c1'], { cwd, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };

  it('is the one beside the launcher called by its real path', () => {
    assert.equal(ran(real), path.join(dir, 'lib', 'sysbox-runc.js'));
  });
  it('is the one beside the link\'s target when called through a link', () => {
    assert.equal(ran(path.join(dir, 'bin', 'sysbox-runc')), path.join(dir, 'lib', 'sysbox-runc.js'));
  });
  it('is found through a relative path to a link as well', () => {
    assert.equal(ran('./bin/sysbox-runc'), path.join(dir, 'lib', 'sysbox-runc.js'));
  });
});
