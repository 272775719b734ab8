import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExactJson, stringifyExactJson } from '../src/spec/exact-json.js';

describe('exact JSON for specs', () => {
  it('writes back uint64 rlimits (RLIM_INFINITY) digit for digit', () => {
    const text = '{"process":{"rlimits":[{"type":"RLIMIT_MEMLOCK","hard":18446744073709551615,"soft":18446744073709551615},{"type":"RLIMIT_NOFILE","hard":1048576,"soft":1024}]}}';
    const spec = parseExactJson(text) as { process: { rlimits: Array<{ hard: unknown; soft: unknown }> } };
    assert.equal(spec.process.rlimits[1]!.hard, 1048576);
    assert.equal(stringifyExactJson(spec), text);
  });

  it('leaves strings, safe integers, fractions, exponents and negatives alone', () => {
    const text = '{"a":"18446744073709551615 \\" 99999999999999999","b":[-1,0,9007199254740991,-9223372036854775808,1.5,2e400,-0.25],"c":{"d":true,"e":null}}';
    const v = parseExactJson(text) as { a: string; b: unknown[] };
    assert.equal(v.a, '18446744073709551615 " 99999999999999999');
    assert.equal(v.b[2], 9007199254740991);
    assert.equal(stringifyExactJson(v), '{"a":"18446744073709551615 \\" 99999999999999999","b":[-1,0,9007199254740991,-9223372036854775808,1.5,null,-0.25],"c":{"d":true,"e":null}}');
  });

  it('still reports malformed JSON', () => {
    assert.throws(() => parseExactJson('{"a": 18446744073709551615'), SyntaxError);
  });
});
