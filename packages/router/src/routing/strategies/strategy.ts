/**
 * A routing strategy is a pure function of the healthy instances and a context (STYLE habit 8,
 * after Moleculer's `select(instances, ctx)`): no I/O, no hidden state. Whatever state a
 * strategy needs between calls (round robin: the last instance chosen) is passed in the context
 * by the caller, so strategies are unit-tested with plain arrays.
 */

/** The least a strategy needs to know about an instance. */
export interface Candidate {
  readonly instance_id: string;
}

export interface SelectionContext {
  readonly serviceName: string;
  /** Resource the call is about (affinity strategies). */
  readonly resourceId?: string | undefined;
  /** Id of the instance chosen last for this service (round robin continues after it). */
  readonly previous?: string | undefined;
  /** Instances already tried by this call (failover goes to a different one). */
  readonly exclude?: ReadonlySet<string> | undefined;
}

/** Chooses one instance, or `undefined` when every candidate is excluded or there are none. */
export type SelectFn = <I extends Candidate>(instances: readonly I[], ctx: SelectionContext) => I | undefined;

export interface RoutingStrategy {
  /** The name used in settings and in traces (`AEGIS_ROUTE_STRATEGY`). */
  readonly name: string;
  readonly select: SelectFn;
}
