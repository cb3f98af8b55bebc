/**
 * docs/EVENTS.md §4 and the code agree: the documented error codes are exactly the closed union
 * `EventErrorCode` (read from the source with the TypeScript compiler, since a type has no runtime
 * value), and `INVALID_TIMESTAMP` behaves as the table says.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { normalizeTimestamp, parseAuditEventInput } from '../../../shared/events/audit-event.ts';
import { EventValidationError } from '../../../shared/events/errors.ts';

const read = (path: string) =>
  readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8');

/** The first column of the table in the section that starts with `heading`, up to the next `## `. */
function documentedCodes(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const end = markdown.indexOf('\n## ', start + heading.length + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!);
}

/** The string literal members of a union type alias, read from a TypeScript source file. */
function unionMembers(source: string, alias: string): string[] {
  const file = ts.createSourceFile('errors.ts', source, ts.ScriptTarget.Latest, true);
  for (const statement of file.statements) {
    if (ts.isTypeAliasDeclaration(statement) && statement.name.text === alias) {
      const type = statement.type;
      if (!ts.isUnionTypeNode(type)) throw new Error(`${alias} is not a union`);
      return type.types.map((member) => {
        if (!ts.isLiteralTypeNode(member) || !ts.isStringLiteral(member.literal)) {
          throw new Error(`${alias} has a member that is not a string literal`);
        }
        return member.literal.text;
      });
    }
  }
  throw new Error(`no type ${alias}`);
}

function thrown(act: () => unknown): EventValidationError {
  try {
    act();
  } catch (error) {
    if (error instanceof EventValidationError) return error;
    throw error;
  }
  throw new Error('nothing was thrown');
}

const EVENT = {
  id: 'doc-1',
  actor: { id: 'alice', type: 'user' },
  action: 'ssh.login',
  outcome: { result: 'success' },
};

describe('Document: docs/EVENTS.md', () => {
  describe('when its §4 lists the error codes', () => {
    it('lists each code of EventErrorCode once, and no other', () => {
      // Prepare
      const documented = documentedCodes(read('docs/EVENTS.md'), '## 4. Error codes');
      const union = unionMembers(read('shared/events/errors.ts'), 'EventErrorCode');

      // Assess
      expect(documented.length).toBeGreaterThan(0);
      expect(new Set(documented).size).toBe(documented.length);
      expect([...documented].sort()).toEqual([...union].sort());
    });
  });

  describe('when it says how INVALID_TIMESTAMP and a bad eventTime behave', () => {
    it.each([
      '2026-02-30T00:00:00Z',
      '2026-11-22T21:00:00',
      '2026-11-22T21:00:60Z',
      '1970-01-01T00:30:00+01:00',
    ])(
      'refuses eventTime %s with SCHEMA_VIOLATION at $.eventTime, and normalizeTimestamp with INVALID_TIMESTAMP at $',
      (eventTime) => {
        // Act
        const parsed = thrown(() => parseAuditEventInput({ ...EVENT, eventTime }));
        const normalized = thrown(() => normalizeTimestamp(eventTime));

        // Assess
        expect({ code: parsed.code, path: parsed.path }).toEqual({
          code: 'SCHEMA_VIOLATION',
          path: '$.eventTime',
        });
        expect({ code: normalized.code, path: normalized.path }).toEqual({
          code: 'INVALID_TIMESTAMP',
          path: '$',
        });
      },
    );

    it('gives the documented example', () => {
      // Act & Assess
      expect(normalizeTimestamp('2026-11-22T23:30:00.1239+02:30')).toBe('2026-11-22T21:00:00.123Z');
      expect(read('docs/EVENTS.md')).toContain(
        '`2026-11-22T23:30:00.1239+02:30` →\n`2026-11-22T21:00:00.123Z`',
      );
    });
  });
});

describe('Document: docs/API.md', () => {
  describe('when it lists the codes of rejected events', () => {
    it('does not promise INVALID_TIMESTAMP, which the ingest path never raises', () => {
      // Act
      const codes = documentedCodes(read('docs/API.md'), '## `POST /v1/events`: ingest a batch');

      // Assess
      expect(codes).toContain('SCHEMA_VIOLATION');
      expect(codes).not.toContain('INVALID_TIMESTAMP');
    });
  });
});
