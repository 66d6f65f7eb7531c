// The login endpoint of a Docker registry (distribution API v2): just enough for `docker login`.
// `GET /v2/` with Basic `console:<token>` answers 200 `{}`; anything else about auth answers 401 with the
// challenge docker expects. Pushing and pulling are not emulated (README "Registries").
import { sendEmpty, sendJson } from './http.js';
import type { RequestContext } from './listener.js';

const API_VERSION = { 'docker-distribution-api-version': 'registry/2.0' };
const CHALLENGE = { 'www-authenticate': 'Basic realm="toolkit-emulator"' };

/** Handles a request on a registry listener. */
export function handleRegistry(ctx: RequestContext): void {
  const { req, res, path, auth } = ctx;
  const isBase = path === '/v2/' || path === '/v2';
  if (!isBase || (req.method !== 'GET' && req.method !== 'HEAD')) {
    sendJson(
      res,
      404,
      {
        errors: [
          {
            code: 'UNSUPPORTED',
            message: 'the emulator serves only GET /v2/ (registry login)',
            detail: null,
          },
        ],
      },
      API_VERSION,
    );
    return;
  }
  if (auth.outcome !== 'valid') {
    const message =
      auth.outcome === 'none' ? 'authentication required' : `authentication failed (${auth.outcome} token)`;
    sendJson(
      res,
      401,
      { errors: [{ code: 'UNAUTHORIZED', message, detail: null }] },
      { ...API_VERSION, ...CHALLENGE },
    );
    return;
  }
  if (req.method === 'HEAD') sendEmpty(res, 200, API_VERSION);
  else sendJson(res, 200, {}, API_VERSION);
}
