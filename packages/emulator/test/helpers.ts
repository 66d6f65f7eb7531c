// Shared test helpers: a plain fetch client for the emulator and bounded polling (no wall-clock checks).
import type { Job } from '../src/index.js';

export const ROLE_TOKEN = 'demo-access:demo-secret';
export const PERSONAL_TOKEN = 'demo-personal-token';
export const READONLY_TOKEN = 'demo-readonly:demo-secret';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body when it is JSON (tests assert on its shape). */
  // biome-ignore lint/suspicious/noExplicitAny: bodies are checked field by field by the assertions
  json: any;
}

/** One API call with an optional bearer token and JSON body. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Submits a job with the role token and returns the created Job (asserting a 201). */
export async function submit(base: string, spec: Record<string, unknown>, token = ROLE_TOKEN): Promise<Job> {
  const answer = await call(base, 'POST', '/v1/job', { token, body: spec });
  if (answer.status !== 201) throw new Error(`submit answered ${answer.status}: ${answer.text}`);
  return answer.json as Job;
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls GET /v1/job/{id} until `done` holds, at most `maxPolls` times. */
export async function pollJob(
  base: string,
  id: string,
  done: (job: Job) => boolean,
  maxPolls = 500,
  token = ROLE_TOKEN,
): Promise<Job> {
  let last: Job | undefined;
  for (let i = 0; i < maxPolls; i++) {
    const answer = await call(base, 'GET', `/v1/job/${id}`, { token });
    last = answer.json as Job;
    if (done(last)) return last;
    await pause(4);
  }
  throw new Error(`job did not reach the expected state within ${maxPolls} polls (last: ${last?.state})`);
}

/** Polls until the job is in `state`. */
export function pollState(base: string, id: string, state: Job['state'], maxPolls?: number): Promise<Job> {
  return pollJob(base, id, (job) => job.state === state, maxPolls);
}

/** A shell command for a JobSpec. */
export const sh = (script: string) => ['/bin/sh', '-c', script];
