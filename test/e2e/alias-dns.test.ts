// sysbox-mgr --alias-dns (default true, issue 11): on a user-defined Docker network a system
// container's DNS is Docker's embedded server at 127.0.0.11, which an inner Docker cannot hand on
// to its containers. With aliasing the system container names its gateway instead (NAT rules in its
// network namespace lead there to Docker's server), so names of the outer network resolve in the
// system container and in the containers of its inner Docker; with --alias-dns=false they resolve
// in the system container only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BUSYBOX, docker, dockerOk, loadImageInto, restartMgr, uniqueName, waitForInnerDocker } from '../lib/env.js';

const DOCKER_IMAGE = 'sysbox/docker:latest';

/** The nameserver lines of a container's resolv.conf. */
async function nameservers(c: string): Promise<string[]> {
  const text = await dockerOk('exec', c, 'cat', '/etc/resolv.conf');
  return text.split('\n').filter((l) => l.startsWith('nameserver ')).map((l) => l.slice('nameserver '.length).trim());
}

/** A system container running an inner Docker (with busybox loaded) on `net`. */
async function systemContainer(name: string, net: string): Promise<void> {
  await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, '--network', net, DOCKER_IMAGE, 'sleep', 'infinity');
  await waitForInnerDocker(name);
  await loadImageInto(name, BUSYBOX);
}

/** `nslookup name` in a container of the inner Docker of `outer` (its default bridge). */
function innerLookup(outer: string, name: string): ReturnType<typeof docker> {
  return docker('exec', outer, 'timeout', '30', 'docker', 'run', '--rm', BUSYBOX, 'nslookup', name);
}

describe('DNS aliasing (sysbox-mgr --alias-dns)', () => {
  const net = uniqueName('dnsnet');
  const target = uniqueName('dnstarget');
  const aliased = uniqueName('dnsalias');
  const plain = uniqueName('dnsplain');
  let gateway = '';
  let targetIp = '';

  before(async () => {
    await dockerOk('network', 'create', net);
    gateway = await dockerOk('network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', net);
    await dockerOk('run', '-d', '--name', target, '--network', net, BUSYBOX, 'sleep', 'infinity');
    targetIp = await dockerOk('inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, target);
  });
  after(async () => {
    await docker('rm', '-f', target, aliased, plain);
    await docker('network', 'rm', net);
    await restartMgr();
  });

  it('gives the system container its gateway as DNS server, and names resolve there and in inner containers', async () => {
    await systemContainer(aliased, net);
    assert.match(gateway, /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(await nameservers(aliased), [gateway], 'the gateway replaces 127.0.0.11');
    assert.match(await dockerOk('exec', aliased, 'getent', 'hosts', target), new RegExp(`^${targetIp.replace(/\./g, '\\.')}\\s+${target}$`));
    // Docker's rules now lead from the gateway address to its server, also for forwarded queries.
    const nat = await dockerOk('exec', aliased, 'iptables-save', '-t', 'nat');
    assert.match(nat, new RegExp(`^-A PREROUTING -d ${gateway.replace(/\./g, '\\.')}/32 -j DOCKER_OUTPUT$`, 'm'), nat);
    assert.doesNotMatch(nat, /-d 127\.0\.0\.11\/32/, nat);
    // The inner Docker hands the alias on; its container resolves the outer network's names.
    assert.deepEqual((await dockerOk('exec', aliased, 'docker', 'run', '--rm', BUSYBOX, 'cat', '/etc/resolv.conf')).split('\n').filter((l) => l.startsWith('nameserver')), [`nameserver ${gateway}`]);
    const r = await innerLookup(aliased, target);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`Name:\\s+${target}\\s+Address: ${targetIp.replace(/\./g, '\\.')}`), r.stdout);
  });

  it('with --alias-dns=false keeps 127.0.0.11: names resolve in the system container but not in inner containers', async () => {
    await restartMgr(['--alias-dns=false']);
    await systemContainer(plain, net);
    assert.deepEqual(await nameservers(plain), ['127.0.0.11']);
    assert.match(await dockerOk('exec', plain, 'getent', 'hosts', target), new RegExp(`^${targetIp.replace(/\./g, '\\.')}\\s+${target}$`));
    const r = await innerLookup(plain, target);
    assert.notEqual(r.status, 0, `the inner container resolved ${target} without aliasing: ${r.stdout}`);
    assert.doesNotMatch(r.stdout, new RegExp(`Address: ${targetIp.replace(/\./g, '\\.')}`));
  });
});
