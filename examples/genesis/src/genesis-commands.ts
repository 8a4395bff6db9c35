/**
 * The genesis commands (SPEC OB-1, seed story 2.2): `command_type` → payload schema, handler and
 * whether it completes now (200) or is accepted for a worker (202).
 */
import { AegisError, Type, compileSchema, type CompiledSchema, type TSchema } from '@aegis-ipc/protocol';
import type { CommandHandler } from '@aegis-ipc/outbox';

/** Aggregate type of every genesis event. */
export const AGGREGATE_TYPE = 'GENESIS_SESSION';

/** Stages of a genesis session, in order. */
export const STAGES = ['CONCEPT_SELECTION', 'STORY_CONCEPTION', 'WORLDVIEW', 'CHARACTERS', 'PLOT_OUTLINE', 'FINISHED'] as const;

interface CommandSpec {
  readonly schema: CompiledSchema<TSchema>;
  readonly handler: CommandHandler;
}

const requestConceptGeneration = compileSchema(
  Type.Object(
    {
      theme_preferences: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 20 })),
      style_preferences: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 20 })),
    },
    { additionalProperties: false },
  ),
);
const confirmStage = compileSchema(Type.Object({ stage: Type.Union(STAGES.map((s) => Type.Literal(s))) }, { additionalProperties: false }));
const submitFeedback = compileSchema(Type.Object({ feedback: Type.String({ minLength: 1, maxLength: 5000 }) }, { additionalProperties: false }));

export const GENESIS_COMMANDS: Readonly<Record<string, CommandSpec>> = {
  // Generating concepts takes an AI call: accept now (202), a worker finishes it later.
  RequestConceptGeneration: {
    schema: requestConceptGeneration,
    handler: ({ command }) => ({
      outcome: 'accepted',
      events: [{ eventType: 'Genesis.Session.ConceptGenerationRequested', payload: { session_id: command.sessionId, request_params: command.payload } }],
    }),
  },
  ConfirmStage: {
    schema: confirmStage,
    handler: ({ command }) => ({
      outcome: 'completed',
      result: { stage: command.payload.stage },
      events: [{ eventType: 'Genesis.Session.StageConfirmed', payload: { session_id: command.sessionId, stage: command.payload.stage } }],
    }),
  },
  SubmitFeedback: {
    schema: submitFeedback,
    handler: ({ command }) => ({
      outcome: 'completed',
      events: [{ eventType: 'Genesis.Session.FeedbackSubmitted', payload: { session_id: command.sessionId, feedback: command.payload.feedback } }],
    }),
  },
};

/**
 * The spec for `commandType` with its payload validated.
 * @throws AegisError `UNKNOWN_COMMAND`, `VALIDATION_FAILED`.
 */
export function commandFor(commandType: string, payload: unknown): CommandSpec {
  const spec = Object.hasOwn(GENESIS_COMMANDS, commandType) ? GENESIS_COMMANDS[commandType] : undefined;
  if (spec === undefined) {
    throw new AegisError('UNKNOWN_COMMAND', `unknown command_type ${JSON.stringify(commandType.slice(0, 100))}`, {
      details: { command_type: commandType.slice(0, 100), known: Object.keys(GENESIS_COMMANDS) },
    });
  }
  spec.schema.parse(payload, `${commandType} payload`);
  return spec;
}
