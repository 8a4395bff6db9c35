/**
 * Maps every error to the wire error shape `{ code, message, status, retryable, details }`
 * with the code's HTTP status. Internal failures are logged and answered without internals.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { AegisError, toAegisError } from '@aegis-ipc/protocol';

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let err: AegisError;
    if (error.validation) {
      err = new AegisError('VALIDATION_FAILED', `invalid request: ${error.message}`, {
        details: { fields: error.validation.map((v) => ({ path: v.instancePath || '/', message: v.message ?? 'invalid' })) },
      });
    } else if (error instanceof AegisError) {
      err = error;
    } else if (typeof error.statusCode === 'number' && error.statusCode < 500) {
      err = new AegisError(error.statusCode === 404 ? 'NOT_FOUND' : 'VALIDATION_FAILED', error.message);
    } else {
      request.log.error({ err: error }, 'admin API request failed');
      err = toAegisError(new AegisError('INTERNAL', 'internal error while serving the request'));
    }
    void reply.status(err.status).send(err.toWire());
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(new AegisError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`).toWire());
  });
}
