/**
 * OpenTelemetry context propagation through NATS message headers (W3C `traceparent`,
 * `tracestate`), so one trace follows a request across the router, instances, reliable-call
 * redeliveries, event deliveries and the outbox relay.
 */
import { context, propagation, type Context, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';

const setter: TextMapSetter<MsgHdrs> = {
  set(carrier, key, value) {
    carrier.set(key, value);
  },
};

const getter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (carrier) => (carrier === undefined ? [] : [...carrier.keys()]),
  get(carrier, key) {
    if (carrier === undefined) return undefined;
    const value = carrier.get(key);
    return value === '' ? undefined : value;
  },
};

/** Writes the current (or given) context into `headers` (created when absent). */
export function injectTraceContext(headers: MsgHdrs = natsHeaders(), ctx: Context = context.active()): MsgHdrs {
  propagation.inject(ctx, headers, setter);
  return headers;
}

/** The context carried by `headers`, on top of the active one. */
export function extractTraceContext(headers: MsgHdrs | undefined, base: Context = context.active()): Context {
  return propagation.extract(base, headers, getter);
}

/** Propagation through a plain string map (for trace context stored with outbox rows). */
export function injectTraceContextInto(carrier: Record<string, string>, ctx: Context = context.active()): Record<string, string> {
  propagation.inject(ctx, carrier);
  return carrier;
}

export function extractTraceContextFrom(carrier: Readonly<Record<string, string>> | undefined, base: Context = context.active()): Context {
  return carrier === undefined ? base : propagation.extract(base, carrier);
}
