import { Type } from '../schema.js';
import { MAX_NAME_LENGTH } from '../names.js';

const TOKEN_PATTERN = '^[A-Za-z0-9_-]+$';

/** A subject token (service, instance, method): see `names.ts`. */
export const NameToken = (description: string) =>
  Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH, pattern: TOKEN_PATTERN, description });

/** A trace id: 1…64 token characters; generated ids are W3C trace ids (32 hex). */
export const TraceId = Type.String({ minLength: 1, maxLength: 64, pattern: TOKEN_PATTERN, description: 'Trace id (W3C 32-hex when generated).' });

/** A message id: 1…64 token characters; generated ids are UUID v4. */
export const MessageId = Type.String({ minLength: 1, maxLength: 64, pattern: TOKEN_PATTERN, description: 'Message id (UUID v4 when generated).' });

/** An ISO-8601 timestamp string. */
export const Timestamp = Type.String({ minLength: 1, maxLength: 40, description: 'ISO-8601 timestamp.' });

/** A free-form JSON object. */
export const JsonObject = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });
