import {
  assertSafeApiUrl,
  parseToken,
  resolveRegistries,
  type Token,
  ToolkitCiError,
  validateRegistryHost,
} from '../../../packages/core/src/index.js';
import { booleanInput, choiceInput, type InputReader, lineInput } from '../../common/src/inputs.js';

export const DEFAULT_API_URL = 'https://console.elementai.com';

/** Every input of actions/login, parsed and validated once, before anything else happens. */
export interface LoginInputs {
  /** The token from the `token` input; undefined when `token-source: job` (fetched later). */
  token?: Token;
  tokenSource: 'input' | 'job';
  /** Explicit in-job token endpoint; '' means derive it from api-url. */
  jobTokenUrl: string;
  apiUrl: string;
  /** Registry hosts to log in to, deduplicated, in the order given. */
  registries: string[];
  verify: boolean;
  exportEnv: boolean;
  logout: boolean;
  /** Warnings found while parsing (e.g. a trimmed token), printed once the token is masked. */
  warnings: string[];
}

/** Parses the inputs; throws a usage ToolkitCiError naming the input and the fix. */
export function parseLoginInputs(read: InputReader): LoginInputs {
  const tokenSource = choiceInput(read, 'token-source', ['input', 'job'] as const);
  const rawToken = read('token');
  const warnings: string[] = [];
  let token: Token | undefined;
  if (tokenSource === 'input') {
    const parsed = parseToken(rawToken, 'input "token"');
    token = parsed.token;
    warnings.push(...parsed.warnings);
  } else if (rawToken.trim() !== '') {
    throw new ToolkitCiError('usage', 'Inputs "token" and "token-source: job" were both given', {
      hint: 'Either pass "token" (a role key or personal token) or set "token-source: job" to fetch the in-job token, not both',
    });
  }

  const apiUrl = lineInput(read, 'api-url') || DEFAULT_API_URL;
  const parsedApiUrl = assertSafeApiUrl(apiUrl, 'input "api-url"');
  // Checked here too (the client refuses it later), so verify: false cannot export it as EAI_CONSOLE_URL.
  if (parsedApiUrl.search || parsedApiUrl.hash) {
    throw new ToolkitCiError('usage', 'Input "api-url" must not contain a query or a fragment', {
      hint: `Give the API base only, e.g. ${parsedApiUrl.origin}${parsedApiUrl.pathname.replace(/\/+$/, '')}`,
    });
  }
  const jobTokenUrl = lineInput(read, 'job-token-url');
  if (jobTokenUrl) {
    if (tokenSource !== 'job') {
      throw new ToolkitCiError('usage', 'Input "job-token-url" is only used with "token-source: job"', {
        hint: 'Remove "job-token-url", or set "token-source: job"',
      });
    }
    assertSafeApiUrl(jobTokenUrl, 'input "job-token-url"');
  }

  const regular = lineInput(read, 'registry-host');
  const volatile = lineInput(read, 'volatile-registry-host');
  const registries = resolveRegistries(
    read('registry').trim() || 'regular',
    {
      regular: regular ? validateRegistryHost(regular, 'input "registry-host"') : undefined,
      volatile: volatile ? validateRegistryHost(volatile, 'input "volatile-registry-host"') : undefined,
    },
    'input "registry"',
  );

  return {
    token,
    tokenSource,
    jobTokenUrl,
    apiUrl: apiUrl.replace(/\/+$/, ''),
    registries,
    verify: booleanInput(read, 'verify'),
    exportEnv: booleanInput(read, 'export-env'),
    logout: booleanInput(read, 'logout'),
    warnings,
  };
}
