/**
 * Tells a result reply from an error reply without decoding the result: the router passes the
 * instance's bytes back untouched and only needs the error code for metrics and the breaker.
 */
import { decode, isErrorReply } from '@aegis-ipc/protocol';

// MessagePack fixmap header (0x80–0x8f) followed by fixstr "result" (0xa6 r e s u l t).
const RESULT_KEY = [0xa6, 0x72, 0x65, 0x73, 0x75, 0x6c, 0x74];

/** `undefined` for a result reply; the error code for an error reply (`DECODE_FAILED` when unreadable). */
export function replyErrorCode(data: Uint8Array): string | undefined {
  const first = data[0];
  if (first === 0x80) return undefined; // {} — a handler that returned nothing
  if (first !== undefined && first >= 0x81 && first <= 0x8f && data.length > RESULT_KEY.length) {
    let match = true;
    for (let i = 0; i < RESULT_KEY.length; i++) {
      if (data[i + 1] !== RESULT_KEY[i]) {
        match = false;
        break;
      }
    }
    if (match) return undefined;
  }
  // Rare path (error replies, or another encoder's key order): decode.
  try {
    const value = decode(data);
    return isErrorReply(value) ? value.error.code : undefined;
  } catch {
    return 'DECODE_FAILED';
  }
}
