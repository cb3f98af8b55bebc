/**
 * `npm run docs:detections`: rewrites the rule tables of docs/DETECTIONS.md from what the loader does
 * with the shipped rules. `test/unit/detect/detections-doc.test.ts` fails when they differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadDefaultRules } from '../shared/detect/load-rules.ts';
import { renderRuleCatalog, withCatalog } from '../shared/detect/rule-catalog.ts';

const DOC = fileURLToPath(new URL('../docs/DETECTIONS.md', import.meta.url));
writeFileSync(DOC, withCatalog(readFileSync(DOC, 'utf8'), renderRuleCatalog(loadDefaultRules())));
process.stdout.write(`rewrote the rule tables of ${DOC}\n`);
