import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadDefaultRules } from '../../../shared/detect/load-rules.ts';
import { renderRuleCatalog, withCatalog } from '../../../shared/detect/rule-catalog.ts';

const DOC = new URL('../../../docs/DETECTIONS.md', import.meta.url);

describe('docs/DETECTIONS.md', () => {
  it('lists the running and refused shipped rules exactly as the loader loads them', () => {
    // Prepare
    const doc = readFileSync(DOC, 'utf8');

    // Act
    const expected = withCatalog(doc, renderRuleCatalog(loadDefaultRules()));

    // Assess: run `npm run docs:detections` when this fails after a rule or loader change.
    expect(doc).toBe(expected);
  });
});
