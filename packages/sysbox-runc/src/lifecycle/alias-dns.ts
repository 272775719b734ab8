// DNS aliasing (sysbox-mgr `--alias-dns`, on by default, as in the original). On a user-defined
// network Docker writes `nameserver 127.0.0.11` into the container's resolv.conf: its embedded DNS,
// reached through NAT rules Docker puts in the container's network namespace (DNAT of 127.0.0.11:53
// to the resolver's real ports). An inner Docker copies that resolv.conf for its own containers,
// drops the localhost address (it cannot work in another namespace) and falls back to public
// servers: inner containers cannot resolve the names of the outer network, and without internet
// access nothing at all. So, as the original does, the container gets its default gateway as DNS
// address instead: Docker's rules are moved from 127.0.0.11 to the gateway address (also for
// traffic arriving from inner containers, PREROUTING), and resolv.conf names the gateway.
//
// Forwarding a packet that arrives on an interface to 127.0.0.11 needs route_localnet on that
// interface. It is set on the namespace's *default* only, which interfaces created later inherit
// (an inner Docker's bridges): eth0, which faces the outer network, keeps refusing packets for
// 127/8.
//
// Runs after `runc create` returned: Docker's prestart hook has then written resolv.conf and the
// rules, and nothing runs in the container yet.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { log } from '../log.js';

const NSENTER = '/usr/bin/nsenter';
const SYSCTL = '/usr/sbin/sysctl';
/** The iptables Docker most likely used first (the system's choice), then each backend explicitly. */
const IPTABLES_VARIANTS = ['iptables', 'iptables-nft', 'iptables-legacy'];
const SBIN = '/usr/sbin';

/** IPv4 nameservers of a resolv.conf that are localhost addresses (127.0.0.0/8), in order. */
export function localhostNameservers(resolvConf: string): string[] {
  const out: string[] = [];
  for (const line of resolvConf.split('\n')) {
    const m = /^\s*nameserver\s+(127\.\d{1,3}\.\d{1,3}\.\d{1,3})\s*(?:#.*)?$/.exec(line);
    if (m && !out.includes(m[1]!)) out.push(m[1]!);
  }
  return out;
}

/** The IPv4 default gateway in a /proc/<pid>/net/route table (hex, little-endian), if there is one. */
export function defaultGateway(routeTable: string): string | undefined {
  const RTF_UP = 0x1;
  const RTF_GATEWAY = 0x2;
  for (const line of routeTable.split('\n').slice(1)) {
    const [, dest, gw, flags, , , , mask] = line.trim().split(/\s+/);
    if (dest !== '00000000' || mask !== '00000000' || gw === undefined || flags === undefined) continue;
    const f = parseInt(flags, 16);
    if ((f & RTF_UP) === 0 || (f & RTF_GATEWAY) === 0) continue;
    const n = parseInt(gw, 16);
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.');
  }
  return undefined;
}

/**
 * `iptables-restore --noflush` input that moves the rules naming `dns` (from `iptables-save -t nat`)
 * to `alias`: matches on destination `dns` become `alias`, the SNAT of the answers' source port
 * gives `alias:53`, and each OUTPUT rule gets a PREROUTING twin for queries from inner containers.
 * Undefined when no rule DNATs to `dns` (no embedded DNS behind that address): nothing to alias.
 * Other rules are left alone.
 */
export function aliasBatch(natRules: string, dns: string, alias: string): string | undefined {
  const addr = `${dns}/32`;
  const rules = natRules.split('\n').filter((l) => l.startsWith('-A ') && l.includes(addr));
  if (!rules.some((r) => r.includes(`-j DNAT --to-destination ${dns}:`))) return undefined;
  const dst = new RegExp(`(^| )-d ${addr.replace(/\./g, '\\.')}( |$)`, 'g');
  const moved = (r: string): string => r.replace(dst, `$1-d ${alias}/32$2`).replace(/--to-source :53(?= |$)/, `--to-source ${alias}:53`);
  const added = rules.map(moved);
  const prerouting = added.filter((r) => r.startsWith('-A OUTPUT ') && r.includes(`-d ${alias}/32`)).map((r) => r.replace(/^-A OUTPUT /, '-A PREROUTING '));
  return ['*nat', ...rules.map((r) => r.replace(/^-A /, '-D ')), ...added, ...prerouting, 'COMMIT', ''].join('\n');
}

/** resolv.conf with `nameserver dns` lines naming `alias` instead; everything else kept. */
export function aliasResolvConf(text: string, dns: string, alias: string): string {
  const re = new RegExp(`^(\\s*nameserver\\s+)${dns.replace(/\./g, '\\.')}(?=\\s|$)`, 'gm');
  return text.replace(re, `$1${alias}`);
}

function inNetns(pid: number, cmd: string[], input?: string): string {
  const r = spawnSync(NSENTER, [`--net=/proc/${pid}/ns/net`, '--', ...cmd], { input, encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw new Error(`${cmd[0]}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} in the container's network namespace: ${(r.stderr || `exit ${r.status}`).trim()}`);
  return r.stdout;
}

/**
 * The first iptables backend whose nat table serves `dns`, with the batch that moves it. A backend
 * that cannot list its nat table (not installed, module absent) just holds no rules; its error is
 * kept to explain why nothing was found.
 */
function findRules(pid: number, dns: string, alias: string, errors: string[]): { restore: string; batch: string } | undefined {
  for (const v of IPTABLES_VARIANTS) {
    const save = `${SBIN}/${v}-save`;
    if (!fs.existsSync(save)) continue;
    let rules: string;
    try {
      rules = inNetns(pid, [save, '-t', 'nat']);
    } catch (err) {
      errors.push((err as Error).message);
      continue;
    }
    const batch = aliasBatch(rules, dns, alias);
    if (batch) return { restore: `${SBIN}/${v}-restore`, batch };
  }
  return undefined;
}

/**
 * Aliases the DNS server of the container whose init is `pid` when its resolv.conf (`resolvConf`,
 * the host file bind-mounted at /etc/resolv.conf) names a localhost address that NAT rules in its
 * own network namespace serve. Does nothing otherwise. Throws if a step fails.
 */
export function aliasDns(pid: number, resolvConf: string): void {
  const text = fs.readFileSync(resolvConf, 'utf8');
  const localhost = localhostNameservers(text);
  if (localhost.length === 0) return;
  if (fs.readlinkSync(`/proc/${pid}/ns/net`) === fs.readlinkSync('/proc/self/ns/net')) {
    log('debug', `DNS not aliased: the container shares the host's network namespace`);
    return;
  }
  const gateway = defaultGateway(fs.readFileSync(`/proc/${pid}/net/route`, 'utf8'));
  if (gateway === undefined) {
    log('info', `DNS not aliased: resolv.conf names ${localhost.join(', ')} but the container has no default gateway to use instead`);
    return;
  }
  const errors: string[] = [];
  for (const dns of localhost) {
    const found = findRules(pid, dns, gateway, errors);
    if (!found) continue;
    inNetns(pid, [found.restore, '--noflush'], found.batch);
    inNetns(pid, [SYSCTL, '-q', '-w', 'net.ipv4.conf.default.route_localnet=1']);
    // In place: the container sees this very inode through its bind mount (a rename would not show).
    fs.writeFileSync(resolvConf, aliasResolvConf(text, dns, gateway));
    log('debug', `DNS aliased: ${dns} -> ${gateway} (resolv.conf and NAT rules of the container's network namespace)`);
    return;
  }
  const why = errors.length > 0 ? ` (${[...new Set(errors)].join('; ')})` : '';
  log('info', `DNS not aliased: resolv.conf names ${localhost.join(', ')} but no NAT rule in the container's network namespace leads there${why}`);
}
