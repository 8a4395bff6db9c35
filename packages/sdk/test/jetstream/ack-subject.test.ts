import { describe, expect, it } from 'vitest';
import { readAckPosition } from '../../src/jetstream/ack-subject.js';

describe('readAckPosition', () => {
  it('reads the v1 ack subject (no domain)', () => {
    expect(readAckPosition('$JS.ACK.ORDERS.shipping.3.1042.77.1700000000000000000.5')).toEqual({ deliveryCount: 3, streamSequence: 1042, storedAt: '1700000000000000000' });
  });

  it('reads the v2 ack subject (domain, account hash, trailing token)', () => {
    expect(readAckPosition('$JS.ACK.hub.ACCHASH.ORDERS.shipping.1.9.9.1700000000000000000.0.abc123')).toEqual({ deliveryCount: 1, streamSequence: 9, storedAt: '1700000000000000000' });
    expect(readAckPosition('$JS.ACK._.ACCHASH.ORDERS.shipping.2.10.11.1700000000000000000.0')).toEqual({ deliveryCount: 2, streamSequence: 10, storedAt: '1700000000000000000' });
  });

  it('refuses what is not an ack subject or has no usable numbers', () => {
    for (const reply of ['', '_INBOX.abc', '$JS.ACK.ORDERS.c.1.2', '$JS.ACK.ORDERS.c.x.2.3.4.5', '$JS.ACK.ORDERS.c.0.2.3.4.5', '$JS.ACK.ORDERS.c.1.2.3.x.5', '$JS.API.ORDERS.c.1.2.3.4.5']) {
      expect(readAckPosition(reply)).toBeUndefined();
    }
  });
});
