import { expect } from '@jest/globals';
import { formsOf } from '../../packages/core/src/index.js';

/** A place a test looked for the token, with its text. */
export interface Sink {
  name: string;
  text: string;
}

/** Finds every form of `token` in every sink; returns `sink: form-kind` descriptions (never the form). */
export function findLeaks(token: string, sinks: Sink[]): string[] {
  const forms = formsOf(token);
  const leaks: string[] = [];
  for (const sink of sinks) {
    forms.forEach((form, index) => {
      if (sink.text.includes(form)) leaks.push(`${sink.name} holds form #${index} (${form.length} chars)`);
    });
  }
  return leaks;
}

/** Raw stdout with the `::add-mask::` commands taken out: the only place a form may be printed. */
export function withoutMaskCommands(stdout: string): string {
  return stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
}

/** Fails the test, naming sink and form kind, when any form of the token is in any sink. */
export function expectNoLeak(token: string, sinks: Sink[]): number {
  const leaks = findLeaks(token, sinks);
  expect(leaks).toEqual([]);
  return formsOf(token).length * sinks.length;
}
