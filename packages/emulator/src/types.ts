// Public shapes of the emulator: what tests configure and what the emulated Toolkit API answers.
// Field names follow shared/toolkit-api.md (and the OpenAPI client it cites).

/** What GET /v1/me answers. `account`, `organization` and `creator` are ids, as in Toolkit's models. */
export interface Identity {
  id: string;
  name: string;
  /** Dotted name: `org.account.role` for a role, `org.user` for a user. */
  fullName: string;
  mail: string;
  account: string;
  organization: string;
  urn: string;
  created: string;
  creator: string;
  tags: { key: string; value: string }[];
}

export type TokenKind = 'role' | 'personal' | 'job';

export interface TokenConfig {
  /** A role key `ACCESS:SECRET` or an opaque personal/job token. */
  token: string;
  kind: TokenKind;
  /** What /v1/me answers; missing fields are derived (see README "Identities"). */
  identity?: Partial<Identity>;
  /** Policies `<type>:<verb>@<urn>` such as `job:new@*`; default `['*:*@*']` (everything). */
  permissions?: string[];
  /** Lifetime from registration: personal and job default 3600 s; a role key never expires unless set. */
  expiresInSeconds?: number;
}

export type Target = 'api' | 'internal' | 'registry' | 'volatile-registry';

export interface FaultRule {
  method?: string;
  /** Exact path, or a prefix ending with `*`. The query string is ignored. */
  path?: string;
  /** Which listener; omitted = any listener. */
  target?: Target;
  /** Apply to the next N matching calls (default 1); -1, 'always' or Infinity = every call. */
  times?: number | 'always';
  /** Answer this status with an error body. */
  status?: number;
  /** Adds `Retry-After: N` (seconds), typically with status 429. */
  retryAfter?: number;
  /** Delay before answering (or before the fault); a huge value is a hung server. */
  latencyMs?: number;
  /** Destroy the socket without answering. */
  reset?: boolean;
  /** Send headers with a Content-Length larger than the body, then destroy the socket. */
  truncate?: boolean;
}

export type AuthOutcome = 'none' | 'valid' | 'invalid' | 'expired' | 'revoked' | 'forbidden';

/** One request as the emulator saw it. Never holds a token nor any header value. */
export interface JournalEntry {
  time: string;
  target: Target;
  method: string;
  /** Path without the query string; segments that are (parts of) tokens are replaced by `[redacted]`. */
  path: string;
  /** 0 while pending, or when no answer was sent (reset fault, client gone). */
  status: number;
  auth: AuthOutcome;
  fault?: string;
}

export type JobState =
  | 'QUEUING'
  | 'QUEUED'
  | 'RUNNING'
  | 'CANCELLING'
  | 'CANCELLED'
  | 'INTERRUPTED'
  | 'FAILED'
  | 'SUCCEEDED';

export interface JobResources {
  cpu?: number;
  mem?: number;
  gpu?: number;
  gpuMem?: number;
  gpuModel?: string;
  cpuModel?: string;
  gpuTensorCores?: boolean;
  cudaVersion?: string | number;
  inference?: boolean;
}

export interface JobSpec {
  image: string;
  command?: string[];
  environmentVars?: string[];
  data?: string[];
  workdir?: string;
  name?: string;
  role?: string;
  tags?: { key: string; value: string }[];
  resources?: JobResources;
  preemptable?: boolean;
  restartable?: boolean;
  interactive?: boolean;
  bid?: number;
  maxRunTime?: number;
  options?: Record<string, unknown>;
}

export interface JobRun {
  id: string;
  jobId: string;
  state: JobState;
  exitCode: number | null;
  createdOn: string;
  queuedOn: string | null;
  startedOn: string | null;
  endedOn: string | null;
  cancelRequestedOn: string | null;
  nodeName: string | null;
  ip: string | null;
  info: string;
}

export interface Job {
  id: string;
  name: string;
  fullName: string;
  urn: string;
  accessUrl: string;
  alive: boolean;
  state: JobState;
  stateInfo: string;
  runs: JobRun[];
  jobspec: JobSpec;
  account: string;
  organization: string;
  creator: string;
  created: string;
  updatedOn: string;
  /** Emulated seconds spent RUNNING, summed over all runs. */
  totalRuntime: number;
  resourceUsageUrl: string;
}

export interface EmulatorOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** API port; default 0 (a free port). */
  port?: number;
  internalPort?: number;
  registryPort?: number;
  volatileRegistryPort?: number;
  /** Default: DEMO_TOKENS. */
  tokens?: TokenConfig[];
  /** Real milliseconds per emulated second of job time; default 1000. */
  timeScale?: number;
  /** Emulated seconds spent in the QUEUING, QUEUED, CANCELLING and INTERRUPTED (before requeue) states; default 1 each. */
  phaseSeconds?: Partial<Record<'queuing' | 'queued' | 'cancelling' | 'requeue', number>>;
  /** Lifetime of the in-job tokens served by GET /v1/token; default 3600 s. */
  jobTokenTtl?: number;
  faults?: FaultRule[];
  /** Clock (ms since epoch) for token expiry and timestamps; default Date.now. */
  now?: () => number;
}

export interface EmulatorHandle {
  /** The API base, e.g. http://127.0.0.1:PORT (paths /v1/...). */
  url: string;
  /** Serves GET /v1/token. */
  internalUrl: string;
  /** host:port of the regular registry login endpoint. */
  registryHost: string;
  volatileRegistryHost: string;
  /** url + '/_emulator'. */
  adminUrl: string;
  journal: readonly JournalEntry[];
  addToken(config: TokenConfig): void;
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  /** A snapshot of a job by id or full name. */
  job(id: string): Job | undefined;
  /** Forget jobs, faults, journal and API-made keys; undo revocations (same as POST /_emulator/reset). */
  reset(): void;
  close(): Promise<void>;
}
