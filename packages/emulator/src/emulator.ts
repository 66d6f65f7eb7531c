// startEmulator: wires the stores, the job engine and the four listeners together.
import { handleAdmin } from './admin.js';
import { type ApiContext, apiRoutes } from './api.js';
import { DEMO_TOKENS } from './demo.js';
import { Directory } from './directory.js';
import { FaultBook } from './faults.js';
import { HttpError, sendText } from './http.js';
import { JobEngine } from './jobs.js';
import { Journal } from './journal.js';
import { type ListenerSpec, type RequestContext, type RunningListener, startListener } from './listener.js';
import { handleRegistry } from './registry.js';
import { matchRoute } from './router.js';
import { Scheduler } from './scheduler.js';
import { TokenStore } from './tokens.js';
import type { EmulatorHandle, EmulatorOptions, Target } from './types.js';

/** Starts the API, in-job token, registry and volatile registry listeners; resolves when all listen. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? Date.now;
  const scheduler = new Scheduler(options.timeScale ?? 1000);
  const directory = new Directory();
  const tokens = new TokenStore(directory, now, options.jobTokenTtl ?? 3600);
  for (const config of options.tokens ?? DEMO_TOKENS) tokens.add(config);
  const faults = new FaultBook();
  for (const rule of options.faults ?? []) faults.add(rule);
  const journal = new Journal(now);
  let apiUrl = '';
  const phases = { queuing: 1, queued: 1, cancelling: 1, requeue: 1, ...options.phaseSeconds };
  const jobs = new JobEngine(scheduler, now, phases, () => apiUrl);
  const routes = apiRoutes({ jobs, tokens, directory });

  const reset = () => {
    jobs.reset();
    faults.clear();
    journal.clear();
    tokens.reset();
  };

  const common = (target: Target) => ({
    target,
    journal,
    faults,
    scheduler,
    isSecret: (text: string) => tokens.isSecretFragment(text),
  });

  const api: ListenerSpec = {
    ...common('api'),
    authenticate: (req) => tokens.authenticateBearer(req.headers.authorization),
    admin: (req, res, path) => handleAdmin({ faults, journal, reset }, req, res, path),
    handle: async (ctx: RequestContext) => {
      const match = matchRoute(routes, ctx.req.method ?? 'GET', ctx.path);
      if (match.kind === 'none') throw new HttpError(404, `no route ${ctx.req.method} ${ctx.path}`);
      if (match.kind === 'wrong-method') {
        throw new HttpError(405, `method ${ctx.req.method} not allowed here`, {
          allow: match.allowed.join(', '),
        });
      }
      const apiContext: ApiContext = { req: ctx.req, res: ctx.res, query: ctx.query };
      if (match.route.auth) {
        if (ctx.auth.outcome !== 'valid') {
          const why = {
            none: 'missing bearer token',
            invalid: 'invalid token',
            expired: 'token expired',
            revoked: 'token revoked',
          }[ctx.auth.outcome];
          throw new HttpError(401, why, { 'www-authenticate': 'Bearer realm="toolkit-emulator"' });
        }
        apiContext.principal = ctx.auth.principal;
      }
      await match.route.handler(apiContext, match.params);
    },
  };

  const internal: ListenerSpec = {
    ...common('internal'),
    authenticate: () => ({ outcome: 'none' }),
    handle: (ctx) => {
      const clean = ctx.path.replace(/\/$/, '');
      if (clean !== '/v1/token') throw new HttpError(404, `no route ${ctx.req.method} ${ctx.path}`);
      if (ctx.req.method !== 'GET')
        throw new HttpError(405, `method ${ctx.req.method} not allowed here`, { allow: 'GET' });
      sendText(ctx.res, 200, tokens.issueJobToken());
    },
  };

  const registry = (target: Target): ListenerSpec => ({
    ...common(target),
    authenticate: (req) => tokens.authenticateBasic(req.headers.authorization),
    handle: handleRegistry,
  });

  const listeners: RunningListener[] = [];
  const closeAll = async () => {
    scheduler.cancelAll();
    await Promise.all(listeners.map((l) => l.close()));
  };
  try {
    for (const [spec, port] of [
      [api, options.port],
      [internal, options.internalPort],
      [registry('registry'), options.registryPort],
      [registry('volatile-registry'), options.volatileRegistryPort],
    ] as const) {
      listeners.push(await startListener(spec, host, port ?? 0));
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  const hostPort = (l: RunningListener) => `${host.includes(':') ? `[${host}]` : host}:${l.port}`;
  apiUrl = `http://${hostPort(listeners[0]!)}`;
  let closed: Promise<void> | undefined;
  return {
    url: apiUrl,
    internalUrl: `http://${hostPort(listeners[1]!)}`,
    registryHost: hostPort(listeners[2]!),
    volatileRegistryHost: hostPort(listeners[3]!),
    adminUrl: `${apiUrl}/_emulator`,
    journal: journal.entries,
    addToken: (config) => tokens.add(config),
    addFault: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    job: (id) => {
      const job = jobs.find(id);
      return job && jobs.view(job);
    },
    reset,
    close: () => {
      closed ??= (async () => {
        jobs.reset();
        await closeAll();
      })();
      return closed;
    },
  };
}
