// Errno numbers as the names people look up ("ENODEV", not 19), for errors and exit reasons.
import os from 'node:os';

export function errnoName(n: number): string {
  return (Object.entries(os.constants.errno as Record<string, number>).find(([, v]) => v === n)?.[0]) ?? `errno ${n}`;
}
