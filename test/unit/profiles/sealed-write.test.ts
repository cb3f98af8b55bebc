/**
 * The service's profile write path over the in-memory ledger (whose store writes each version with its
 * event, as DynamoDB does in one transaction): every created version is a signed ledger event at the
 * version's time, duplicates write nothing, and a lost race is a 409 with the current version.
 */
import { describe, expect, it } from 'vitest';
import { parseAuditEvent } from '../../../shared/events/audit-event.ts';
import { checkReceipt } from '../../../shared/ledger/batch-receipts.ts';
import { ProfileVersionConflictError } from '../../../shared/ports/profile-store.ts';
import { profileVersionEventId } from '../../../shared/profiles/ledger-event.ts';
import { parseProfile } from '../../../shared/profiles/profile.ts';
import { ingestAtVersionTime, writeSealedProfile } from '../../../shared/profiles/sealed-write.ts';
import { InMemoryLedgerStore } from '../../../shared/storage/in-memory-ledger-store.ts';
import { InMemoryProfileStore } from '../../../shared/storage/in-memory-profile-store.ts';
import { harness, LEDGER, T0 } from '../ingest/ingest-fixtures.ts';
import { INSTANCE_ARN, minute, profileInput } from './profile-fixtures.ts';

const WRITER = { id: 'arn:aws:sts::123456789012:assumed-role/writer/app', type: 'role' } as const;

async function setup() {
  const profiles = new InMemoryProfileStore();
  const h = await harness();
  const store = new InMemoryLedgerStore({ profiles });
  const deps = { ...h.deps, store };
  const ingest = ingestAtVersionTime({ ledger: LEDGER, principal: WRITER.id, requestId: 'req' }, deps);
  let now = T0;
  const clock = () => new Date(now);
  const write = (input: object) =>
    writeSealedProfile(parseProfile(input), { store: profiles, ingest, actor: WRITER, clock });
  return { profiles, store, write, keys: h.keys, tick: (ms: number) => (now += ms) };
}

describe('Function: writeSealedProfile', () => {
  it('stores each new version as a signed profile event at the version time', async () => {
    // Prepare
    const { profiles, store, write, keys, tick } = await setup();

    // Act
    const first = await write(profileInput(minute(1), { state: 'running' }));
    tick(1000);
    const second = await write(profileInput(minute(2), { state: 'stopped' }));

    // Assess
    expect([first.status, second.status]).toEqual(['created', 'created']);
    expect((await profiles.head(INSTANCE_ARN))?.n).toBe(2);
    const stored = await store.getEvent(LEDGER, profileVersionEventId(INSTANCE_ARN, 2));
    const event = parseAuditEvent(JSON.parse(Buffer.from(stored!.bytes).toString('utf8')));
    expect(event).toMatchObject({ channel: 'profile', receivedAt: second.version.recordedAt });
    expect(event.profileVersion).toMatchObject({ n: 2, previousHash: first.version.hash });
    expect(checkReceipt(second.receipt, keys).ok).toBe(true);
    expect(second.diff?.patch).toEqual([{ op: 'replace', path: '/configuration/state', value: 'stopped' }]);
  });

  it('answers the same content again with the stored version, writing nothing', async () => {
    // Prepare
    const { store, write, tick } = await setup();
    const first = await write(profileInput(minute(1)));
    const writes = store.writes;
    tick(1000);

    // Act
    const again = await write(profileInput(minute(1)));
    const later = await write(profileInput(minute(3)));

    // Assess
    expect(again).toMatchObject({ status: 'unchanged', version: { n: 1, hash: first.version.hash } });
    expect(later).toMatchObject({ status: 'unchanged', version: { n: 1 } });
    expect(store.writes).toBe(writes);
  });

  describe('when two writers race for the same position', () => {
    it('stores one; the other gets VERSION_TAKEN with the winner as the current version', async () => {
      // Prepare
      const { profiles, store, write } = await setup();
      await write(profileInput(minute(1), { v: 0 }));

      // Act
      const results = await Promise.allSettled([
        write(profileInput(minute(2), { v: 'a' })),
        write(profileInput(minute(2), { v: 'b' })),
      ]);

      // Assess
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const error = (lost[0] as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(ProfileVersionConflictError);
      expect(error).toMatchObject({ reason: 'VERSION_TAKEN', attempted: 2, current: { n: 2 } });
      expect((await profiles.head(INSTANCE_ARN))?.n).toBe(2);
      expect(store.eventCount).toBe(2);
    });

    it('answers a concurrent duplicate of the same content as unchanged', async () => {
      // Prepare
      const { write } = await setup();

      // Act
      const [a, b] = await Promise.all([write(profileInput(minute(2))), write(profileInput(minute(2)))]);

      // Assess
      expect([a.status, b.status].sort()).toEqual(['created', 'unchanged']);
      expect(a.version.hash).toBe(b.version.hash);
    });
  });
});
