// Adds or removes one entry under "runtimes" in Docker's daemon.json as a text edit: every other
// byte of the file (keys, order, comments-free formatting, indentation) stays as the operator wrote
// it, and removing what add inserted gives back the original text. jq would re-indent the whole file.

export class DaemonJsonError extends Error {}

interface Member { key: string; keyStart: number; valueStart: number; valueEnd: number }
interface ObjectSpan { open: number; close: number; members: Member[] }

const WS = new Set([' ', '\t', '\n', '\r']);

/** Start/end offsets of every value, enough to find object members; assumes text already parsed by JSON.parse. */
class Scanner {
  constructor(private readonly text: string) {}

  skipWs(i: number): number {
    while (i < this.text.length && WS.has(this.text[i]!)) i++;
    return i;
  }

  /** End (exclusive) of the string starting at i (a quote). */
  stringEnd(i: number): number {
    for (let j = i + 1; j < this.text.length; j++) {
      if (this.text[j] === '\\') j++;
      else if (this.text[j] === '"') return j + 1;
    }
    throw new DaemonJsonError('unterminated string');
  }

  /** End (exclusive) of the value starting at i. */
  valueEnd(i: number): number {
    const c = this.text[i];
    if (c === '"') return this.stringEnd(i);
    if (c === '{' || c === '[') {
      let depth = 0;
      for (let j = i; j < this.text.length; j++) {
        const d = this.text[j];
        if (d === '"') { j = this.stringEnd(j) - 1; continue; }
        if (d === '{' || d === '[') depth++;
        else if (d === '}' || d === ']') { depth--; if (depth === 0) return j + 1; }
      }
      throw new DaemonJsonError('unbalanced brackets');
    }
    let j = i;
    while (j < this.text.length && !WS.has(this.text[j]!) && !',}]'.includes(this.text[j]!)) j++;
    return j;
  }

  object(open: number): ObjectSpan {
    const members: Member[] = [];
    let i = this.skipWs(open + 1);
    while (this.text[i] !== '}') {
      const keyEnd = this.stringEnd(i);
      const key = JSON.parse(this.text.slice(i, keyEnd)) as string;
      const valueStart = this.skipWs(this.skipWs(keyEnd) + 1); // past the colon
      const valueEnd = this.valueEnd(valueStart);
      members.push({ key, keyStart: i, valueStart, valueEnd });
      i = this.skipWs(valueEnd);
      if (this.text[i] === ',') i = this.skipWs(i + 1);
    }
    return { open, close: i, members };
  }
}

/** The whitespace before the line's first non-blank character at offset i, or null when i is not first on its line. */
function lineIndent(text: string, i: number): string | null {
  const lineStart = text.lastIndexOf('\n', i - 1) + 1;
  const before = text.slice(lineStart, i);
  return /^[ \t]*$/.test(before) ? before : null;
}

interface Style { multiline: boolean; unit: string }

/** How the file is laid out: one member per line with some indent unit, or all on one line. */
function styleOf(text: string, top: ObjectSpan): Style {
  const first = top.members[0];
  if (!first) return { multiline: true, unit: '  ' };
  const indent = lineIndent(text, first.keyStart);
  if (indent === null || indent === '') return { multiline: false, unit: '' };
  return { multiline: true, unit: indent };
}

function parseObject(text: string): { scanner: Scanner; top: ObjectSpan } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new DaemonJsonError(`not valid JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new DaemonJsonError('not a JSON object');
  const scanner = new Scanner(text);
  return { scanner, top: scanner.object(scanner.skipWs(0)) };
}

/** Renders `"key": value` for a member at the given depth (1 = top level). */
function renderMember(key: string, value: Record<string, unknown>, style: Style, depth: number): string {
  if (!style.multiline) return `${JSON.stringify(key)}: ${JSON.stringify(value).replace(/":/g, '": ').replace(/,"/g, ', "')}`;
  const body = JSON.stringify(value, null, style.unit).replace(/\n/g, `\n${style.unit.repeat(depth)}`);
  return `${JSON.stringify(key)}: ${body}`;
}

/** Inserts a member at the end of obj. */
function insertMember(text: string, obj: ObjectSpan, member: string, style: Style, depth: number): string {
  const last = obj.members[obj.members.length - 1];
  if (!style.multiline) {
    return last
      ? `${text.slice(0, last.valueEnd)}, ${member}${text.slice(last.valueEnd)}`
      : `${text.slice(0, obj.open + 1)}${member}${text.slice(obj.close)}`;
  }
  const indent = style.unit.repeat(depth);
  if (last) return `${text.slice(0, last.valueEnd)},\n${indent}${member}${text.slice(last.valueEnd)}`;
  // An empty object: the member on its own line, the closing brace on the object's own indent.
  return `${text.slice(0, obj.open + 1)}\n${indent}${member}\n${style.unit.repeat(depth - 1)}${text.slice(obj.close)}`;
}

/** Removes member k of obj together with the comma and line break that separated it. */
function deleteMember(text: string, obj: ObjectSpan, k: number): string {
  const m = obj.members[k]!;
  if (k > 0) return text.slice(0, obj.members[k - 1]!.valueEnd) + text.slice(m.valueEnd);
  const next = obj.members[k + 1];
  if (next) return text.slice(0, m.keyStart) + text.slice(next.keyStart);
  // The only member: the object becomes as empty as it was before anything was added ({}).
  return text.slice(0, obj.open + 1) + text.slice(obj.close);
}

export interface Edit { text: string; changed: boolean }

/** Registers runtime `name` with binary `path`; an entry of that name with that path already there is left alone. */
export function addRuntime(original: string, name: string, path: string): Edit {
  const text = original.trim() === '' ? '{}\n' : original;
  const { scanner, top } = parseObject(text);
  const style = styleOf(text, top);
  const entry = { path };
  const runtimes = top.members.find((m) => m.key === 'runtimes');
  if (!runtimes) return { text: insertMember(text, top, renderMember('runtimes', { [name]: entry }, style, 1), style, 1), changed: true };
  if (text[runtimes.valueStart] !== '{') throw new DaemonJsonError('"runtimes" is not an object');
  const obj = scanner.object(runtimes.valueStart);
  const existing = obj.members.find((m) => m.key === name);
  if (existing) {
    const value = JSON.parse(text.slice(existing.valueStart, existing.valueEnd)) as { path?: unknown };
    if (value.path === path) return { text: original, changed: false };
    const replaced = renderMember(name, { ...value, path }, style, 2);
    return { text: text.slice(0, existing.keyStart) + replaced + text.slice(existing.valueEnd), changed: true };
  }
  return { text: insertMember(text, obj, renderMember(name, entry, style, 2), style, 2), changed: true };
}

/**
 * Unregisters runtime `name`; "runtimes" goes too when nothing else is left in it, unless
 * keepEmpty (then `"runtimes": {}` stays: dockerd's reload only replaces its runtimes when the file
 * names the key, so this is the text that makes a running dockerd forget the runtime).
 */
export function removeRuntime(original: string, name: string, keepEmpty = false): Edit {
  if (original.trim() === '') return { text: original, changed: false };
  const { scanner, top } = parseObject(original);
  const r = top.members.findIndex((m) => m.key === 'runtimes');
  if (r < 0) return { text: original, changed: false };
  const runtimes = top.members[r]!;
  if (original[runtimes.valueStart] !== '{') throw new DaemonJsonError('"runtimes" is not an object');
  const obj = scanner.object(runtimes.valueStart);
  const k = obj.members.findIndex((m) => m.key === name);
  if (k < 0) return { text: original, changed: false };
  if (obj.members.length === 1 && !keepEmpty) return { text: deleteMember(original, top, r), changed: true };
  return { text: deleteMember(original, obj, k), changed: true };
}

/** True when the text holds nothing but an empty object (what add of a missing file leaves after remove). */
export function isEmptyObject(text: string): boolean {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0;
  } catch {
    return false;
  }
}
