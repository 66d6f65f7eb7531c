// @toolkit-ci/emulator: a local Toolkit (API, in-job token endpoint, registry login, fault injection).
export { DEMO_TOKENS } from './demo.js';
export { startEmulator } from './emulator.js';
export type { Step } from './script.js';
export { parseScript, scriptOf } from './script.js';
export type {
  AuthOutcome,
  EmulatorHandle,
  EmulatorOptions,
  FaultRule,
  Identity,
  Job,
  JobResources,
  JobRun,
  JobSpec,
  JobState,
  JournalEntry,
  Target,
  TokenConfig,
  TokenKind,
} from './types.js';
