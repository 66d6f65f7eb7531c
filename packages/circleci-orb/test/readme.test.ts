// The orb README: its reference tables match the YAML, its examples are the orb's, and the repository
// README points at it.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { normalizeTables, withReference } from './support/docs.js';
import { packOrb, type Yaml } from './support/pack.js';
import { schemaErrors } from './support/schema.js';
import { usageProblems } from './support/usage.js';

const README = new URL('../README.md', import.meta.url);
const ROOT_README = new URL('../../../README.md', import.meta.url);
const orb = packOrb();

/** The YAML blocks of a markdown file that are CircleCI configs using this orb. */
function orbConfigs(markdown: string): Yaml[] {
  return [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((match) => parse(match[1] as string) as unknown)
    .filter((doc): doc is Yaml => typeof doc === 'object' && doc !== null && 'orbs' in doc)
    .filter((doc) => JSON.stringify(doc.orbs).includes('toolkit-ci/toolkit-ci@'));
}

describe('the READMEs', () => {
  it.each([
    ['packages/circleci-orb/README.md', README],
    ['README.md', ROOT_README],
  ])('%s: every CircleCI config using the orb validates and uses only what the orb has', (_, file) => {
    const configs = orbConfigs(readFileSync(file, 'utf8'));
    expect(configs.length).toBeGreaterThan(0);
    for (const config of configs) {
      expect(schemaErrors('', config)).toEqual([]);
      expect(usageProblems(config, orb)).toEqual([]);
    }
  });
});

describe('packages/circleci-orb/README.md', () => {
  it('has the reference tables generated from src/ (UPDATE_ORB_README=1 rewrites them)', () => {
    const expected = withReference(readFileSync(README, 'utf8'), orb);
    if (process.env.UPDATE_ORB_README === '1') writeFileSync(README, expected);
    // Compared with the tables normalized: the repository's markdown formatter pads them.
    expect(normalizeTables(readFileSync(README, 'utf8'))).toBe(normalizeTables(expected));
  });

  it('names every example and documents publishing with the circleci CLI', () => {
    const text = readFileSync(README, 'utf8');
    for (const name of Object.keys(orb.examples as Yaml)) expect(text).toContain(`\`${name}\``);
    expect(text).toContain('circleci orb pack src > orb.yml');
    expect(text).toMatch(/circleci orb publish orb\.yml toolkit-ci\/toolkit-ci@\d+\.\d+\.\d+/);
  });

  it('the repository README has a CircleCI section that links here', () => {
    const text = readFileSync(ROOT_README, 'utf8');
    expect(text).toMatch(/^#{2,3} CircleCI/m);
    expect(text).toContain('packages/circleci-orb/README.md');
  });
});
