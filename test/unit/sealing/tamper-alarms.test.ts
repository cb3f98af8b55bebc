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
      expect(alarms.map((a) => [a.eventName, a.alarmId])).toEqual([
        ['MODIFY', '2026-11-22T10:00:00.000Z#m1'],
        ['REMOVE', '2026-11-22T10:00:00.000Z#r1'],
      ]);
    });
  });

  describe('when DynamoDB TTL removes an item', () => {
    it('is recognised by the service identity and raises nothing', () => {
      // Prepare
      const ttl: StreamChange = {
        ...base,
        eventName: 'REMOVE',
        userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
      };

      // Act / Assess
      expect(isTtlExpiry(ttl)).toBe(true);
      expect(tamperAlarmsOf([ttl])).toEqual([]);
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
