import { createHash, randomBytes, randomUUID } from 'node:crypto';

/**
 * A stable uuid (v5 layout) derived from a kind and a name, so that `demo.ci` has the same account id in
 * every emulator run: printed ids and URNs stay comparable across runs and in docs.
 */
export function nameUuid(kind: string, name: string): string {
  const bytes = createHash('sha1').update(`toolkit-emulator:${kind}:${name}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A random uuid v4 (jobs and runs). */
export function randomId(): string {
  return randomUUID();
}

/** A random lowercase hex string of `bytes` bytes (role keys, job tokens). */
export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** True when the text has the shape of a uuid. */
export function isUuid(text: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text);
}
