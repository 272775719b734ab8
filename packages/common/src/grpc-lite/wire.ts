// Protobuf wire codec driven by the field tables that scripts/gen-proto.mjs generates.
// It exists so the short-lived sysbox-runc can speak gRPC without loading grpc-js and a .proto
// parser at start-up (about 100 ms per invocation, measured); it covers the scalar kinds our
// protos use, nested messages, repeated fields and map<string,string>.

export type FieldKind = 'string' | 'bool' | 'uint32' | 'int32' | 'uint64' | 'int64' | 'double' | 'bytes' | 'message' | 'map';
/** [field number, JS name, kind, repeated, message name or "key:value" for maps] */
export type FieldSpec = readonly [number, string, FieldKind, boolean, string | undefined];
export type MessageSchema = readonly FieldSpec[];
export type Message = { [field: string]: unknown };

const WIRE_VARINT = 0;
const WIRE_64 = 1;
const WIRE_LEN = 2;
const WIRE_32 = 5;

class Writer {
  private chunks: number[] = [];
  varint(v: number | bigint): void {
    let n = BigInt.asUintN(64, BigInt(v));
    while (n > 0x7fn) {
      this.chunks.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.chunks.push(Number(n));
  }
  tag(field: number, wire: number): void { this.varint((field << 3) | wire); }
  bytes(b: Uint8Array): void {
    this.varint(b.length);
    for (const x of b) this.chunks.push(x);
  }
  raw(b: Uint8Array): void { for (const x of b) this.chunks.push(x); }
  finish(): Uint8Array { return Uint8Array.from(this.chunks); }
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

function encodeScalar(w: Writer, field: number, kind: FieldKind, value: unknown): void {
  switch (kind) {
    case 'string': w.tag(field, WIRE_LEN); w.bytes(utf8.encode(String(value))); return;
    case 'bytes': w.tag(field, WIRE_LEN); w.bytes(value as Uint8Array); return;
    case 'bool': w.tag(field, WIRE_VARINT); w.varint(value ? 1 : 0); return;
    case 'uint32': case 'uint64': case 'int64':
      w.tag(field, WIRE_VARINT); w.varint(BigInt(Math.trunc(Number(value)))); return;
    case 'int32': w.tag(field, WIRE_VARINT); w.varint(BigInt.asUintN(64, BigInt(Math.trunc(Number(value))))); return;
    case 'double': {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, Number(value), true);
      w.tag(field, WIRE_64); w.raw(b); return;
    }
    default: throw new Error(`not a scalar kind: ${kind}`);
  }
}

function isDefault(kind: FieldKind, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (kind === 'string') return v === '';
  if (kind === 'bool') return v === false;
  if (kind === 'message' || kind === 'map' || kind === 'bytes') return false;
  return Number(v) === 0;
}

export function encode(schemas: Record<string, MessageSchema>, type: string, msg: Message): Uint8Array {
  const schema = schemas[type];
  if (!schema) throw new Error(`unknown message type ${type}`);
  const w = new Writer();
  for (const [num, name, kind, repeated, ref] of schema) {
    const value = msg[name];
    if (kind === 'map') {
      const [, valueKind] = (ref ?? 'string:string').split(':') as [FieldKind, FieldKind];
      for (const [k, v] of Object.entries((value ?? {}) as Record<string, unknown>)) {
        const entry = new Writer();
        encodeScalar(entry, 1, 'string', k);
        encodeScalar(entry, 2, valueKind, v);
        w.tag(num, WIRE_LEN); w.bytes(entry.finish());
      }
      continue;
    }
    const values = repeated ? ((value ?? []) as unknown[]) : [value];
    for (const v of values) {
      if (!repeated && isDefault(kind, v)) continue;
      if (kind === 'message') {
        w.tag(num, WIRE_LEN); w.bytes(encode(schemas, ref as string, v as Message));
      } else {
        encodeScalar(w, num, kind, v);
      }
    }
  }
  return w.finish();
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  get done(): boolean { return this.pos >= this.buf.length; }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  take(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_64) this.take(8);
    else if (wire === WIRE_LEN) this.take(Number(this.varint()));
    else if (wire === WIRE_32) this.take(4);
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

function decodeScalar(r: Reader, kind: FieldKind): unknown {
  switch (kind) {
    case 'string': return utf8d.decode(r.take(Number(r.varint())));
    case 'bytes': return Uint8Array.from(r.take(Number(r.varint())));
    case 'bool': return r.varint() !== 0n;
    case 'uint32': case 'uint64': return Number(r.varint());
    case 'int32': return Number(BigInt.asIntN(32, r.varint()));
    case 'int64': return Number(BigInt.asIntN(64, r.varint()));
    case 'double': { const b = r.take(8); return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true); }
    default: throw new Error(`not a scalar kind: ${kind}`);
  }
}

function defaults(schema: MessageSchema): Message {
  const out: Message = {};
  for (const [, name, kind, repeated] of schema) {
    if (repeated) out[name] = [];
    else if (kind === 'map') out[name] = {};
    else if (kind === 'string') out[name] = '';
    else if (kind === 'bool') out[name] = false;
    else if (kind !== 'message' && kind !== 'bytes') out[name] = 0;
  }
  return out;
}

export function decode(schemas: Record<string, MessageSchema>, type: string, buf: Uint8Array): Message {
  const schema = schemas[type];
  if (!schema) throw new Error(`unknown message type ${type}`);
  const byNumber = new Map(schema.map((f) => [f[0], f] as const));
  const out = defaults(schema);
  const r = new Reader(buf);
  while (!r.done) {
    const tag = Number(r.varint());
    const num = tag >>> 3;
    const wire = tag & 7;
    const spec = byNumber.get(num);
    if (!spec) { r.skip(wire); continue; }
    const [, name, kind, repeated, ref] = spec;
    if (kind === 'map') {
      const [, valueKind] = (ref ?? 'string:string').split(':') as [FieldKind, FieldKind];
      const entry = new Reader(r.take(Number(r.varint())));
      let key = '';
      let value: unknown = valueKind === 'string' ? '' : 0;
      while (!entry.done) {
        const t = Number(entry.varint());
        if (t >>> 3 === 1) key = decodeScalar(entry, 'string') as string;
        else if (t >>> 3 === 2) value = decodeScalar(entry, valueKind);
        else entry.skip(t & 7);
      }
      (out[name] as Record<string, unknown>)[key] = value;
      continue;
    }
    let value: unknown;
    if (kind === 'message') value = decode(schemas, ref as string, r.take(Number(r.varint())));
    else if (repeated && wire === WIRE_LEN && kind !== 'string' && kind !== 'bytes') {
      // packed repeated scalars
      const packed = new Reader(r.take(Number(r.varint())));
      while (!packed.done) (out[name] as unknown[]).push(decodeScalar(packed, kind));
      continue;
    } else value = decodeScalar(r, kind);
    if (repeated) (out[name] as unknown[]).push(value);
    else out[name] = value;
  }
  return out;
}
