/**
 * `loadJobSpecFile`: a YAML or JSON JobSpec file -> JobSpec. Kept out of the core index on purpose: the
 * `yaml` package (125 KB minified, CommonJS) cannot be tree-shaken, so only the adapters that read spec
 * files (actions/job, the CLI) import this module, and actions/login's bundle stays without it.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ToolkitCiError } from './errors.js';
import { validateJobSpec } from './job-spec.js';
import type { JobSpec } from './jobs.js';

/**
 * Reads a JobSpec file: JSON for `.json`, YAML (which also reads JSON) otherwise. Checks its shape but not
 * that it has an image (inputs may add it); messages name the file. Throws ToolkitCiError('usage').
 */
export async function loadJobSpecFile(path: string, options: { label?: string } = {}): Promise<JobSpec> {
  const label = options.label ?? `spec file "${path}"`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why =
      code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : 'cannot be read';
    throw new ToolkitCiError(
      'usage',
      `${label} ${why}${code && why === 'cannot be read' ? ` (${code})` : ''}`,
      {
        hint:
          'Give the path of a YAML or JSON file; a relative path is resolved from the working directory ' +
          '(the workspace), so check the repository out before this step',
        cause: error,
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    // The parser's own message can quote the file's lines, which may hold secrets: give the position only.
    const where = positionOf(error);
    const format = extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML';
    throw new ToolkitCiError('usage', `${label} is not valid ${format}${where}`);
  }
  try {
    return validateJobSpec(parsed, { requireImage: false, baseName: label });
  } catch (error) {
    if (error instanceof ToolkitCiError) {
      throw new ToolkitCiError('usage', `${label}: ${error.message}`);
    }
    throw error;
  }
}

/** Where a parse error is, without the parser's message (which can quote the file's lines). */
function positionOf(error: unknown): string {
  const linePos = (error as { linePos?: { line: number; col: number }[] }).linePos?.[0];
  if (linePos) return ` (line ${linePos.line}, column ${linePos.col})`;
  const match = /position (\d+)/.exec((error as Error)?.message ?? '');
  return match ? ` (at character ${match[1]})` : '';
}
