/**
 * Kubernetes audit Events kept verbatim and lossless, as CloudTrail records are: every real Falco trace and
 * generated Events holding integers beyond 2^53, huge exponents, `-0`, duplicate member names, `__proto__`
 * and any Unicode are mapped, stored as RFC 8785 bytes that carry their exact text, sealed, and verified
 * with `auditseal verify --deep`. Before, the Event was a parsed object: such an Event was refused.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../cli/main.ts';
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import { generateKeyPairPem } from '../../../shared/crypto/keys.ts';
import { Detector } from '../../../shared/detect/detector.ts';
import { subjectOf } from '../../../shared/detect/event-records.ts';
import { loadDefaultRules } from '../../../shared/detect/load-rules.ts';
import { parseAuditEvent } from '../../../shared/events/audit-event.ts';
import { assertSafeJson } from '../../../shared/events/json-guard.ts';
import { isLosslessNumber, parseJsonText } from '../../../shared/events/json-text.ts';
import { fromKubernetesAuditEvent, kubernetesEventOf } from '../../../shared/events/kubernetes.ts';
import { RECORD_TEXT_LIMITS } from '../../../shared/events/limits.ts';
import { canonicalizeEvent } from '../../../shared/ingest/canonical-event.ts';
import { bigIntegerText, exponentText, unicodeText } from '../../support/cloudtrail-records.ts';
import { archiveLines, listObjects, removeFolder, tempFolder } from '../../support/sealed-folder.ts';
import { sharedDataPath } from '../../support/shared-data.ts';

const CLUSTER = 'arn:aws:eks:eu-west-1:123456789012:cluster/prod';
const context = { clusterArn: CLUSTER };
const FALCO_DIR = sharedDataPath('kubernetes', 'falco-trace-files');
const RECEIVED_AT = '2026-11-22T21:10:00.123Z';
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The Falco traces auditseal takes (every one but `fal_01_003.json`, `"kind": 0`), as their texts. */
const falcoTexts = readdirSync(FALCO_DIR)
  .filter((f) => f.endsWith('.json') && f !== 'fal_01_003.json')
  .sort()
  .map((f) => readFileSync(join(FALCO_DIR, f), 'utf8').trim());

/**
 * An Event as the API server could log it: a Falco trace with its own `auditID`, and a `requestObject`
 * holding the edge cases (a Deployment's big `generation`, exponents, `-0`, a duplicate member whose
 * last value is the big integer, a `__proto__` member, any Unicode), with the whitespace of the trace.
 */
const generatedEvent = fc
  .record({
    base: fc.constantFrom(...falcoTexts),
    big: bigIntegerText,
    exp: exponentText,
    uni: unicodeText,
    ws: fc.constantFrom('', ' ', '\n  ', '\t'),
  })
  .map(({ base, big, exp, uni, ws }) => (auditId: string) => {
    const event = JSON.parse(base) as Record<string, unknown>;
    delete event['requestObject'];
    const head = JSON.stringify({ ...event, auditID: auditId }).slice(0, -1);
    const request = `{${ws}"metadata":{"generation":${big},"__proto__":{"polluted":${big}}},${ws}"exp":${exp},"z":-0,"dup":1,"dup":${big},"s":${uni}}`;
    return `${head},${ws}"requestObject":${ws}${request}${ws}}`;
  });

function generatedEvents(n: number, seed: number): string[] {
  return fc
    .sample(generatedEvent, { numRuns: n, seed })
    .map((make, i) => make(`00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`));
}

/** Every number text of a lossless parse, in document order. */
function numberTexts(value: unknown, out: string[] = []): string[] {
  if (isLosslessNumber(value)) out.push(String(value));
  else if (Array.isArray(value)) for (const item of value) numberTexts(item, out);
  else if (value !== null && typeof value === 'object')
    for (const key of Object.keys(value)) numberTexts((value as Record<string, unknown>)[key], out);
  return out;
}

/** What the mapping did before: JSON.parse of the message, then the JSON guard over the Event. */
function refusedBefore(text: string): boolean {
  try {
    assertSafeJson(JSON.parse(text));
    return false;
  } catch {
    return true;
  }
}

describe('Function: fromKubernetesAuditEvent, lossless', () => {
  const generated = generatedEvents(300, 12);

  it('is a sample the previous mapping refused whole', () => {
    // Act and Assess: every generated Event has an integer beyond 2^53, which JSON.parse cannot keep.
    expect(generated.filter(refusedBefore)).toHaveLength(generated.length);
  });

  it('maps every Falco trace and every generated Event, keeps its text verbatim, and stores JCS bytes carrying it', () => {
    for (const text of [...falcoTexts, ...generated]) {
      // Act
      const event = fromKubernetesAuditEvent(text, context);
      const stored = canonicalizeEvent(event, RECEIVED_AT, 'kubernetes');
      const bytes = utf8.decode(stored.bytes);
      const reparsed = JSON.parse(bytes) as Record<string, unknown>;

      // Assess
      expect(event.kubernetes).toBe(text);
      expect(canonicalString(reparsed)).toBe(bytes);
      expect(reparsed['kubernetes']).toBe(text);
      expect(parseAuditEvent(reparsed)).toEqual(stored.event);
      expect(numberTexts(kubernetesEventOf(reparsed))).toEqual(
        numberTexts(parseJsonText(text, RECORD_TEXT_LIMITS, '$')),
      );
    }
  });

  it('never rounds: the big integer, the exponent and -0 read back as written', () => {
    // Prepare
    const base = JSON.parse(falcoTexts[0]!) as Record<string, unknown>;
    const text = `${JSON.stringify(base).slice(0, -1)},"requestObject":{"n":12345678901234567890,"e":1e400,"z":-0}}`;

    // Act
    const stored = canonicalizeEvent(fromKubernetesAuditEvent(text, context), RECEIVED_AT, 'kubernetes');
    const event = kubernetesEventOf(JSON.parse(utf8.decode(stored.bytes)) as object)!;

    // Assess
    const request = event['requestObject'] as Record<string, unknown>;
    expect(String(request['n'])).toBe('12345678901234567890');
    expect(String(request['e'])).toBe('1e400');
    expect(String(request['z'])).toBe('-0');
  });

  describe('when a member name occurs twice (as with CloudTrail: the text keeps both, readers take the last)', () => {
    it('keeps both in the text, and the mapping and Sigma both read the last one', () => {
      // Prepare: `verb` twice, first `get`, then `create`, in an exec into a pod.
      const exec = falcoTexts.find(
        (t) => t.includes('"subresource": "exec"') || t.includes('"subresource":"exec"'),
      )!;
      const event = JSON.parse(exec) as Record<string, unknown>;
      const { verb: _verb, ...rest } = event;
      const text = `{"verb":"get",${JSON.stringify(rest).slice(1, -1)},"verb":"create"}`;
      const detector = new Detector(loadDefaultRules().rules);

      // Act
      const mapped = fromKubernetesAuditEvent(text, context);
      const titles = detector.detect(mapped).map((r) => r.title);

      // Assess
      expect(mapped.kubernetes).toBe(text);
      expect(mapped.action).toBe('create/exec');
      expect(subjectOf(mapped).record['verb']).toBe('create');
      expect(titles).toContain('Potential Remote Command Execution In Pod Container');
    });
  });

  describe('when a member is named __proto__', () => {
    it('keeps it as data: an own member of the parse, never a prototype', () => {
      // Prepare
      const [text] = generatedEvents(1, 3);

      // Act
      const event = kubernetesEventOf(fromKubernetesAuditEvent(text!, context))!;

      // Assess
      const metadata = (event['requestObject'] as Record<string, unknown>)['metadata'] as object;
      expect(Object.hasOwn(metadata, '__proto__')).toBe(true);
      expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });
  });

  describe('when responseStatus.code is written as no double reads it', () => {
    it.each([
      ['403.0', { result: 'failure', errorCode: '403' }],
      ['-0', { result: 'success' }],
      ['99999999999999999999', { result: 'failure', errorCode: '99999999999999999999' }],
    ])('reads %s as an integer status', (code, outcome) => {
      // Prepare
      const event = JSON.parse(falcoTexts[0]!) as Record<string, unknown>;
      delete event['responseStatus'];
      const text = `${JSON.stringify(event).slice(0, -1)},"responseStatus":{"code":${code}}}`;

      // Act and Assess
      expect(fromKubernetesAuditEvent(text, context).outcome).toEqual(outcome);
    });
  });
});

/** Runs `main()` in this process, capturing what it writes. */
async function auditsealInProcess(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(['node', 'auditseal', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('Command: auditseal seal, then verify --deep, of stored Kubernetes events', () => {
  const work = tempFolder('k8s-lossless');
  afterAll(() => removeFolder(work));

  it('seals the Falco traces and 200 generated Events, verifies VALID with --deep, and archives every text intact', async () => {
    // Prepare: stored events (the forwarder's bytes), one per id (two Falco pairs share an auditID).
    const byId = new Map<string, string>();
    [...falcoTexts, ...generatedEvents(200, 7)].forEach((text, i) => {
      const event = fromKubernetesAuditEvent(text, context);
      if (byId.has(event.id)) return;
      const receivedAt = new Date(Date.parse('2026-11-22T21:00:00Z') + i * 1_000).toISOString();
      byId.set(event.id, utf8.decode(canonicalizeEvent(event, receivedAt, 'kubernetes').bytes));
    });
    const lines = [...byId.values()];
    const texts = lines.map((l) => (JSON.parse(l) as { kubernetes: string }).kubernetes);
    const file = join(work, 'stored.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const key = join(work, 'key.pem');
    writeFileSync(key, generateKeyPairPem().privateKeyPem);
    const out = join(work, 'sealed');

    // Act
    const seal = await auditsealInProcess('seal', '--in', file, '--out', out, '--key', key, '--json');
    const summary = JSON.parse(seal.stdout) as { events: number; rejected: unknown[]; publicKey: string };
    const verify = await auditsealInProcess('verify', out, '--key', summary.publicKey, '--json', '--deep');

    // Assess
    expect(seal.code, seal.stderr).toBe(0);
    expect(summary).toMatchObject({ events: lines.length, rejected: [] });
    expect(verify.code, verify.stdout).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({
      valid: true,
      findings: [],
      stats: { events: lines.length },
    });
    const archived = listObjects(out, 'archives/')
      .filter((k) => /\/\d{6}\.jsonl$/.test(k))
      .flatMap((k) => archiveLines(out, k))
      .map((line) => JSON.parse(line.toString('utf8')) as { kubernetes: string; channel: string });
    expect(archived.map((e) => e.channel)).toEqual(archived.map(() => 'kubernetes'));
    expect(archived.map((e) => e.kubernetes).sort()).toEqual([...texts].sort());
  });
});
