// How each emulated kernel setting parses a write, and what a write may do to the host. A write
// the kernel would reject gets EINVAL; an accepted one is stored for the writing container only.
// `raise-host` settings are capacities (conntrack table size): a container asking for more than
// the host has raises the host's value, as the original Sysbox does for nf_conntrack_max, and a
// smaller value stays the container's own; no write ever lowers a host setting.
export type HostPolicy = 'container-only' | 'raise-host';

export interface SettingRule {
  /** Normalised content to store (as the kernel would print it), or undefined for EINVAL. */
  parse(written: string, current: string): string | undefined;
  host: HostPolicy;
}

export const INT_MIN = -2147483648;
export const INT_MAX = 2147483647;
export const UINT_MAX = 4294967295;

const INT_RE = /^[+-]?\d+$/;

function ints(text: string): number[] | undefined {
  const parts = text.trim().split(/\s+/).filter((p) => p !== '');
  if (parts.length === 0 || !parts.every((p) => INT_RE.test(p))) return undefined;
  const nums = parts.map(Number);
  return nums.every(Number.isSafeInteger) ? nums : undefined;
}

/** One integer in [min, max]. */
export function intRule(min: number, max: number, host: HostPolicy = 'container-only'): SettingRule {
  return {
    host,
    parse(written) {
      const v = ints(written);
      if (!v || v.length !== 1 || v[0] < min || v[0] > max) return undefined;
      return `${v[0]}\n`;
    },
  };
}

/** kernel.printk: up to four integers, tab-separated; a shorter write changes the leading ones. */
export const printkRule: SettingRule = {
  host: 'container-only',
  parse(written, current) {
    const v = ints(written);
    const cur = ints(current) ?? [4, 4, 1, 7];
    if (!v || v.length > 4 || v.some((n) => n < INT_MIN || n > INT_MAX)) return undefined;
    return `${cur.map((n, i) => v[i] ?? n).join('\t')}\n`;
  },
};
