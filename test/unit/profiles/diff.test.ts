import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyStatePatch, comparableStates, diffProfiles } from '../../../shared/profiles/diff.ts';
import { parseProfile } from '../../../shared/profiles/profile.ts';
import { minute, profileInput, profileJson } from './profile-fixtures.ts';

const profile = (configuration: unknown, extra: object = {}) =>
  parseProfile(profileInput(minute(0), configuration as never, extra)).profile;

describe('Function: diffProfiles', () => {
  it('gives RFC 6902 operations with paths into the state, escaped as RFC 6901 requires', () => {
    // Prepare
    const before = profile(
      { ports: [22, 443], 'a/b~c': 1, gone: true },
      { tags: { env: 'prod', team: 'x' } },
    );
    const after = profile({ ports: [22, 8443], 'a/b~c': 2 }, { tags: { env: 'dev', team: 'x' } });

    // Act
    const diff = diffProfiles({ n: 1, profile: before }, { profile: after });

    // Assess
    expect(diff.from).toBe(1);
    expect(diff.notCompared).toEqual([]);
    expect(diff.patch).toEqual(
      expect.arrayContaining([
        { op: 'replace', path: '/configuration/ports/1', value: 8443 },
        { op: 'replace', path: '/configuration/a~1b~0c', value: 2 },
        { op: 'remove', path: '/configuration/gone' },
        { op: 'replace', path: '/tags/env', value: 'dev' },
      ]),
    );
    expect(diff.patch).toHaveLength(4);
  });

  it('is empty, from null, for the first version in time', () => {
    // Assess
    expect(diffProfiles(undefined, { profile: profile({ a: 1 }) })).toEqual({
      from: null,
      patch: [],
      notCompared: [],
    });
  });

  it('shows a deletion as the tombstone flag and the configuration becoming null', () => {
    // Act
    const diff = diffProfiles(
      { n: 1, profile: profile({ a: 1 }) },
      { profile: profile(null, { tombstone: true }) },
    );

    // Assess
    expect(diff.patch).toEqual(
      expect.arrayContaining([
        { op: 'replace', path: '/tombstone', value: true },
        { op: 'replace', path: '/configuration', value: null },
      ]),
    );
  });

  describe('when one side did not receive its configuration', () => {
    it('leaves the configuration out instead of showing it removed, and still compares tags', () => {
      // Prepare
      const before = profile({ a: 1 }, { supplementaryConfiguration: { s: 1 } });
      const oversized = profile(null, {
        configurationNotDelivered: { reason: 'SOURCE_OVERSIZED' },
        tags: { env: 'dev' },
      });

      // Act
      const diff = diffProfiles({ n: 1, profile: before }, { profile: oversized });

      // Assess
      expect(diff.notCompared).toEqual(['configuration', 'supplementaryConfiguration']);
      expect(diff.patch).toEqual([{ op: 'replace', path: '/tags/env', value: 'dev' }]);
    });
  });

  describe('when one side does not know its tags', () => {
    it('does not show the tags as removed', () => {
      // Prepare
      const { tags: _dropped, ...withoutTags } = profileInput(minute(0), { a: 1 });

      // Act
      const diff = diffProfiles(
        { n: 1, profile: profile({ a: 1 }) },
        { profile: parseProfile(withoutTags).profile },
      );

      // Assess
      expect(diff.patch).toEqual([]);
      expect(diff.notCompared).toEqual(['tags']);
    });
  });

  it('turns the previous state into the next one when applied (property)', () => {
    fc.assert(
      fc.property(
        profileJson(4),
        profileJson(4),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.string()),
        (a, b, tags) => {
          const before = profile(a);
          const after = profile(b, {
            tags: Object.fromEntries(
              Object.entries(tags).filter(([k]) => !['__proto__', 'constructor', 'prototype'].includes(k)),
            ),
          });
          const diff = diffProfiles({ n: 1, profile: before }, { profile: after });
          const states = comparableStates(before, after);
          expect(applyStatePatch(states.before, diff.patch)).toEqual(states.after);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Function: applyStatePatch', () => {
  describe('when an operation targets __proto__ or constructor/prototype', () => {
    it('refuses it and leaves Object.prototype alone', () => {
      // Prepare
      const state = { configuration: {} };

      // Act
      const act = () => applyStatePatch(state, [{ op: 'add', path: '/__proto__/polluted', value: 1 }]);
      const actConstructor = () =>
        applyStatePatch(state, [{ op: 'add', path: '/constructor/prototype/polluted', value: 1 }]);

      // Assess
      expect(act).toThrow();
      expect(actConstructor).toThrow();
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });
  });

  describe('when an operation does not apply', () => {
    it('throws and leaves the input unchanged', () => {
      // Prepare
      const state = { configuration: { a: 1 } };

      // Act
      const act = () => applyStatePatch(state, [{ op: 'remove', path: '/configuration/missing' }]);

      // Assess
      expect(act).toThrow();
      expect(state).toEqual({ configuration: { a: 1 } });
    });
  });
});
