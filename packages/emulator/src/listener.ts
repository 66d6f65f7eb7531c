// One HTTP listener with the steps every request goes through: journal, fault injection, then the
// listener's own handler. Faults act before routing and auth, like a proxy or a load balancer would.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeFault, type FaultBook } from './faults.js';
import { errorBody, HttpError, sendError } from './http.js';
import { type Journal, redactPath } from './journal.js';
import type { Scheduler } from './scheduler.js';
import type { AuthResult } from './tokens.js';
import type { FaultRule, JournalEntry, Target } from './types.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  query: URLSearchParams;
  auth: AuthResult;
  entry: JournalEntry;
}

export interface ListenerSpec {
  target: Target;
  journal: Journal;
  faults: FaultBook;
  scheduler: Scheduler;
  isSecret: (text: string) => boolean;
  authenticate: (req: IncomingMessage) => AuthResult;
  handle: (context: RequestContext) => Promise<void> | void;
  /** Requests under /_emulator go here, outside the journal and the faults (API listener only). */
  admin?: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>;
}

function delay(scheduler: Scheduler, ms: number): Promise<void> {
  return new Promise((resolve) => scheduler.afterMs(ms, resolve));
}

/** Applies a fault; true when the fault answered (or refused to answer) in place of the handler. */
async function applyFault(rule: FaultRule, ctx: RequestContext, scheduler: Scheduler): Promise<boolean> {
  ctx.entry.fault = describeFault(rule);
  if (rule.latencyMs) {
    await delay(scheduler, rule.latencyMs);
    if (ctx.req.socket.destroyed) return true; // the client gave up
  }
  if (rule.reset) {
    ctx.req.socket.destroy();
    return true;
  }
  const status = rule.status ?? (rule.retryAfter !== undefined ? 429 : undefined);
  const headers: Record<string, string> =
    rule.retryAfter !== undefined ? { 'retry-after': String(rule.retryAfter) } : {};
  if (rule.truncate) {
    const body = JSON.stringify(errorBody(status ?? 200, 'injected fault: truncated answer'));
    const partial = body.slice(0, Math.floor(body.length / 2));
    ctx.res.writeHead(status ?? 200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body) + 64),
      ...headers,
    });
    ctx.entry.status = status ?? 200;
    ctx.res.write(partial, () => ctx.req.socket.destroy());
    return true;
  }
  if (status !== undefined) {
    sendError(ctx.res, status, `injected fault: status ${status}`, headers);
    return true;
  }
  return false; // latency only: answer normally
}

async function serve(spec: ListenerSpec, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator.invalid');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  if (spec.admin && (path === '/_emulator' || path.startsWith('/_emulator/'))) {
    await spec.admin(req, res, path);
    return;
  }
  const auth = spec.authenticate(req);
  const entry = spec.journal.start(spec.target, method, redactPath(path, spec.isSecret), auth.outcome);
  const ctx: RequestContext = { req, res, path, query: url.searchParams, auth, entry };
  try {
    const rule = spec.faults.take(spec.target, method, path);
    const answered = rule ? await applyFault(rule, ctx, spec.scheduler) : false;
    if (!answered) await spec.handle(ctx);
  } catch (error) {
    if (error instanceof HttpError) {
      if (error.status === 403) entry.auth = 'forbidden';
      if (!res.headersSent) sendError(res, error.status, error.message, error.headers);
    } else if (!res.headersSent) {
      // Never echo the error: it could hold request data. The emulator's own bug shows as a 500.
      sendError(res, 500, 'internal emulator error');
    }
  }
  if (res.headersSent && entry.status === 0) entry.status = res.statusCode;
}

export interface RunningListener {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Starts a listener on host:port (0 = any free port). */
export async function startListener(
  spec: ListenerSpec,
  host: string,
  port: number,
): Promise<RunningListener> {
  const server = createServer((req, res) => {
    void serve(spec, req, res);
  });
  // Docker tries TLS first on a loopback registry: node answers the handshake bytes with a 400 and closes,
  // which makes the docker CLI fall back to plain http.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
