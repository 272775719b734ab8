import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { handlerErrorLevel } from '../src/daemon/error-level.js';
import { GrpcStatus } from '../src/grpc-lite/client.js';

const withCode = (code: unknown): Error => Object.assign(new Error('x'), { code });

describe('log level of a gRPC handler error', () => {
  it('is warn for a request refused on purpose', () => {
    for (const c of ['INVALID_ARGUMENT', 'FAILED_PRECONDITION', 'RESOURCE_EXHAUSTED', 'PERMISSION_DENIED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'ABORTED'] as const) {
      assert.equal(handlerErrorLevel(withCode(GrpcStatus[c])), 'warn', c);
    }
  });

  it('is debug for the routine NOT_FOUND and ALREADY_EXISTS', () => {
    assert.equal(handlerErrorLevel(withCode(GrpcStatus.NOT_FOUND)), 'debug');
    assert.equal(handlerErrorLevel(withCode(GrpcStatus.ALREADY_EXISTS)), 'debug');
  });

  it('is error for the daemon\'s own failure: INTERNAL, UNKNOWN, or a throw without a status', () => {
    assert.equal(handlerErrorLevel(withCode(GrpcStatus.INTERNAL)), 'error');
    assert.equal(handlerErrorLevel(withCode(GrpcStatus.UNKNOWN)), 'error');
    assert.equal(handlerErrorLevel(new Error('EACCES')), 'error');
    assert.equal(handlerErrorLevel(withCode('EACCES')), 'error', 'a Node errno code is no gRPC status');
    assert.equal(handlerErrorLevel(withCode(99)), 'error');
    assert.equal(handlerErrorLevel(withCode(GrpcStatus.OK)), 'error');
    assert.equal(handlerErrorLevel(null), 'error');
    assert.equal(handlerErrorLevel('boom'), 'error');
  });
});
