// Toolkit policies are `<type>:<verb>@<urn>` (types user|account|role|policy|data|job|registry|*,
// verbs get|set|new|*). The emulator matches the urn part as a glob where `*` is any run of characters.

export interface Policy {
  type: string;
  verb: string;
  urn: string;
}

/** Parses `job:new@*`; a policy without `@urn` applies to every urn. Returns undefined for a malformed one. */
export function parsePolicy(text: string): Policy | undefined {
  const match = /^([a-z*]+):([a-z*]+)(?:@(.+))?$/.exec(text.trim());
  if (!match) return undefined;
  return { type: match[1]!, verb: match[2]!, urn: match[3] ?? '*' };
}

function globMatches(pattern: string, text: string): boolean {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`).test(text);
}

/** True when one of the policies grants `type:verb` on `urn`. */
export function isAllowed(policies: readonly Policy[], type: string, verb: string, urn: string): boolean {
  return policies.some(
    (p) =>
      (p.type === '*' || p.type === type) && (p.verb === '*' || p.verb === verb) && globMatches(p.urn, urn),
  );
}

/** True when some policy grants `type:verb` on at least one urn (used to refuse list calls early). */
export function hasAnyGrant(policies: readonly Policy[], type: string, verb: string): boolean {
  return policies.some((p) => (p.type === '*' || p.type === type) && (p.verb === '*' || p.verb === verb));
}
