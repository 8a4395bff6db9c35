/**
 * `@aegis-ipc/protocol` — the wire contract of AegisIPC: subjects, headers, payload schemas,
 * the MessagePack codec, error codes and name validation. No I/O, no clients.
 *
 * @example
 * import { SUBJECTS, encode, decode, registerRequest } from '@aegis-ipc/protocol';
 * const req = registerRequest.parse(decode(msg.data)); // throws AegisError VALIDATION_FAILED
 */
export { ERROR_CODES, isErrorCode, type ErrorCode } from './errors/error-codes.js';
export type { ErrorDetails, ErrorDetailsMap, FieldError, RouteAttempt } from './errors/error-details.js';
export { AegisError, isAegisError, isWireError, toAegisError, type AegisErrorOptions, type WireError } from './errors/aegis-error.js';
export { withTraceId } from './errors/with-trace-id.js';
export { encode, decode, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_ENTRIES, type DecodeLimits } from './codec.js';
export { assertName, assertTopic, nameProblem, MAX_NAME_LENGTH, MAX_TOPIC_LENGTH, MAX_TOPIC_TOKENS, type NameKind } from './names.js';
export { NAMESPACE, DEFAULT_NAMESPACE, resolveNamespace } from './namespace.js';
export { SUBJECTS, QUEUE_GROUPS, heartbeatSubject, instanceInboxSubject, instanceControlSubject, ackSubject, parseHeartbeatSubject } from './subjects.js';
export { HEADERS } from './headers.js';
export { newMessageId, newTraceId, isIdToken, isUuidV4, isTraceId, randomHex, randomHexInto } from './ids.js';
export { Type, compileSchema, type CompiledSchema, type Static, type TSchema } from './schema.js';
export { errorReply, isErrorReply, unwrapReply, type ErrorReply } from './envelope.js';
export { INSTANCE_STATUS, type InstanceStatus } from './schemas/instance-status.js';
export { NameToken, TraceId, MessageId, Timestamp, JsonObject } from './schemas/common.js';
export * from './schemas/registration.js';
export * from './schemas/instance-record.js';
export * from './schemas/instance-control.js';
export * from './schemas/route-request.js';
export * from './schemas/trace-lookup.js';
export { newSpanId, formatTraceparent, parseTraceparent } from './trace-context.js';
export { scanRouteRequest, skipValue, type ScannedRouteRequest } from './route-scan.js';
export { natsHeaderBlock, NatsHeaderBlock } from './nats-header-block.js';
export type { RegistryEvent } from './schemas/registry-event.js';
export { LOG_LEVELS, setting, resolveSettings, describeSettings, type LogLevel, type SettingDef, type SettingDefs, type ResolvedSettings } from './settings.js';
