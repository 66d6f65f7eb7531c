/**
 * Packs the orb's source tree into one orb, the way `circleci orb pack src` does: @orb.yml, plus one map
 * entry per file of commands/, jobs/, executors/ and examples/ (the key is the file name without its
 * extension), with every `<<include(path)>>` value replaced by the content of src/path. Tests pack in
 * memory; the release workflow uses the real `circleci orb pack`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

/** The orb's source folder (packages/circleci-orb/src). */
export const ORB_SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** The component folders `circleci orb pack` turns into top-level maps. */
export const COMPONENT_KINDS = ['commands', 'jobs', 'executors', 'examples'] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

export type Yaml = Record<string, unknown>;

/** One YAML file of the source tree, parsed. */
export interface SourceFile {
  /** Path relative to src/, e.g. 'commands/login.yml'. */
  path: string;
  kind: ComponentKind | 'orb';
  /** The component's name (file name without extension); '@orb' for @orb.yml. */
  name: string;
  /** As written (includes not resolved). */
  content: Yaml;
}

const INCLUDE = /^\s*<<\s*include\(\s*([^)]+?)\s*\)\s*>>\s*$/;

function isYamlFile(file: string): boolean {
  return file.endsWith('.yml') || file.endsWith('.yaml');
}

function parseYamlFile(file: string): Yaml {
  const content = parse(readFileSync(file, 'utf8')) as unknown;
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw new Error(`${file} does not hold a YAML map`);
  }
  return content as Yaml;
}

/** Every YAML file of the source tree: @orb.yml first, then each component folder's files, sorted. */
export function sourceFiles(srcDir: string = ORB_SRC): SourceFile[] {
  const files: SourceFile[] = [
    { path: '@orb.yml', kind: 'orb', name: '@orb', content: parseYamlFile(join(srcDir, '@orb.yml')) },
  ];
  for (const kind of COMPONENT_KINDS) {
    let names: string[];
    try {
      names = readdirSync(join(srcDir, kind)).filter(isYamlFile).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const file of names) {
      const path = `${kind}/${file}`;
      files.push({
        path,
        kind,
        name: basename(file, extname(file)),
        content: parseYamlFile(join(srcDir, path)),
      });
    }
  }
  return files;
}

/**
 * Replaces each string value that is exactly `<<include(path)>>` with the file's content (path relative to
 * srcDir, inside it). An include inside a longer string is an error, as it is for `circleci orb pack`.
 */
export function resolveIncludes<T>(value: T, srcDir: string = ORB_SRC): T {
  if (typeof value === 'string') {
    const match = INCLUDE.exec(value);
    if (!match) {
      if (value.includes('<<include(')) throw new Error(`an include must be a whole value: ${value}`);
      return value;
    }
    const target = resolve(srcDir, match[1] as string);
    if (relative(srcDir, target).startsWith(`..${sep}`)) throw new Error(`include outside src/: ${match[1]}`);
    return readFileSync(target, 'utf8') as T;
  }
  if (Array.isArray(value)) return value.map((item) => resolveIncludes(item, srcDir)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, resolveIncludes(item, srcDir)]),
    ) as T;
  }
  return value;
}

/** The packed orb as an object: what `circleci orb pack src` prints, parsed. */
export function packOrb(srcDir: string = ORB_SRC): Yaml {
  const [root, ...components] = sourceFiles(srcDir);
  const orb: Yaml = resolveIncludes({ ...(root as SourceFile).content }, srcDir);
  for (const file of components) {
    const kind = file.kind as ComponentKind;
    const map = (orb[kind] ?? {}) as Yaml;
    if (Object.hasOwn(map, file.name))
      throw new Error(`${kind}.${file.name} is defined twice (${file.path})`);
    map[file.name] = resolveIncludes(file.content, srcDir);
    orb[kind] = map;
  }
  return orb;
}

/** The packed orb as YAML text (long lines kept, so included scripts stay byte for byte). */
export function packOrbYaml(srcDir: string = ORB_SRC): string {
  return stringify(packOrb(srcDir), { lineWidth: 0 });
}
