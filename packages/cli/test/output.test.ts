import { describe, expect, it } from '@jest/globals';
import { formsOf, Secrets } from '../../core/src/index.js';
import { Output, RedactingWriter, safeCut } from '../src/output.js';

const TOKEN = 'ci-access:S3cr3t+/=value';

function collector() {
  const chunks: string[] = [];
  return { chunks, write: (text: string) => chunks.push(text), text: () => chunks.join('') };
}

function secrets(): Secrets {
  const set = new Secrets();
  set.add(TOKEN);
  return set;
}

describe('RedactingWriter', () => {
  it('redacts a token split across writes at every position', () => {
    const line = `before ${TOKEN} after\n`;
    for (let cut = 1; cut < line.length; cut++) {
      const sink = collector();
      const writer = new RedactingWriter(sink, secrets());
      writer.write(line.slice(0, cut));
      writer.write(line.slice(cut));
      writer.flush();
      expect(sink.text()).toBe('before *** after\n');
    }
  });

  it('redacts every form (base64 of console:TOKEN, each half, URL-encoded)', () => {
    const sink = collector();
    const writer = new RedactingWriter(sink, secrets());
    for (const form of formsOf(TOKEN)) writer.write(`x ${form} y\n`);
    writer.flush();
    expect(sink.text()).toBe('x *** y\n'.repeat(formsOf(TOKEN).length));
  });

  it('holds an unfinished line until a newline or flush', () => {
    const sink = collector();
    const writer = new RedactingWriter(sink, secrets());
    writer.write('partial');
    expect(sink.chunks).toEqual([]);
    writer.write(' line\nnext');
    expect(sink.text()).toBe('partial line\n');
    writer.flush();
    expect(sink.text()).toBe('partial line\nnext');
  });

  it('emits a huge line without newlines in pieces, never splitting a form', () => {
    const sink = collector();
    const writer = new RedactingWriter(sink, secrets());
    const unit = `${'a'.repeat(997)}${TOKEN}`;
    // Written in odd-sized chunks so some cuts fall inside a token.
    const text = unit.repeat(200);
    for (let at = 0; at < text.length; at += 4093) writer.write(text.slice(at, at + 4093));
    expect(sink.chunks.length).toBeGreaterThan(0);
    writer.flush();
    expect(sink.text()).toBe(`${'a'.repeat(997)}***`.repeat(200));
  });
});

describe('safeCut', () => {
  it('keeps back a possible start of a form and moves before a straddling one', () => {
    const forms = ['SECRET'];
    expect(safeCut('abcdefgh', forms)).toBe(3);
    // "SECRET" at 2..8 straddles the naive cut (len 10 - 5 = 5): the cut moves to 2.
    expect(safeCut('xxSECRETyy', forms)).toBe(2);
    expect(safeCut('abc', [])).toBe(3);
  });
});

describe('Output', () => {
  it('routes results and info to stdout, warnings and errors to stderr, redacted; quiet drops info', () => {
    const out = collector();
    const err = collector();
    const output = new Output({ stdout: out, stderr: err, secrets: secrets(), quiet: true });
    output.info(`info ${TOKEN}`);
    output.note('a note');
    output.result(`result ${TOKEN}`);
    output.warning(`careful ${TOKEN}`);
    output.error(`broken ${TOKEN}`);
    output.flush();
    expect(out.text()).toBe('result ***\n');
    expect(err.text()).toBe('toolkit-ci: warning: careful ***\ntoolkit-ci: error: broken ***\n');
  });
});
