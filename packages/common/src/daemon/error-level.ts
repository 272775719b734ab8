// Which log level a gRPC handler's error gets. Operators alert on `level=error`, so it must mean the
// daemon itself failed (an unexpected throw, which the server turns into INTERNAL). A request the
// daemon refuses on purpose carries its own status and goes back to the caller, who reports it:
// the daemon notes it at `warn`, or `debug` for the lookups a runtime makes routinely.
import { GrpcStatus } from '../grpc-lite/client.js';

export type ErrorLevel = 'error' | 'warn' | 'debug';

/** Routine answers to idempotent calls (delete of a gone container, a repeated register). */
const ROUTINE: ReadonlySet<number> = new Set([GrpcStatus.NOT_FOUND, GrpcStatus.ALREADY_EXISTS]);
/** The daemon's own failure, or an error without a deliberate status. */
const FAILURE: ReadonlySet<number> = new Set([GrpcStatus.UNKNOWN, GrpcStatus.INTERNAL, GrpcStatus.OK]);

export function handlerErrorLevel(err: unknown): ErrorLevel {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'number' || FAILURE.has(code) || !Object.values(GrpcStatus).includes(code as never)) return 'error';
  return ROUTINE.has(code) ? 'debug' : 'warn';
}
