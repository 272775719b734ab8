// Parsing of writes to emulated kernel settings: what the kernel accepts is stored normalised,
// the rest is EINVAL (undefined).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { intRule, printkRule } from '../src/nodes/proc/sys/rules.js';
import { EMULATED_SYSCTLS } from '../src/nodes/proc/sys/settings.js';

describe('emulated setting rules', () => {
  it('integers in range, as the kernel prints them', () => {
    const r = intRule(0, 2);
    assert.equal(r.parse('1\n', '0\n'), '1\n');
    assert.equal(r.parse(' 2 ', '0\n'), '2\n');
    for (const bad of ['3', '-1', 'abc', '', '1 2', '1.5', '99999999999999999999']) assert.equal(r.parse(bad, '0\n'), undefined, bad);
  });

  it('printk: up to four integers, a shorter write changes the leading ones', () => {
    assert.equal(printkRule.parse('3', '4\t4\t1\t7\n'), '3\t4\t1\t7\n');
    assert.equal(printkRule.parse('1 2 3 4', '4\t4\t1\t7\n'), '1\t2\t3\t4\n');
    assert.equal(printkRule.parse('1 2 3 4 5', '4\t4\t1\t7\n'), undefined);
    assert.equal(printkRule.parse('x', '4\t4\t1\t7\n'), undefined);
  });

  it('only capacities may raise the host; nothing else touches it', () => {
    const raising = Object.entries(EMULATED_SYSCTLS).filter(([, r]) => r.host === 'raise-host').map(([k]) => k);
    assert.deepEqual(raising, ['net/netfilter/nf_conntrack_max', 'net/ipv4/neigh/default/gc_thresh1', 'net/ipv4/neigh/default/gc_thresh2', 'net/ipv4/neigh/default/gc_thresh3']);
  });
});
