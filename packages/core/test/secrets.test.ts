import { describe, expect, it } from '@jest/globals';
import { formsOf, Secrets } from '../src/secrets.js';
import { parseToken } from '../src/token.js';

// Expected forms are written out literally (not recomputed with the same formulas as the code).
const CASES: Array<{ name: string; secret: string; forms: string[] }> = [
  {
    name: 'a role key',
    secret: 'AKQ7PLM2VZ:Zr9TnWc4xY8s',
    forms: [
      'Y29uc29sZTpBS1E3UExNMlZaOlpyOVRuV2M0eFk4cw==', // base64("console:" + T), as in config.json
      'Y29uc29sZTpBS1E3UExNMlZaOlpyOVRuV2M0eFk4cw', // ... without padding
      'QUtRN1BMTTJWWjpacjlUbldjNHhZOHM=', // base64(T)
      'QUtRN1BMTTJWWjpacjlUbldjNHhZOHM',
      'AKQ7PLM2VZ%3AZr9TnWc4xY8s', // URL-encoded
      'AKQ7PLM2VZ:Zr9TnWc4xY8s', // the token
      'Zr9TnWc4xY8s', // SECRET
      'AKQ7PLM2VZ', // ACCESS
    ],
  },
  {
    name: 'a long opaque token',
    secret: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyb2xlIn0.Q7pLm2vZr9TnWc4xY8sK3dF6gH1jB5nM0aE',
    forms: [
      'Y29uc29sZTpleUpoYkdjaU9pSklVekkxTmlKOS5leUp6ZFdJaU9pSnliMnhsSW4wLlE3cExtMnZacjlUbldjNHhZOHNLM2RGNmdIMWpCNW5NMGFF',
      'ZXlKaGJHY2lPaUpJVXpJMU5pSjkuZXlKemRXSWlPaUp5YjJ4bEluMC5RN3BMbTJ2WnI5VG5XYzR4WThzSzNkRjZnSDFqQjVuTTBhRQ==',
      'ZXlKaGJHY2lPaUpJVXpJMU5pSjkuZXlKemRXSWlPaUp5YjJ4bEluMC5RN3BMbTJ2WnI5VG5XYzR4WThzSzNkRjZnSDFqQjVuTTBhRQ',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyb2xlIn0.Q7pLm2vZr9TnWc4xY8sK3dF6gH1jB5nM0aE',
    ],
  },
  {
    name: 'an opaque token with + / = % " \\',
    secret: 'p+q/r=s%t"u\\v',
    forms: [
      'Y29uc29sZTpwK3Evcj1zJXQidVx2', // no padding here, so no unpadded duplicate
      'p%2Bq%2Fr%3Ds%25t%22u%5Cv',
      'cCtxL3I9cyV0InVcdg==',
      'cCtxL3I9cyV0InVcdg',
      'p+q/r=s%t\\"u\\\\v', // JSON-escaped
      'p+q/r=s%t"u\\v',
    ],
  },
  {
    name: 'a role key with + / = % " \\ in its halves',
    secret: 'a+b/c=:d%e"f\\g',
    forms: [
      'Y29uc29sZTphK2IvYz06ZCVlImZcZw==',
      'Y29uc29sZTphK2IvYz06ZCVlImZcZw',
      'a%2Bb%2Fc%3D%3Ad%25e%22f%5Cg',
      'YStiL2M9OmQlZSJmXGc=',
      'YStiL2M9OmQlZSJmXGc',
      'a+b/c=:d%e\\"f\\\\g',
      'a+b/c=:d%e"f\\g',
      'd%25e%22f%5Cg', // SECRET, URL-encoded
      'a%2Bb%2Fc%3D', // ACCESS, URL-encoded (its JSON form is itself)
      'd%e\\"f\\\\g', // SECRET, JSON-escaped
      'd%e"f\\g',
      'a+b/c=',
    ],
  },
];

describe('formsOf', () => {
  it.each(CASES)('produces every form of $name, longest first', ({ secret, forms }) => {
    expect(formsOf(secret)).toEqual(forms);
  });

  it('gives nothing for an empty string', () => {
    expect(formsOf('')).toEqual([]);
  });
});

describe('Secrets', () => {
  it.each(CASES)('redacts every form of $name, alone and all together', ({ secret, forms }) => {
    const secrets = new Secrets();
    secrets.add(secret);
    expect(secrets.forms).toEqual(forms);
    for (const form of forms) {
      expect(secrets.redact(`before ${form} after`)).toBe('before *** after');
    }
    const all = forms.map((form) => `[${form}]`).join('\n');
    const redacted = secrets.redact(all);
    expect(redacted).toBe(forms.map(() => '[***]').join('\n'));
  });

  it('replaces a longer form whole even though a shorter form is inside it', () => {
    const secrets = new Secrets();
    secrets.add('AKQ7PLM2VZ:Zr9TnWc4xY8s');
    // Replacing the halves first would print "***:***" and reveal that the token is a role key.
    expect(secrets.redact('token=AKQ7PLM2VZ:Zr9TnWc4xY8s;')).toBe('token=***;');
    expect(secrets.redact('access=AKQ7PLM2VZ')).toBe('access=***');
    // The URL form contains ACCESS as a prefix: it must go as a whole, not leave "%3A***".
    expect(secrets.redact('u=AKQ7PLM2VZ%3AZr9TnWc4xY8s&')).toBe('u=***&');
  });

  it('hides the whole union of overlapping occurrences of different secrets', () => {
    const secrets = new Secrets();
    secrets.add('Q7pLm2vZ');
    secrets.add('2vZr9TnW');
    expect(secrets.redact('x Q7pLm2vZr9TnW y')).toBe('x *** y');
  });

  it('redacts a secret that contains "*" like any other', () => {
    const secrets = new Secrets();
    secrets.add('*x*');
    expect(secrets.redact('a*x*b **x**')).toBe('a***b *****');
    expect(secrets.redact('nothing here')).toBe('nothing here');
  });

  it('redacts the forms of a Token it is given', () => {
    const { token } = parseToken('AKQ7PLM2VZ:Zr9TnWc4xY8s');
    const secrets = new Secrets();
    secrets.add(token);
    expect(secrets.forms).toEqual(CASES[0].forms);
    expect(secrets.redact('Zr9TnWc4xY8s')).toBe('***');
  });

  it('calls the masker once per new form, never twice for one form', () => {
    const masked: string[] = [];
    const secrets = new Secrets((form) => masked.push(form));
    secrets.add('AKQ7PLM2VZ:Zr9TnWc4xY8s');
    expect(masked).toEqual(CASES[0].forms);
    secrets.add('AKQ7PLM2VZ:Zr9TnWc4xY8s');
    expect(masked).toHaveLength(CASES[0].forms.length);

    // A second key with the same ACCESS: only its new forms are registered.
    secrets.add('AKQ7PLM2VZ:Other9TnWc4');
    const added = masked.slice(CASES[0].forms.length);
    expect(added).not.toContain('AKQ7PLM2VZ');
    expect(added).toContain('Other9TnWc4');
    expect(added).toContain('AKQ7PLM2VZ:Other9TnWc4');
    expect(new Set(masked).size).toBe(masked.length);
    expect([...secrets.forms].sort()).toEqual([...masked].sort());
  });

  it('keeps all forms of all secrets longest first', () => {
    const secrets = new Secrets();
    secrets.add('p+q/r=s%t"u\\v');
    secrets.add('AKQ7PLM2VZ:Zr9TnWc4xY8s');
    const lengths = secrets.forms.map((form) => form.length);
    expect(lengths).toEqual([...lengths].sort((a, b) => b - a));
    expect(secrets.forms).toHaveLength(CASES[0].forms.length + CASES[2].forms.length);
  });

  it('ignores an empty secret and leaves text alone when it knows none', () => {
    const masker: string[] = [];
    const secrets = new Secrets((form) => masker.push(form));
    secrets.add('');
    expect(masker).toEqual([]);
    expect(secrets.forms).toEqual([]);
    expect(secrets.redact('plain text')).toBe('plain text');
  });
});
