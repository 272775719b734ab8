// `level=error` in a daemon's log means the daemon itself failed (issue 11): a request it refuses on
// purpose goes back to the caller with its gRPC status and is logged at level=warning.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import { BUSYBOX, docker, dockerOk, MGR_DATA_ROOT, uniqueName } from '../lib/env.js';

const MGR_LOG = `${MGR_DATA_ROOT}.log`;

describe('daemon log levels', () => {
  const containers: string[] = [];
  const volumes: string[] = [];
  after(async () => {
    for (const c of containers) await docker('rm', '-f', c);
    for (const v of volumes) await docker('volume', 'rm', '-f', v);
  });

  it('sysbox-mgr refusing a second container the same /var/lib/docker volume logs a warning, not an error', async () => {
    const vol = uniqueName('loglevel-vol');
    const holder = uniqueName('loglevel-holder');
    const rival = uniqueName('loglevel-rival');
    volumes.push(vol);
    containers.push(holder, rival);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', holder, '-v', `${vol}:/var/lib/docker`, BUSYBOX, 'sleep', '300');
    const holderId = await dockerOk('inspect', '-f', '{{.Id}}', holder);
    const r = await docker('run', '-d', '--runtime=sysbox-runc', '--name', rival, '-v', `${vol}:/var/lib/docker`, BUSYBOX, 'sleep', '300');
    assert.notEqual(r.status, 0, 'the rival must be refused');
    assert.match(r.stderr, /already mounted at \/var\/lib\/docker in container/, 'the caller gets the reason');
    const refusal = fs.readFileSync(MGR_LOG, 'utf8').split('\n').filter((l) => l.includes(`in container ${holderId}`));
    assert.ok(refusal.length > 0, `no refusal line in ${MGR_LOG}`);
    for (const l of refusal) assert.match(l, /^time="[^"]+" level=warning msg="register: /, l);
  });
});
