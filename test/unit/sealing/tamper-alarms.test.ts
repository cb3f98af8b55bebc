import { describe, expect, it } from 'vitest';
import { isTtlExpiry, type StreamChange, tamperAlarmsOf } from '../../../shared/sealing/tamper-alarms.ts';

const base: StreamChange = {
  streamEventId: 'e1',
  eventName: 'INSERT',
  changedAtMs: Date.parse('2026-11-22T10:00:00Z'),
  pk: 'EV#x',
  sk: 's',
};

describe('Function: tamperAlarmsOf', () => {
  describe('when the stream has only inserts', () => {
    it('raises nothing', () => {
      // Act
      const alarms = tamperAlarmsOf([base, { ...base, streamEventId: 'e2' }]);

      // Assess
      expect(alarms).toEqual([]);
    });
  });

  describe('when an item is modified or removed by a principal', () => {
    it('raises one alarm per change, keyed by the stream event id', () => {
      // Prepare
      const changes: StreamChange[] = [
        { ...base, eventName: 'MODIFY', streamEventId: 'm1' },
        {
          ...base,
          eventName: 'REMOVE',
          streamEventId: 'r1',
          userIdentity: { type: 'Service', principalId: 'someone-else' },
        },
      ];

      // Act
      const alarms = tamperAlarmsOf(changes);

      // Assess
      expect(alarms.map((a) => [a.kind, a.eventName, a.alarmId])).toEqual([
        ['TAMPER', 'MODIFY', '2026-11-22T10:00:00.000Z#m1'],
        ['TAMPER', 'REMOVE', '2026-11-22T10:00:00.000Z#r1'],
      ]);
    });
  });

  describe('when DynamoDB TTL removes an item', () => {
    // Issue 7 removed the TTL exemption: no ledger row carries a TTL, so a TTL expiry means someone set a
    // TTL attribute on a ledger row to have the service delete it. It is recognised, and raises an alarm.
    it('is recognised by the service identity and raises a TAMPER alarm that says so', () => {
      // Prepare
      const ttl: StreamChange = {
        ...base,
        eventName: 'REMOVE',
        userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
      };

      // Act
      const alarms = tamperAlarmsOf([ttl]);

      // Assess
      expect(isTtlExpiry(ttl)).toBe(true);
      expect(alarms).toEqual([
        expect.objectContaining({
          kind: 'TAMPER',
          eventName: 'REMOVE',
          principal: 'dynamodb.amazonaws.com',
          detail: expect.stringContaining('TTL'),
        }),
      ]);
    });
  });

  describe('when a MODIFY claims the TTL identity', () => {
    it('still raises an alarm: TTL only ever removes', () => {
      // Prepare
      const forged: StreamChange = {
        ...base,
        eventName: 'MODIFY',
        userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
      };

      // Act / Assess
      expect(tamperAlarmsOf([forged])).toHaveLength(1);
    });
  });
});
