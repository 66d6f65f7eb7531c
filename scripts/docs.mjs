// Regenerates README.md's inputs/outputs tables from each actions/<name>/action.yml, so the README is a
// contract the tests can hold the metadata to: `npm run docs` rewrites the text between
// `<!-- inputs:<name>:start -->` and `<!-- inputs:<name>:end -->` (and nothing else); `--check` exits 1
// when README.md differs from what action.yml says.
//
// Usage: node scripts/docs.mjs [--check] [--readme PATH] [--root DIR]   (or npm run docs [-- --check])
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const DEFAULT_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Markdown-safe table cell: one line, pipes escaped. */
function cell(text) {
  return String(text)
    .replace(/\s*\r?\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
}

function asRecord(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

/**
 * A markdown table laid out the way Biome formats markdown (`npm run lint` checks README.md): every cell
 * padded to its column's width, the separator row as wide as the column.
 */
export function markdownTable(header, rows) {
  const widths = header.map((title, i) => Math.max(title.length, 3, ...rows.map((row) => row[i].length)));
  const line = (cells) => `| ${cells.map((text, i) => text.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** The generated block (without the markers) for one action's metadata. */
export function renderTables(name, metadata) {
  const inputs = Object.entries(asRecord(metadata.inputs)).map(([input, spec]) => {
    const s = asRecord(spec);
    const required = s.required === true || s.required === 'true' ? 'yes' : 'no';
    const hasDefault = s.default !== undefined && s.default !== null && String(s.default) !== '';
    return [
      `\`${input}\``,
      required,
      hasDefault ? `\`${cell(s.default)}\`` : '_empty_',
      cell(s.description ?? ''),
    ];
  });
  const outputs = Object.entries(asRecord(metadata.outputs)).map(([output, spec]) => [
    `\`${output}\``,
    cell(asRecord(spec).description ?? ''),
  ]);
  return [
    `<!-- Generated from actions/${name}/action.yml by \`npm run docs\`: edit action.yml, not this table. -->`,
    '',
    `**Inputs of \`actions/${name}\`**`,
    '',
    inputs.length ? markdownTable(['input', 'required', 'default', 'description'], inputs) : 'None.',
    '',
    `**Outputs of \`actions/${name}\`**`,
    '',
    outputs.length ? markdownTable(['output', 'description'], outputs) : 'None.',
  ].join('\n');
}

/** Every action directory under root/actions that holds an action.yml, sorted by name. */
export async function listActions(root) {
  const entries = await readdir(join(root, 'actions'), { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isDirectory() && existsSync(join(root, 'actions', entry.name, 'action.yml')))
    .map((entry) => entry.name)
    .sort();
}

function markers(name) {
  return { start: `<!-- inputs:${name}:start -->`, end: `<!-- inputs:${name}:end -->` };
}

/**
 * Replaces each action's marked region in readme with its generated tables. Returns the new text and the
 * problems found (missing or misordered markers); text outside the markers is never changed.
 */
export function updateReadme(readme, tables) {
  let text = readme;
  const problems = [];
  const changed = [];
  for (const [name, block] of tables) {
    const { start, end } = markers(name);
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < 0 || to < from || text.indexOf(start, from + 1) >= 0) {
      problems.push(
        `README.md needs exactly one "${start}" followed by one "${end}" (where the tables of actions/${name} go)`,
      );
      continue;
    }
    const next = `${text.slice(0, from + start.length)}\n${block}\n${text.slice(to)}`;
    if (next !== text) changed.push(name);
    text = next;
  }
  return { text, problems, changed };
}

async function main(argv) {
  // `npm run docs --check` (without `--`) reaches the script as npm_config_check, so accept both.
  const check = argv.includes('--check') || process.env.npm_config_check === 'true';
  const option = (flag, fallback) => {
    const at = argv.indexOf(flag);
    return at >= 0 && argv[at + 1] ? resolve(argv[at + 1]) : fallback;
  };
  const root = option('--root', DEFAULT_ROOT);
  const readmePath = option('--readme', join(root, 'README.md'));
  const shownPath = relative(process.cwd(), readmePath) || readmePath;

  const actions = await listActions(root);
  const tables = [];
  for (const name of actions) {
    const metadata = asRecord(parseYaml(await readFile(join(root, 'actions', name, 'action.yml'), 'utf8')));
    tables.push([name, renderTables(name, metadata)]);
  }
  const readme = await readFile(readmePath, 'utf8');
  const { text, problems, changed } = updateReadme(readme, tables);
  if (problems.length) {
    console.error(`docs: ${shownPath}:\n  ${problems.join('\n  ')}`);
    return 1;
  }
  if (check) {
    if (changed.length) {
      console.error(
        `docs: the inputs/outputs tables in ${shownPath} differ from ${changed
          .map((name) => `actions/${name}/action.yml`)
          .join(', ')}.\nRun \`npm run docs\` and commit ${shownPath}.`,
      );
      return 1;
    }
    console.log(`docs: ${shownPath} matches ${actions.length} action.yml file(s)`);
    return 0;
  }
  if (changed.length) await writeFile(readmePath, text);
  console.log(
    changed.length
      ? `docs: updated the tables of ${changed.map((name) => `actions/${name}`).join(', ')} in ${shownPath}`
      : `docs: ${shownPath} already up to date`,
  );
  return 0;
}

// Run only as a script, so the functions above can be imported.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
