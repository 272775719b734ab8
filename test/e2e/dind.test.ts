// Docker inside a system container (issue 4): an inner dockerd, unprivileged, on overlay2, with
// inner images, builds and networking, bounded by the outer container's limits, isolated from the
// host's Docker, and leaving nothing behind.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { BUSYBOX, MGR_DATA_ROOT, containerIdOf, docker, dockerOk, leftoversOf, loadImageInto, run, uniqueName, waitForInnerDocker } from '../lib/env.js';

const DOCKER_IMAGE = 'sysbox/docker:latest';
const HOST_SYSCTLS = ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/bridge/bridge-nf-call-iptables', '/proc/sys/kernel/panic', '/proc/sys/vm/overcommit_memory'];

function readSysctls(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of HOST_SYSCTLS) {
    try { out[f] = fs.readFileSync(f, 'utf8').trim(); } catch { out[f] = 'absent'; }
  }
  return out;
}

/** `docker exec` in the outer container; must succeed. */
function inner(outer: string, ...cmd: string[]): Promise<string> {
  return dockerOk('exec', outer, ...cmd);
}

describe('Docker inside a system container', () => {
  const outer = uniqueName('dind');
  let outerId = '';
  let sysctlsBefore: Record<string, string> = {};

  before(async () => {
    sysctlsBefore = readSysctls();
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', outer, '--memory', '512m', '--pids-limit', '300', '--cpus', '0.5', DOCKER_IMAGE, 'sleep', 'infinity');
    outerId = await containerIdOf(outer);
    await waitForInnerDocker(outer);
    await loadImageInto(outer, BUSYBOX);
  });
  after(() => docker('rm', '-f', outer));

  it('runs the inner dockerd unprivileged on overlay2', async () => {
    assert.equal(await dockerOk('inspect', '-f', '{{.HostConfig.Privileged}}', outer), 'false');
    const info = await inner(outer, 'docker', 'info', '--format', '{{.Driver}} {{.CgroupVersion}}');
    assert.equal(info, 'overlay2 1');
    assert.match(await inner(outer, 'cat', '/proc/self/uid_map'), /^0\s+[1-9]\d*\s+65536$/);
    // /var/lib/docker, containerd and kubelet are host dirs of their own, owned by root inside
    const mounts = await inner(outer, 'sh', '-c', 'for d in /var/lib/docker /var/lib/containerd /var/lib/kubelet; do grep -q " $d " /proc/self/mountinfo && stat -c "$d %U" $d; done');
    assert.deepEqual(mounts.split('\n'), ['/var/lib/docker root', '/var/lib/containerd root', '/var/lib/kubelet root']);
    for (const kind of ['docker', 'containerd', 'kubelet']) {
      assert.equal(fs.statSync(`${MGR_DATA_ROOT}/${kind}/${outerId}`).uid, Number(await inner(outer, 'sh', '-c', "awk '{print $2}' /proc/self/uid_map")));
    }
  });

  it('runs inner containers from a loaded image, builds images, and networks inner containers together', async () => {
    assert.equal(await inner(outer, 'docker', 'run', '--rm', BUSYBOX, 'echo', 'hello from inside'), 'hello from inside');
    const built = await inner(outer, 'sh', '-c', [
      'mkdir -p /tmp/ctx && printf "FROM sysbox/busybox:latest\\nRUN echo built-inside > /built\\n" > /tmp/ctx/Dockerfile',
      'docker build -q -t inner/built /tmp/ctx >/dev/null && docker run --rm inner/built cat /built',
    ].join(' && '));
    assert.equal(built, 'built-inside');
    const served = await inner(outer, 'sh', '-c', [
      'docker run -d --name web sysbox/busybox:latest httpd -f -p 8080 -h /etc >/dev/null',
      'ip=$(docker inspect -f "{{.NetworkSettings.IPAddress}}" web)',
      'docker run --rm sysbox/busybox:latest wget -qO- http://$ip:8080/hostname',
      'docker rm -f web >/dev/null',
    ].join(' && '));
    assert.match(served, /^[0-9a-f]{12}$/, `inner container did not reach the other: ${served}`);
  });

  it('keeps inner containers inside the outer container\'s cgroups and limits', async () => {
    const innerName = 'bounded';
    await inner(outer, 'docker', 'run', '-d', '--name', innerName, BUSYBOX, 'sleep', '3017');
    const innerPid = await inner(outer, 'docker', 'inspect', '-f', '{{.State.Pid}}', innerName);
    // That pid is in the outer container's pid namespace; find the host pid through the outer's view.
    const hostPids = (await run('pgrep', ['-f', '^sleep 3017$'])).stdout.trim().split('\n').filter(Boolean);
    const memLines = hostPids.map((p) => {
      try { return fs.readFileSync(`/proc/${p}/cgroup`, 'utf8').split('\n').find((l) => /:memory:/.test(l)) ?? ''; } catch { return ''; }
    });
    assert.ok(memLines.some((l) => l.includes(`/${outerId}/docker/`)), `no inner container under the outer cgroup: ${memLines.join(' | ')}`);
    const innerCgroup = await inner(outer, 'docker', 'exec', innerName, 'cat', '/proc/self/cgroup');
    assert.ok(!innerCgroup.includes(outerId), `inner cgroup paths must not show host paths: ${innerCgroup}`);
    assert.ok(Number(innerPid) > 0);
    await inner(outer, 'docker', 'rm', '-f', innerName);
    // 512 MiB outer limit: an inner container holding 700 MiB is OOM-killed (tail -n 1 keeps a line-less input in memory).
    const hog = await docker('exec', outer, 'docker', 'run', '--rm', BUSYBOX, 'sh', '-c', 'head -c 700m /dev/zero | tail -n 1 >/dev/null; echo status=$?');
    assert.equal(hog.stdout.trim(), 'status=137', `the memory hog inside an inner container must be OOM-killed: ${hog.stdout}${hog.stderr}`);
    const small = await inner(outer, 'docker', 'run', '--rm', BUSYBOX, 'sh', '-c', 'head -c 100m /dev/zero | tail -n 1 >/dev/null; echo status=$?');
    assert.equal(small, 'status=0', 'below the outer limit the same work succeeds');
  });

  it('bounds inner containers by the outer --pids-limit and --cpus', async () => {
    const outerPid = await dockerOk('inspect', '-f', '{{.State.Pid}}', outer);
    const pidsLine = fs.readFileSync(`/proc/${outerPid}/cgroup`, 'utf8').split('\n').find((l) => /:pids:/.test(l))!;
    assert.equal(fs.readFileSync(`/sys/fs/cgroup/pids${pidsLine.split(':')[2]}/pids.max`, 'utf8').trim(), '300');
    // 400 sleeps in an inner container: forks beyond the outer limit fail; 50 are fine.
    const many = await docker('exec', outer, 'docker', 'run', '--rm', BUSYBOX, 'sh', '-c', 'i=0; while [ $i -lt 400 ]; do sleep 30 & i=$((i+1)); done; echo all-forked');
    assert.ok(!many.stdout.includes('all-forked'), 'an inner container exceeded the outer --pids-limit');
    assert.match(many.stderr, /can't fork/);
    const few = await inner(outer, 'docker', 'run', '--rm', BUSYBOX, 'sh', '-c', 'i=0; while [ $i -lt 50 ]; do sleep 1 & i=$((i+1)); done; echo all-forked');
    assert.equal(few, 'all-forked');
    // Two busy loops for 3 s: unbounded they would use ~6 s of CPU on two cores; --cpus 0.5 allows ~1.5 s.
    const usage = await inner(outer, 'docker', 'run', '--rm', BUSYBOX, 'sh', '-c',
      'timeout 3 sh -c "while :; do :; done" & timeout 3 sh -c "while :; do :; done"; wait; cat /sys/fs/cgroup/cpuacct/cpuacct.usage');
    const seconds = Number(usage.split('\n').at(-1)) / 1e9;
    assert.ok(seconds > 0.5 && seconds < 2.5, `inner CPU use ${seconds.toFixed(2)} s is not bounded by the outer --cpus 0.5`);
  });

  it('cannot see the host\'s Docker and leaves host sysctls alone', async () => {
    const names = await inner(outer, 'docker', 'ps', '-a', '--format', '{{.Names}}');
    assert.ok(!names.split('\n').includes(outer), 'the inner Docker must not list host containers');
    // The socket inside is the inner daemon's own, not the host's.
    assert.notEqual(await inner(outer, 'docker', 'info', '--format', '{{.ID}}'), await dockerOk('info', '--format', '{{.ID}}'));
    const images = await inner(outer, 'docker', 'images', '--format', '{{.Repository}}');
    assert.ok(!images.includes('sysbox/docker'), `host images visible inside: ${images}`);
    assert.deepEqual(readSysctls(), sysctlsBefore);
  });

  it('leaves no mounts, dirs or records on the host after docker rm -f', async () => {
    const specialDirs = ['docker', 'containerd', 'kubelet'].map((k) => `${MGR_DATA_ROOT}/${k}/${outerId}`);
    for (const d of specialDirs) assert.ok(fs.existsSync(d), `${d} should back the container`);
    await dockerOk('rm', '-f', outer);
    assert.deepEqual(leftoversOf(outerId), []);
    for (const d of specialDirs) assert.ok(!fs.existsSync(d), `${d} must be removed`);
  });
});
