// GET /v1/swagger.json: an OpenAPI 2.0 document generated from the route table, listing exactly the
// paths the emulator serves.
import type { Route } from './router.js';

/** Builds the OpenAPI 2.0 document of these routes. */
export function swaggerDocument<Context>(routes: readonly Route<Context>[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters = [...route.pattern.matchAll(/\{([^}]+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      type: 'string',
    }));
    paths[route.pattern] ??= {};
    paths[route.pattern]![route.method.toLowerCase()] = {
      summary: route.summary,
      parameters,
      security: route.auth ? [{ bearer: [] }] : [],
      responses: {
        default: { description: 'see the Toolkit API; errors are {"error": {code, status, message}}' },
      },
    };
  }
  return {
    swagger: '2.0',
    info: { title: 'Toolkit API (toolkit-ci emulator)', version: '1.0.0' },
    basePath: '/',
    schemes: ['http'],
    consumes: ['application/json'],
    produces: ['application/json'],
    securityDefinitions: { bearer: { type: 'apiKey', name: 'Authorization', in: 'header' } },
    paths,
  };
}
