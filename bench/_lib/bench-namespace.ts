/**
 * Gives the benchmark a subject namespace of its own (unless AEGIS_NAMESPACE is set), so its
 * router never shares the `route.request` queue group with another router on the same NATS — a
 * shared group would hand some bench calls to a router that does not know the bench's instance.
 * Imports nothing and must be the first import of the bench: the protocol reads the variable
 * once, when it is first loaded. Child processes inherit it.
 */
process.env.AEGIS_NAMESPACE ??= `bench${globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, 10)}`;
