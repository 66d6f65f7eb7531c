// The request journal: what came in, to which listener, how it was answered. It never holds a token, a
// header value or a query string (which could carry one); path segments that are tokens are redacted.
import type { AuthOutcome, JournalEntry, Target } from './types.js';

export const REDACTED = '[redacted]';

/** The path with every segment that `isSecret` recognises (raw or URL-decoded) replaced by [redacted]. */
export function redactPath(path: string, isSecret: (text: string) => boolean): string {
  const segments = path.split('/').map((segment) => {
    let decoded = segment;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      // keep the raw segment
    }
    return isSecret(segment) || isSecret(decoded) ? REDACTED : segment;
  });
  // A role key's access part is half of a token even when the emulator does not know it.
  if (segments[1] === 'v1' && segments[2] === 'role' && segments[4] === 'key' && segments.length > 5) {
    segments[5] = REDACTED;
  }
  return segments.join('/');
}

export class Journal {
  readonly entries: JournalEntry[] = [];

  constructor(private readonly now: () => number) {}

  /** Records a request as it arrives (status 0 until answered). */
  start(target: Target, method: string, path: string, auth: AuthOutcome): JournalEntry {
    const entry: JournalEntry = {
      time: new Date(this.now()).toISOString(),
      target,
      method,
      path,
      status: 0,
      auth,
    };
    this.entries.push(entry);
    return entry;
  }

  clear(): void {
    this.entries.length = 0;
  }
}
