import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PROFILE_FINDING_CODES } from '../../../shared/profiles/chain.ts';
import { CONFIG_REJECT_REASONS } from '../../../shared/profiles/errors.ts';
import { NOT_DELIVERED_REASONS } from '../../../shared/profiles/profile.ts';

const doc = readFileSync(fileURLToPath(new URL('../../../docs/PROFILES.md', import.meta.url)), 'utf8');

/** The code names in the first column of the markdown table whose header row is `header`. */
function tableCodes(header: string): string[] {
  const at = doc.indexOf(header);
  if (at < 0) throw new Error(`PROFILES.md has no table "${header}"`);
  const codes: string[] = [];
  for (const line of doc.slice(at).split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    codes.push(/^\| `([A-Z_]+)`/.exec(line)?.[1] ?? line);
  }
  return codes;
}

describe('Document: docs/PROFILES.md', () => {
  it('lists exactly the chain finding codes of shared/profiles/chain.ts', () => {
    // Assess
    expect(tableCodes('| code | meaning |')).toEqual([...PROFILE_FINDING_CODES]);
  });

  it('lists exactly the reasons a configuration is not delivered', () => {
    // Assess
    expect(tableCodes('| reason | when |')).toEqual([...NOT_DELIVERED_REASONS]);
  });

  it('names every reason an AWS Config event is refused', () => {
    // Assess
    const paragraph = doc.slice(
      doc.indexOf('refused with `ConfigMappingError`'),
      doc.indexOf('nothing is written.'),
    );
    expect([...paragraph.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1])).toEqual([...CONFIG_REJECT_REASONS]);
  });
});
