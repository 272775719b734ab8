// How a trapped syscall is answered: run by the kernel as if untrapped, or a result of our own.
export type Answer = { kind: 'continue' } | { kind: 'reply'; errno: number; val: number };

export const CONTINUE: Answer = { kind: 'continue' };
export const ok = (val = 0): Answer => ({ kind: 'reply', errno: 0, val });
export const fail = (errno: number): Answer => ({ kind: 'reply', errno, val: 0 });

/** The errno a failed native call or fs call carries (EPERM if none). */
export function errnoOf(e: unknown): number {
  const errno = (e as { errno?: unknown } | null)?.errno;
  return typeof errno === 'number' && errno !== 0 ? Math.abs(errno) : 1;
}
