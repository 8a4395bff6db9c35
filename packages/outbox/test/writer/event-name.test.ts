import { describe, expect, it } from 'vitest';
import { isAegisError } from '@aegis-ipc/protocol';
import { assertEventName, eventNameProblem, EVENT_ACTIONS } from '../../src/index.js';

describe('event names (OB-6)', () => {
  it.each([
    'Genesis.Session.ConceptGenerationRequested',
    'Genesis.Session.StageConfirmed',
    'Genesis.Session.FeedbackSubmitted',
    'Genesis.Session.Concept.Proposed',
    'Billing.Invoice.Line.Revised',
    ...EVENT_ACTIONS.map((a) => `Orders.Order.${a}`),
  ])('accepts %s', (name) => {
    expect(eventNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['Genesis.SessionCreated', /3 or 4/],
    ['A.B.C.D.Created', /3 or 4/],
    ['genesis.Session.Created', /PascalCase/],
    ['Genesis.Session.Stage-Confirmed', /PascalCase/],
    ['Genesis.Session.Deleted', /must end with/],
    ['Genesis.Session.Confirm', /must end with/],
    ['Genesis..Created', /PascalCase/],
  ])('rejects %s', (name, rule) => {
    expect(eventNameProblem(name)).toMatch(rule);
  });

  it('throws EVENT_NAME_INVALID with the rule', () => {
    try {
      assertEventName('Genesis.Session.Deleted');
      expect.unreachable();
    } catch (err) {
      expect(isAegisError(err, 'EVENT_NAME_INVALID')).toBe(true);
      expect((err as { details: { event_type: string } }).details.event_type).toBe('Genesis.Session.Deleted');
    }
  });
});
