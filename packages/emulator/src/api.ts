// The emulated Toolkit API under /v1: one route table, used both to answer and to write swagger.json.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Account, Directory } from './directory.js';
import { HttpError, readJson, sendEmpty, sendJson, sendText } from './http.js';
import type { JobEngine, JobRecord } from './jobs.js';
import { validateJobSpec } from './jobspec.js';
import { hasAnyGrant, isAllowed } from './policy.js';
import type { Route } from './router.js';
import { swaggerDocument } from './swagger.js';
import type { Principal, TokenStore } from './tokens.js';

export interface ApiContext {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  /** Set for every route with `auth: true` (the listener answers 401 before the handler otherwise). */
  principal?: Principal;
}

export interface ApiDeps {
  jobs: JobEngine;
  tokens: TokenStore;
  directory: Directory;
}

/** Throws a 403 naming the missing policy unless the caller holds `type:verb` on `urn`. */
function need(ctx: ApiContext, type: string, verb: string, urn: string): void {
  if (!isAllowed(ctx.principal!.policies, type, verb, urn)) {
    throw new HttpError(403, `missing policy ${type}:${verb}@${urn}`);
  }
}

const ORDER_FIELDS = ['created', 'updatedOn', 'name', 'fullName', 'state', 'id'] as const;
const Q_FIELDS = ['id', 'name', 'fullName', 'state', 'alive'] as const;

function intParam(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new HttpError(400, `${name} must be an integer >= 0`);
  return Math.min(Number(raw), max);
}

type Condition = (job: JobRecord) => boolean;

/** Parses `q`: conditions `field=value` or `field__in=a,b`, several joined by `&`. */
function parseQ(q: string): Condition[] {
  return q
    .split('&')
    .filter((part) => part.trim() !== '')
    .map((part) => {
      const match = /^([A-Za-z]+)(__in)?=(.*)$/.exec(part.trim());
      const field = match?.[1] as (typeof Q_FIELDS)[number] | undefined;
      if (!match || !field || !Q_FIELDS.includes(field)) {
        throw new HttpError(
          400,
          `unsupported q condition '${part}' (use field=value or field__in=a,b with ${Q_FIELDS.join(', ')})`,
        );
      }
      const values = match[2] ? match[3]!.split(',') : [match[3]!];
      return (job: JobRecord) => values.includes(String(job[field]));
    });
}

function listJobs(ctx: ApiContext, deps: ApiDeps, scope: (job: JobRecord) => boolean): void {
  const principal = ctx.principal!;
  if (!hasAnyGrant(principal.policies, 'job', 'get')) throw new HttpError(403, 'missing policy job:get@*');
  const limit = intParam(ctx.query, 'limit', 100, 1000);
  const offset = intParam(ctx.query, 'offset', 0, Number.MAX_SAFE_INTEGER);
  const order = ctx.query.get('order') || '-created';
  const field = order.replace(/^[-+]/, '') as (typeof ORDER_FIELDS)[number];
  if (!ORDER_FIELDS.includes(field)) {
    throw new HttpError(400, `order must be one of ${ORDER_FIELDS.join(', ')} (prefix - for descending)`);
  }
  const q = ctx.query.get('q');
  const conditions = q ? parseQ(q) : [];
  const direction = order.startsWith('-') ? -1 : 1;
  const matching = deps.jobs
    .all()
    .filter(scope)
    .filter((job) => isAllowed(principal.policies, 'job', 'get', job.urn))
    .filter((job) => conditions.every((c) => c(job)))
    .sort((a, b) => {
      const x = String(a[field]);
      const y = String(b[field]);
      // Same value (e.g. two jobs created in the same millisecond): submission order decides.
      return direction * (x < y ? -1 : x > y ? 1 : a.seq - b.seq);
    });
  sendJson(ctx.res, 200, {
    items: matching.slice(offset, offset + limit).map((job) => deps.jobs.view(job)),
    metadata: { limit, offset, q, total: matching.length },
  });
}

function findJob(deps: ApiDeps, id: string): JobRecord {
  const job = deps.jobs.find(id);
  if (!job) throw new HttpError(404, `job '${id}' not found`);
  return job;
}

function findAccount(deps: ApiDeps, idOrName: string): Account {
  const account = deps.directory.findAccount(idOrName);
  if (!account) throw new HttpError(404, `account '${idOrName}' not found`);
  return account;
}

async function submit(ctx: ApiContext, deps: ApiDeps, account: Account): Promise<void> {
  need(ctx, 'job', 'new', account.urn);
  const check = validateJobSpec(await readJson(ctx.req));
  if (!check.ok) throw new HttpError(400, check.message);
  const job = deps.jobs.submit(check.spec, account, ctx.principal!.identity.id);
  sendJson(ctx.res, 201, deps.jobs.view(job));
}

function sendLog(ctx: ApiContext, log: string | undefined): void {
  if (log === undefined) throw new HttpError(404, 'run not found');
  if (log === '') sendEmpty(ctx.res, 204);
  else sendText(ctx.res, 200, log);
}

function findRole(deps: ApiDeps, idOrName: string) {
  const role = deps.directory.findRole(idOrName);
  if (!role) throw new HttpError(404, `role '${idOrName}' not found`);
  return role;
}

/** Every /v1 route the emulator serves. */
export function apiRoutes(deps: ApiDeps): Route<ApiContext>[] {
  const routes: Route<ApiContext>[] = [
    {
      method: 'GET',
      pattern: '/v1/swagger.json',
      summary: 'This document',
      auth: false,
      handler: (ctx) => sendJson(ctx.res, 200, swaggerDocument(routes)),
    },
    {
      method: 'GET',
      pattern: '/v1/me',
      summary: 'The caller (a role token answers with the role)',
      auth: true,
      handler: (ctx) => sendJson(ctx.res, 200, ctx.principal!.identity),
    },
    {
      method: 'GET',
      pattern: '/v1/me/job',
      summary: 'Jobs submitted by the caller',
      auth: true,
      handler: (ctx) => listJobs(ctx, deps, (job) => job.creator === ctx.principal!.identity.id),
    },
    {
      method: 'POST',
      pattern: '/v1/job',
      summary: "Submit a job in the caller's account",
      auth: true,
      handler: (ctx) => submit(ctx, deps, ctx.principal!.account),
    },
    {
      method: 'GET',
      pattern: '/v1/job',
      summary: 'Jobs the caller may see',
      auth: true,
      handler: (ctx) => listJobs(ctx, deps, () => true),
    },
    {
      method: 'POST',
      pattern: '/v1/account/{account}/job',
      summary: 'Submit a job in an account (id or org.account)',
      auth: true,
      handler: (ctx, p) => submit(ctx, deps, findAccount(deps, p.account!)),
    },
    {
      method: 'GET',
      pattern: '/v1/account/{account}/job',
      summary: 'Jobs of an account',
      auth: true,
      handler: (ctx, p) => {
        const account = findAccount(deps, p.account!);
        listJobs(ctx, deps, (job) => job.account.id === account.id);
      },
    },
    {
      method: 'GET',
      pattern: '/v1/job/{id}',
      summary: 'A job (id or org.account.name)',
      auth: true,
      handler: (ctx, p) => {
        const job = findJob(deps, p.id!);
        need(ctx, 'job', 'get', job.urn);
        sendJson(ctx.res, 200, deps.jobs.view(job));
      },
    },
    {
      method: 'DELETE',
      pattern: '/v1/job/{id}',
      summary: 'Cancel a job: CANCELLING, then CANCELLED',
      auth: true,
      handler: (ctx, p) => {
        const job = findJob(deps, p.id!);
        need(ctx, 'job', 'set', job.urn);
        deps.jobs.cancel(job);
        sendJson(ctx.res, 200, deps.jobs.view(job));
      },
    },
    {
      method: 'GET',
      pattern: '/v1/job/{id}/logs',
      summary: "The current run's log as text; 204 when it has none yet",
      auth: true,
      handler: (ctx, p) => {
        const job = findJob(deps, p.id!);
        need(ctx, 'job', 'get', job.urn);
        sendLog(ctx, deps.jobs.log(job));
      },
    },
    {
      method: 'GET',
      pattern: '/v1/job/{id}/logs/{runId}',
      summary: "One run's log as text; 204 when it has none yet",
      auth: true,
      handler: (ctx, p) => {
        const job = findJob(deps, p.id!);
        need(ctx, 'job', 'get', job.urn);
        const log = deps.jobs.log(job, p.runId!);
        if (log === undefined) throw new HttpError(404, `job '${p.id}' has no run '${p.runId}'`);
        sendLog(ctx, log);
      },
    },
    {
      method: 'PUT',
      pattern: '/v1/job/{id}/retry',
      summary: 'Retry an INTERRUPTED, FAILED or CANCELLED job (a new run)',
      auth: true,
      handler: (ctx, p) => {
        const job = findJob(deps, p.id!);
        need(ctx, 'job', 'set', job.urn);
        if (!deps.jobs.retry(job)) {
          throw new HttpError(
            409,
            `job in state ${job.state} cannot be retried (only INTERRUPTED, FAILED or CANCELLED)`,
          );
        }
        sendJson(ctx.res, 200, deps.jobs.view(job));
      },
    },
    {
      method: 'POST',
      pattern: '/v1/role/{role}/key',
      summary: 'Make a role key (the secret is shown once)',
      auth: true,
      handler: async (ctx, p) => {
        const role = findRole(deps, p.role!);
        need(ctx, 'role', 'new', role.urn);
        const body = await readJson(ctx.req);
        const details =
          typeof body === 'object' &&
          body !== null &&
          typeof (body as { details?: unknown }).details === 'string'
            ? (body as { details: string }).details
            : '';
        const key = deps.tokens.createRoleKey(role, details);
        sendJson(ctx.res, 201, {
          access: key.access,
          secret: key.secret,
          client: key.client,
          details: key.details,
        });
      },
    },
    {
      method: 'GET',
      pattern: '/v1/role/{role}/key',
      summary: "A role's keys (without secrets)",
      auth: true,
      handler: (ctx, p) => {
        const role = findRole(deps, p.role!);
        need(ctx, 'role', 'get', role.urn);
        const items = deps.tokens
          .roleKeys(role)
          .map((k) => ({ access: k.access, client: k.client, details: k.details, created: k.created }));
        sendJson(ctx.res, 200, {
          items,
          metadata: { limit: items.length, offset: 0, q: null, total: items.length },
        });
      },
    },
    {
      method: 'DELETE',
      pattern: '/v1/role/{role}/key/{access}',
      summary: 'Revoke a role key',
      auth: true,
      handler: (ctx, p) => {
        const role = findRole(deps, p.role!);
        need(ctx, 'role', 'set', role.urn);
        if (!deps.tokens.revokeRoleKey(role, p.access!)) throw new HttpError(404, 'role key not found');
        sendEmpty(ctx.res, 204);
      },
    },
  ];
  return routes;
}
