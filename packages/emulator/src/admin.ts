// Control endpoints under {url}/_emulator, outside /v1 so that no client mistakes them for Toolkit's:
// POST/GET/DELETE /faults, GET /journal, POST /reset. They need no token and are not journaled.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type FaultBook, faultRuleProblem } from './faults.js';
import { HttpError, readJson, sendEmpty, sendError, sendJson } from './http.js';
import type { Journal } from './journal.js';
import type { FaultRule } from './types.js';

export interface AdminDeps {
  faults: FaultBook;
  journal: Journal;
  reset: () => void;
}

/** Handles a request under /_emulator. */
export async function handleAdmin(
  deps: AdminDeps,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const route = `${req.method} ${path.replace(/\/$/, '')}`;
  try {
    switch (route) {
      case 'POST /_emulator/faults': {
        const rule = await readJson(req);
        const problem = faultRuleProblem(rule);
        if (problem) throw new HttpError(400, problem);
        deps.faults.add(rule as FaultRule);
        sendJson(res, 201, { faults: deps.faults.list() });
        return;
      }
      case 'GET /_emulator/faults':
        sendJson(res, 200, { faults: deps.faults.list() });
        return;
      case 'DELETE /_emulator/faults':
        deps.faults.clear();
        sendEmpty(res, 204);
        return;
      case 'GET /_emulator/journal':
        sendJson(res, 200, deps.journal.entries);
        return;
      case 'POST /_emulator/reset':
        deps.reset();
        sendEmpty(res, 204);
        return;
      default:
        throw new HttpError(404, `no admin endpoint ${route}`);
    }
  } catch (error) {
    if (error instanceof HttpError) sendError(res, error.status, error.message);
    else sendError(res, 500, 'internal emulator error');
  }
}
