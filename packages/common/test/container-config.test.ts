import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CONTAINER_CONFIG, KnobError, knobEntries, mergeConfig, parseKnobs, stripKnobs } from '../src/container-config.js';

describe('SYSBOX_* container knobs', () => {
  it('read the original boolean names, TRUE and FALSE only', () => {
    assert.deepEqual(parseKnobs(['PATH=/bin', 'SYSBOX_HONOR_CAPS=TRUE', 'SYSBOX_SYSCONT_MODE=FALSE', 'SYSBOX_IGNORE_SYSFS_CHOWN=TRUE', 'SYSBOX_ALLOW_TRUSTED_XATTR=FALSE']),
      { honorCaps: true, syscontMode: false, ignoreSysfsChown: true, allowTrustedXattr: false });
    for (const bad of ['SYSBOX_HONOR_CAPS=true', 'SYSBOX_HONOR_CAPS=1', 'SYSBOX_HONOR_CAPS=', 'SYSBOX_HONOR_CAPS']) {
      assert.throws(() => parseKnobs([bad]), (e: Error) => e instanceof KnobError && /SYSBOX_HONOR_CAPS.*TRUE or FALSE/.test(e.message), bad);
    }
  });
  it('refuse an unknown SYSBOX_ name, naming it', () => {
    assert.throws(() => parseKnobs(['SYSBOX_HONOUR_CAPS=TRUE']), /unknown sysbox environment variable SYSBOX_HONOUR_CAPS/);
  });
  it('take absolute paths for SYSBOX_SKIP_UID_SHIFT', () => {
    assert.deepEqual(parseKnobs(['SYSBOX_SKIP_UID_SHIFT=/mnt/a,/etc/resolv.conf/']), { skipUidShift: ['/mnt/a', '/etc/resolv.conf'] });
    assert.throws(() => parseKnobs(['SYSBOX_SKIP_UID_SHIFT=']), /SYSBOX_SKIP_UID_SHIFT/);
    assert.throws(() => parseKnobs(['SYSBOX_SKIP_UID_SHIFT=mnt']), /absolute/);
  });
  it('override the daemon defaults and leave the rest', () => {
    const defaults = { ...DEFAULT_CONTAINER_CONFIG, honorCaps: true };
    assert.deepEqual(mergeConfig(defaults, { honorCaps: false, skipUidShift: ['/x'] }), { ...DEFAULT_CONTAINER_CONFIG, skipUidShift: ['/x'] });
  });
  it('are stripped from a process environment and sent on their own', () => {
    const env = ['A=1', 'SYSBOX_HONOR_CAPS=TRUE', 'B=2'];
    assert.deepEqual(stripKnobs(env), ['A=1', 'B=2']);
    assert.deepEqual(knobEntries(env), ['SYSBOX_HONOR_CAPS=TRUE']);
  });
});
