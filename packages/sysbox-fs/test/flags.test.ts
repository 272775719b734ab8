// sysbox-fs's command line: the original's names, defaults and values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFsArgs } from '../src/flags.js';

describe('sysbox-fs flags', () => {
  it('have the original\'s defaults', () => {
    const a = parseFsArgs([]);
    assert.equal(a.mountpoint, '/var/lib/sysboxfs');
    assert.equal(a.logLevel, 'info');
    assert.equal(a.logFormat, 'text');
    assert.equal(a.log, undefined);
    assert.equal(a.ignoreHandlerErrors, false);
    assert.deepEqual(a.traps, { allowImmutableRemounts: false, allowImmutableUnmounts: true, seccompFdRelease: 'proc-exit' });
  });

  it('take the original\'s values and forms', () => {
    assert.equal(parseFsArgs(['--log-level', 'warning']).logLevel, 'warn');
    const fatal = parseFsArgs(['--log-level=fatal']);
    assert.equal(fatal.silent, true);
    assert.equal(parseFsArgs(['--log-level', 'info', '--log-level', 'debug']).logLevel, 'debug', 'the last one wins');
    const a = parseFsArgs(['--allow-immutable-unmounts=false', '--allow-immutable-remounts=true', '--seccomp-fd-release', 'cont-exit', '--ignore-handler-errors', '--log-format', 'json']);
    assert.deepEqual(a.traps, { allowImmutableRemounts: true, allowImmutableUnmounts: false, seccompFdRelease: 'cont-exit' });
    assert.equal(a.ignoreHandlerErrors, true);
    assert.equal(a.logFormat, 'json');
  });
});
