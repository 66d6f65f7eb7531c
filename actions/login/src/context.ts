import {
  assertApiBaseUrl,
  DEFAULT_API_URL,
  parseToken,
  resolveRegistries,
  type Token,
  ToolkitCiError,
  validateRegistryHost,
} from '../../../packages/core/src/index.js';
import {
  booleanInput,
  choiceInput,
  type InputReader,
  jobTokenUrlInput,
  lineInput,
} from '../../common/src/inputs.js';

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
  // Checked here (the client checks again), so that verify: false cannot export a bad EAI_CONSOLE_URL.
  assertApiBaseUrl(apiUrl, 'input "api-url"');
  const jobTokenUrl = jobTokenUrlInput(read, tokenSource);

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
