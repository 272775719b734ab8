// JSON that keeps integers beyond 2^53 exact. OCI specs carry uint64 values that JS numbers cannot
// hold: `--ulimit memlock=-1` (Docker) or `nofile=-1` (Podman) puts RLIM_INFINITY,
// 18446744073709551615, in process.rlimits. JSON.parse rounds it to 18446744073709552000, which runc
// refuses to unmarshal into a uint64, so every such container failed to start. Such literals are
// carried through as marked strings and written back as the original digits. Nothing in sysbox-runc
// reads these fields; a value that did would see the marked string rather than a rounded number.

// In the JSON text the mark is written escaped (a raw NUL is not allowed there).
const MARK_IN_JSON = '\\u0000sysbox-int:';
const NUMBER = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;

/** Parses JSON; integer literals outside the safe range come back as marked strings. */
export function parseExactJson(text: string): unknown {
  // Every unsafe integer has 16 digits or more; without such a run (nearly every spec) the scan,
  // ~2x the parse itself, is skipped.
  return JSON.parse(/\d{16}/.test(text) ? markUnsafeIntegers(text) : text);
}

/** JSON.stringify, with the marked strings of parseExactJson written back as plain integers. */
export function stringifyExactJson(value: unknown): string {
  // JSON.stringify escapes the mark's NUL as \u0000; the digits follow unchanged.
  return JSON.stringify(value).replace(/"\\u0000sysbox-int:(-?\d+)"/g, '$1');
}

function markUnsafeIntegers(text: string): string {
  let out = '';
  let from = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string, escapes included.
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c /* \ */ ? 2 : 1;
      i++;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      const literal = m ? m[0] : text[i]!;
      if (m && m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(Number(literal))) {
        out += `${text.slice(from, i)}"${MARK_IN_JSON}${literal}"`;
        from = i + literal.length;
      }
      i += literal.length;
    } else {
      i++;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}
