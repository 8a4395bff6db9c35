/**
 * The methods an instance serves, and how one is invoked. Independent of the transport: the NATS
 * inbox server uses it today, a JetStream consumer (exactly-once calls) will use the same table.
 */
import { AegisError, assertName } from '@aegis-ipc/protocol';
import type { CallContext } from './call-context.js';

/** A method handler: returns (or resolves to) the result sent back to the caller. */
export type MethodHandler = (params: Record<string, unknown>, ctx: CallContext) => unknown;

export class MethodTable {
  readonly #handlers = new Map<string, MethodHandler>();

  /**
   * Serves `method` with `handler`, replacing any previous handler.
   * @throws AegisError `INVALID_NAME` when `method` is not a subject token.
   */
  set(method: string, handler: MethodHandler): void {
    assertName('method', method);
    if (typeof handler !== 'function') throw new AegisError('CONFIG_INVALID', `handler of ${method} must be a function`);
    this.#handlers.set(method, handler);
  }

  get(method: string): MethodHandler | undefined {
    return this.#handlers.get(method);
  }

  /** Names of the served methods. */
  methods(): string[] {
    return [...this.#handlers.keys()];
  }

  /**
   * Runs the handler of `method`.
   * @throws AegisError `METHOD_NOT_FOUND` when nothing serves `method`; an AegisError thrown by
   * the handler as it is (its code is the handler's answer); anything else thrown becomes
   * `APPLICATION_ERROR` with the error's name and message (never its stack).
   */
  invoke(method: string, params: Record<string, unknown>, ctx: CallContext): Promise<unknown> {
    const handler = this.#handlers.get(method);
    if (handler === undefined) {
      return Promise.reject(
        new AegisError('METHOD_NOT_FOUND', `${ctx.serviceName} does not serve method "${method}"`, {
          details: { service_name: ctx.serviceName, method, available: this.methods(), trace_id: ctx.traceId },
        }),
      );
    }
    // Not an async function: one promise step per call instead of an async frame plus an await
    // (every served call passes here). A throw and a rejection are mapped alike.
    let result: unknown;
    try {
      result = handler(params, ctx);
    } catch (err) {
      return Promise.reject(handlerError(err, method, ctx));
    }
    return Promise.resolve(result).then(undefined, (err: unknown) => {
      throw handlerError(err, method, ctx);
    });
  }
}

/** What a handler's throw or rejection becomes (see {@link MethodTable.invoke}). */
function handlerError(err: unknown, method: string, ctx: CallContext): AegisError {
  if (err instanceof AegisError) return err as AegisError;
  const e = err instanceof Error ? err : new Error(String(err));
  return new AegisError('APPLICATION_ERROR', e.message, {
    details: { service_name: ctx.serviceName, instance_id: ctx.instanceId, method, error_name: e.name, trace_id: ctx.traceId },
    cause: err,
  });
}
