/**
 * The orb README's reference section, generated from the packed orb: one table of parameters per command,
 * job and executor. readme.test.ts fails when the README differs; UPDATE_ORB_README=1 rewrites it.
 */
import type { Yaml } from './pack.js';

export const REFERENCE_START = '<!-- orb:reference:start -->';
export const REFERENCE_END = '<!-- orb:reference:end -->';

function oneLine(text: unknown): string {
  return String(text ?? '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\|/g, '\\|');
}

function defaultOf(spec: Yaml): string {
  if (!Object.hasOwn(spec, 'default')) return '_required_';
  if (spec.default === '') return '_empty_';
  return `\`${String(spec.default)}\``;
}

function typeOf(spec: Yaml): string {
  return spec.type === 'enum' ? `enum: ${(spec.enum as string[]).join(', ')}` : String(spec.type);
}

/** The reference section: for each command, job and executor, its description and its parameters. */
export function referenceSection(orb: Yaml): string {
  const lines = [
    REFERENCE_START,
    '<!-- Generated from src/ by readme.test.ts (UPDATE_ORB_README=1): edit the YAML. -->',
    '',
  ];
  for (const kind of ['commands', 'jobs', 'executors'] as const) {
    for (const [name, raw] of Object.entries((orb[kind] ?? {}) as Yaml)) {
      const component = raw as Yaml;
      lines.push(`#### ${kind.replace(/s$/, '')} \`${name}\``, '', oneLine(component.description), '');
      const params = Object.entries((component.parameters ?? {}) as Yaml);
      if (params.length === 0) continue;
      lines.push('| parameter | type | default | description |', '| --- | --- | --- | --- |');
      for (const [param, spec] of params) {
        const s = spec as Yaml;
        lines.push(`| \`${param}\` | ${typeOf(s)} | ${defaultOf(s)} | ${oneLine(s.description)} |`);
      }
      lines.push('');
    }
  }
  lines.push(REFERENCE_END);
  return lines.join('\n');
}

/** The README with its reference section replaced (the markers must be there). */
export function withReference(readme: string, orb: Yaml): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) throw new Error(`the README needs ${REFERENCE_START} and ${REFERENCE_END}`);
  return readme.slice(0, start) + referenceSection(orb) + readme.slice(end + REFERENCE_END.length);
}

/**
 * Text with markdown table rows normalized (cells trimmed, separator cells `---`), so a markdown formatter
 * that pads the tables does not count as a difference.
 */
export function normalizeTables(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (!/^\|.*\|$/.test(line.trim())) return line;
      const cells = line
        .trim()
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim());
      return `| ${cells.map((cell) => (/^:?-+:?$/.test(cell) ? '---' : cell)).join(' | ')} |`;
    })
    .join('\n');
}
