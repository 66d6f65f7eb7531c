/**
 * Reads every file a run may have written (its temp dirs, HOME, TMPDIR, DOCKER_CONFIG), so a leak check can
 * look for the token in all of them except the sinks meant to hold it, which a test names one by one.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

export interface ScannedFile {
  /** Absolute path. */
  path: string;
  /** `<label>/<path inside the scanned dir>`, for messages. */
  name: string;
  /** The content as latin1 (byte for byte: an ASCII token reads the same in a binary file). */
  text: string;
}

export interface ScanRoot {
  label: string;
  dir: string;
}

const MAX_FILE_BYTES = 8 * 1024 * 1024;

async function walk(dir: string, out: string[]): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return; // never created, or removed meanwhile
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    const info = await lstat(path).catch(() => undefined);
    if (!info) continue;
    if (info.isDirectory()) await walk(path, out);
    // Symlinks are not followed (they could lead out of the run's dirs); their names are still scanned.
    else if (info.isFile() || info.isSymbolicLink()) out.push(path);
  }
}

/** Every regular file under the roots (a path under two roots is read once, under the first). */
export async function readFilesUnder(roots: ScanRoot[]): Promise<ScannedFile[]> {
  const seen = new Set<string>();
  const files: ScannedFile[] = [];
  for (const root of roots) {
    const paths: string[] = [];
    await walk(root.dir, paths);
    for (const path of paths.sort()) {
      if (seen.has(path)) continue;
      seen.add(path);
      const info = await lstat(path);
      const text =
        info.isFile() && info.size <= MAX_FILE_BYTES ? await readFile(path, 'latin1').catch(() => '') : '';
      files.push({ path, name: `${root.label}/${relative(root.dir, path)}`, text });
    }
  }
  return files;
}

/**
 * A GITHUB_ENV-style file without the entry for `name` (both `NAME=value` and the heredoc form
 * `NAME<<DELIMITER` … `DELIMITER`), so the rest of the file can still be scanned.
 */
export function withoutEnvEntry(text: string, name: string): string {
  const lines = text.split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const heredoc = line.startsWith(`${name}<<`) ? line.slice(name.length + 2).replace(/\r$/, '') : undefined;
    if (heredoc !== undefined) {
      const end = lines.findIndex((candidate, at) => at > i && candidate.replace(/\r$/, '') === heredoc);
      // An unterminated heredoc swallows the rest of the file, as the runner reads it.
      i = end === -1 ? lines.length : end;
      continue;
    }
    if (line.startsWith(`${name}=`)) continue;
    kept.push(line);
  }
  return kept.join('\n');
}
