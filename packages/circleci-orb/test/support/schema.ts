/**
 * CircleCI's JSON schema (vendored in test/schema/ from the project's shared/schemas; draft-07, from CircleCI's YAML
 * language server) compiled with ajv, and the part of it each kind of orb source file must satisfy.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';

const SCHEMA_PATH = new URL('../schema/circleci-config.schema.json', import.meta.url);

// strict: false because the schema uses keywords ajv does not know (markdownDescription); its only format
// is uri, on orb URLs, which no file here uses.
const ajv = new Ajv({ strict: false, allErrors: true, formats: { uri: true } });
ajv.addSchema(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as object, 'circleci');
const validators = new Map<string, ValidateFunction>();

/** The JSON pointer of the definition each kind of source file must satisfy ('' = a whole config or orb). */
export const DEFINITION = {
  orb: '',
  commands: '/properties/commands/additionalProperties',
  jobs: '/definitions/jobInvocation',
  executors: '/properties/executors/additionalProperties',
  examples: '/properties/examples/additionalProperties',
} as const;

/** A validator for a part of the schema, by JSON pointer ('' = a whole config or orb). */
export function validatorFor(pointer: string): ValidateFunction {
  let validate = validators.get(pointer);
  if (!validate) {
    validate = ajv.compile({ $ref: `circleci#${pointer}` });
    validators.set(pointer, validate);
  }
  return validate;
}

/** The schema errors of value against a part of the schema, as `path message` lines ([] = valid). */
export function schemaErrors(pointer: string, value: unknown): string[] {
  const validate = validatorFor(pointer);
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
