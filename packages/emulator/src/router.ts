// A route table with `{param}` segments; the swagger document is generated from the same table, so the
// two can never disagree.

export interface Route<Context> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** e.g. `/v1/job/{id}/logs/{runId}` */
  pattern: string;
  summary: string;
  /** False only for the few routes that need no token. */
  auth: boolean;
  handler: (context: Context, params: Record<string, string>) => Promise<void> | void;
}

export type RouteMatch<Context> =
  | { kind: 'found'; route: Route<Context>; params: Record<string, string> }
  | { kind: 'wrong-method'; allowed: string[] }
  | { kind: 'none' };

function matchPattern(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith('{') && w.endsWith('}')) {
      if (g === '') return undefined;
      try {
        params[w.slice(1, -1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) {
      return undefined;
    }
  }
  return params;
}

/** Finds the route for a method and path (a trailing slash is ignored). */
export function matchRoute<Context>(
  routes: readonly Route<Context>[],
  method: string,
  path: string,
): RouteMatch<Context> {
  const clean = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const allowed: string[] = [];
  for (const route of routes) {
    const params = matchPattern(route.pattern, clean);
    if (!params) continue;
    if (route.method === method) return { kind: 'found', route, params };
    allowed.push(route.method);
  }
  return allowed.length > 0 ? { kind: 'wrong-method', allowed } : { kind: 'none' };
}
