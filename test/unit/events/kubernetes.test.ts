import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../../shared/canonical/jcs.ts';
import { parseAuditEventInput } from '../../../shared/events/audit-event.ts';
import {
  eksClusterArnFromLogGroup,
  fromKubernetesAuditEvent,
  fromKubernetesAuditEvents,
  KUBERNETES_ID_PREFIX,
  KubernetesMappingError,
  type KubernetesRejectReason,
  kubernetesRequestEventId,
  kubernetesResourceId,
} from '../../../shared/events/kubernetes.ts';
import { MAX_EVENT_BYTES } from '../../../shared/events/limits.ts';
import { sharedDataPath } from '../../support/shared-data.ts';

const CLUSTER = 'arn:aws:eks:eu-west-1:123456789012:cluster/prod';
const context = { clusterArn: CLUSTER };
const FALCO_DIR = sharedDataPath('kubernetes', 'falco-trace-files');
const falcoFiles = readdirSync(FALCO_DIR).filter((f) => f.endsWith('.json'));

/** A trace file's Event as its JSON text (the file without its final newline). */
function falcoText(name: string): string {
  return readFileSync(`${FALCO_DIR}/${name}`, 'utf8').trim();
}

/** A trace file's Event, parsed, for tests that change it (and map `JSON.stringify` of the change). */
function falco(name: string): Record<string, unknown> {
  return JSON.parse(falcoText(name)) as Record<string, unknown>;
}

/** Maps a test's changed Event through its `JSON.stringify` text. */
function mapObject(event: unknown, ctx = context) {
  return fromKubernetesAuditEvent(JSON.stringify(event), ctx);
}

const audit2rbac = readFileSync(sharedDataPath('kubernetes', 'audit2rbac.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.length > 0);

function refusalOf(act: () => unknown): KubernetesMappingError {
  try {
    act();
  } catch (error) {
    if (error instanceof KubernetesMappingError) return error;
    throw error;
  }
  throw new Error('the mapping did not throw');
}

describe('Function: fromKubernetesAuditEvent', () => {
  describe('when mapping every Falco trace file', () => {
    it('maps all 39 Events and refuses only fal_01_003.json ("kind": 0)', () => {
      // Act
      const outcomes = falcoFiles.map((f) => {
        try {
          fromKubernetesAuditEvent(falcoText(f), context);
          return [f, 'ok'];
        } catch (error) {
          if (error instanceof KubernetesMappingError) return [f, error.reason];
          throw error;
        }
      });

      // Assess
      expect(falcoFiles).toHaveLength(40);
      expect(outcomes.filter(([, o]) => o !== 'ok')).toEqual([['fal_01_003.json', 'NOT_AN_EVENT']]);
    });

    it('keeps each Event verbatim, as its own text, within the stored-event size limit, with a valid common projection', () => {
      for (const f of falcoFiles.filter((name) => name !== 'fal_01_003.json')) {
        // Act
        const event = fromKubernetesAuditEvent(falcoText(f), context);
        const { kubernetes, ...common } = event;

        // Assess
        expect(kubernetes, f).toBe(falcoText(f));
        expect(parseAuditEventInput(common)).toEqual(common);
        expect(canonicalBytes(event).length, f).toBeLessThanOrEqual(MAX_EVENT_BYTES);
      }
    });
  });

  it('maps every audit2rbac Event (audit.k8s.io/v1 with timestamp, impersonation, 403s)', () => {
    // Act
    const events = audit2rbac.map((e) => fromKubernetesAuditEvent(e, context));

    // Assess
    expect(events).toHaveLength(37);
    expect(events[0]).toMatchObject({
      actor: { id: 'system:admin', type: 'service' },
      action: 'list',
      outcome: { result: 'failure', errorCode: '403' },
      details: { impersonatedUser: 'bob', groups: ['system:masters', 'system:authenticated'] },
    });
  });

  it('maps the fields of an exec into a pod', () => {
    // Act
    const event = fromKubernetesAuditEvent(falcoText('exec_pod.json'), context);

    // Assess
    expect(event).toMatchObject({
      id: `${KUBERNETES_ID_PREFIX}ca1ed9f4-7bf4-4c85-81a8-1b11253d1ba6:ResponseStarted`,
      eventTime: '2018-10-26T13:38:34.867116Z',
      actor: { id: 'minikube-user', type: 'user' },
      action: 'create/exec',
      resource: {
        id: `${CLUSTER}/api/namespaces/default/pods/nginx-deployment-7998647bdf-phvq7`,
        type: 'Kubernetes::core::pods',
        name: 'nginx-deployment-7998647bdf-phvq7',
      },
      outcome: { result: 'success' },
      sourceIp: '192.168.99.1',
      endpoint: '/api/v1/namespaces/default/pods/nginx-deployment-7998647bdf-phvq7/exec',
      labels: ['kubernetes', 'stage:ResponseStarted', 'level:Request'],
    });
  });

  it.each([
    ['anonymous_creates_namespace_foo.json', 'anonymous'],
    ['create_nginx_pod_hostnetwork.json', 'service'],
    ['create_secret.json', 'user'],
  ])('classifies the actor of %s as %s', (file, type) => {
    // Act and Assess
    expect(fromKubernetesAuditEvent(falcoText(file), context).actor.type).toBe(type);
  });

  it('takes an EKS IAM identity from user.extra', () => {
    // Prepare
    const event = falco('create_secret.json');
    event['user'] = {
      username: 'arn:aws:sts::123456789012:assumed-role/Admin/alice',
      groups: ['system:authenticated'],
      extra: {
        accessKeyId: ['ASIAEXAMPLE'],
        canonicalArn: ['arn:aws:iam::123456789012:role/Admin'],
      },
    };

    // Act
    const actor = mapObject(event).actor;

    // Assess
    expect(actor).toEqual({
      id: 'arn:aws:sts::123456789012:assumed-role/Admin/alice',
      type: 'role',
      sessionId: 'ASIAEXAMPLE',
      accountId: '123456789012',
    });
  });

  describe('Function: kubernetesResourceId', () => {
    it.each([
      [{ resource: 'pods', namespace: 'default', name: 'nginx' }, '/api/namespaces/default/pods/nginx'],
      [
        { resource: 'deployments', apiGroup: 'apps', namespace: 'web', name: 'api' },
        '/apis/apps/namespaces/web/deployments/api',
      ],
      [
        { resource: 'clusterroles', apiGroup: 'rbac.authorization.k8s.io', name: 'system:admin' },
        '/apis/rbac.authorization.k8s.io/clusterroles/system:admin',
      ],
      [{ resource: 'namespaces', namespace: 'foo', name: 'foo' }, '/api/namespaces/foo'],
      [{ resource: 'pods', namespace: 'default' }, '/api/namespaces/default/pods'],
      [{ resource: 'pods', namespace: 'a', name: 'x/y%' }, '/api/namespaces/a/pods/x%2Fy%25'],
    ])('names %j %s under the cluster ARN', (ref, path) => {
      // Act and Assess
      expect(kubernetesResourceId(CLUSTER, ref)).toBe(`${CLUSTER}${path}`);
    });

    it('names the cluster itself when the request has no objectRef', () => {
      // Prepare
      const event = falco('create_secret.json');
      delete event['objectRef'];

      // Act and Assess
      expect(mapObject(event).resource).toEqual({
        id: CLUSTER,
        type: 'AWS::EKS::Cluster',
      });
    });
  });

  describe('when the Event is not one auditseal takes', () => {
    const base = () => falco('create_secret.json');
    it.each<[string, (e: Record<string, unknown>) => void, KubernetesRejectReason, string]>([
      ['not an Event', (e) => (e['kind'] = 'Status'), 'NOT_AN_EVENT', '$.kind'],
      [
        'another apiVersion',
        (e) => (e['apiVersion'] = 'audit.k8s.io/v1alpha1'),
        'UNSUPPORTED_API_VERSION',
        '$.apiVersion',
      ],
      ['no auditID', (e) => delete e['auditID'], 'MISSING_AUDIT_ID', '$.auditID'],
      ['a bad auditID', (e) => (e['auditID'] = 'has space'), 'BAD_AUDIT_ID', '$.auditID'],
      ['an unknown stage', (e) => (e['stage'] = 'Done'), 'BAD_STAGE', '$.stage'],
      [
        'no time',
        (e) => {
          delete e['requestReceivedTimestamp'];
          delete e['stageTimestamp'];
          delete e['timestamp'];
        },
        'MISSING_EVENT_TIME',
        '$.requestReceivedTimestamp',
      ],
      [
        'a time without zone',
        (e) => (e['requestReceivedTimestamp'] = '2018-10-26T13:38:34'),
        'BAD_EVENT_TIME',
        '$.requestReceivedTimestamp',
      ],
      ['no verb', (e) => delete e['verb'], 'MISSING_VERB', '$.verb'],
      ['no user', (e) => delete e['user'], 'MISSING_USER', '$.user.username'],
      [
        'no outcome',
        (e) => {
          delete e['responseStatus'];
          delete e['annotations'];
        },
        'NO_OUTCOME',
        '$.responseStatus',
      ],
    ])('refuses %s', (_what, change, reason, path) => {
      // Prepare
      const event = base();
      change(event);

      // Act
      const error = refusalOf(() => mapObject(event));

      // Assess
      expect(error.reason).toBe(reason);
      expect(error.path).toBe(path);
    });

    it.each<[string, string, KubernetesRejectReason]>([
      ['text that is not JSON', '{"kind":"Event",', 'NOT_JSON'],
      ['a JSON value that is not an object', '[1,2]', 'NOT_AN_EVENT'],
      [
        'a literal lone surrogate (no UTF-8 input can carry one)',
        '{"kind":"Event","x":"\ud800"}',
        'UNSAFE_JSON',
      ],
      [
        'a text longer than a log event message',
        `{"kind":"Event","x":"${'y'.repeat(1_048_576)}"}`,
        'UNSAFE_JSON',
      ],
    ])('refuses %s', (_what, text, reason) => {
      // Act and Assess
      expect(refusalOf(() => fromKubernetesAuditEvent(text, context)).reason).toBe(reason);
    });

    it('refuses a context without a cluster ARN', () => {
      // Act and Assess
      expect(refusalOf(() => mapObject(base(), { clusterArn: 'prod' })).reason).toBe('BAD_CLUSTER_ARN');
    });
  });
});

describe('Function: fromKubernetesAuditEvent, Events beyond the stored-event limits', () => {
  const big = () => {
    const event = falco('create_configmap.json');
    event['requestObject'] = {
      data: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'x'.repeat(20_000)])),
    };
    return JSON.stringify(event);
  };

  it('keeps the projection, says what was omitted, and names the original by the SHA-256 of its exact text', () => {
    // Prepare
    const text = big();
    const event = JSON.parse(text) as Record<string, unknown>;

    // Act
    const mapped = fromKubernetesAuditEvent(`  ${text}\n`, context);

    // Assess
    expect(text.length).toBeGreaterThan(MAX_EVENT_BYTES);
    expect(mapped.kubernetes).toBeUndefined();
    expect(mapped.id).toBe(`${KUBERNETES_ID_PREFIX}${String(event['auditID'])}`);
    expect(mapped.labels).toContain('kubernetes:omitted');
    expect((mapped.details as Record<string, unknown>)['kubernetesOmitted']).toEqual({
      reason: 'TOO_LARGE',
      form: 'text',
      sha256: createHash('sha256').update(text, 'utf8').digest('hex'),
      bytes: Buffer.byteLength(text, 'utf8'),
    });
    expect(parseAuditEventInput(mapped)).toEqual(mapped);
    expect(mapped.actor.id).toBe((event['user'] as Record<string, unknown>)['username']);
  });

  it('omits a text that fits alone but not once escaped in the stored event', () => {
    // Prepare: 380,000 quotes escape to 760,000 bytes in the stored event.
    const event = falco('create_configmap.json');
    event['requestObject'] = { data: { q: '"'.repeat(190_000) } };
    const text = JSON.stringify(event);

    // Act
    const mapped = fromKubernetesAuditEvent(text, context);

    // Assess
    expect(text.length).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    expect(mapped.kubernetes).toBeUndefined();
    expect((mapped.details as Record<string, Record<string, unknown>>)['kubernetesOmitted']?.['reason']).toBe(
      'TOO_LARGE',
    );
  });

  it('keeps the largest text that fits: the stored event is at most MAX_EVENT_BYTES', () => {
    // Prepare: grow a filler until the stored event would pass the limit, one character at a time near it.
    const event = falco('create_configmap.json');
    const withFill = (n: number) => JSON.stringify({ ...event, requestObject: { f: 'a'.repeat(n) } });
    const stored = (n: number) => {
      const mapped = fromKubernetesAuditEvent(withFill(n), context);
      return mapped.kubernetes === undefined
        ? undefined
        : canonicalBytes({ ...mapped, v: 1, receivedAt: '2026-01-01T00:00:00.000Z', channel: 'kubernetes' })
            .length;
    };
    let lo = 0;
    let hi = MAX_EVENT_BYTES;
    while (lo + 1 < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (stored(mid) === undefined) hi = mid;
      else lo = mid;
    }

    // Act and Assess: the last kept one is exactly at the limit, the next one is omitted.
    expect(stored(lo)).toBe(MAX_EVENT_BYTES);
    expect(stored(lo + 1)).toBeUndefined();
  });

  it('keeps verbatim what the old object limits refused: long strings, 300 members, 1,001 elements, depth 40', () => {
    // Prepare
    const event = falco('create_configmap.json');
    event['requestObject'] = {
      s: 'y'.repeat(40_000),
      members: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i])),
      items: Array(1_001).fill(1),
      deep: JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`),
    };
    const text = JSON.stringify(event);

    // Act
    const mapped = fromKubernetesAuditEvent(text, context);

    // Assess
    expect(mapped.kubernetes).toBe(text);
    expect(parseAuditEventInput(mapped)).toEqual(mapped);
  });

  it('takes an Event nested deeper than 1,100 as its projection (TOO_DEEP), hashing its text', () => {
    // Prepare
    const event = falco('create_configmap.json');
    const text = JSON.stringify({ ...event, requestObject: 0 }).replace(
      '"requestObject":0',
      `"requestObject":${'['.repeat(5_000)}${']'.repeat(5_000)}`,
    );

    // Act
    const mapped = fromKubernetesAuditEvent(text, context);

    // Assess
    expect(mapped.kubernetes).toBeUndefined();
    expect(mapped.id).toBe(`${KUBERNETES_ID_PREFIX}${String(event['auditID'])}`);
    expect((mapped.details as Record<string, unknown>)['kubernetesOmitted']).toEqual({
      reason: 'TOO_DEEP',
      form: 'text',
      sha256: createHash('sha256').update(text, 'utf8').digest('hex'),
      bytes: text.length,
    });
  });
});

describe('Function: fromKubernetesAuditEvents', () => {
  it('prefers the ResponseComplete stage of a request over its earlier stages in the same delivery', () => {
    // Prepare
    const started = falco('exec_pod.json');
    const complete = { ...started, stage: 'ResponseComplete', responseStatus: { code: 101 } };

    // Act
    const events = fromKubernetesAuditEvents(
      [JSON.stringify(started), JSON.stringify(complete), falcoText('create_secret.json')],
      context,
    );

    // Assess
    expect(events.map((e) => e.id)).toEqual([
      'k8s:ca1ed9f4-7bf4-4c85-81a8-1b11253d1ba6',
      'k8s:55a81824-ab56-46c5-8b02-96336f5e78d7',
    ]);
  });

  it('keeps an earlier stage delivered alone, and exact duplicates once', () => {
    // Act
    const events = fromKubernetesAuditEvents(
      [falcoText('exec_pod.json'), falcoText('exec_pod.json')],
      context,
    );

    // Assess
    expect(events.map((e) => e.id)).toEqual(['k8s:ca1ed9f4-7bf4-4c85-81a8-1b11253d1ba6:ResponseStarted']);
  });

  describe('when one Event of the delivery cannot be mapped', () => {
    it('refuses them all, naming the index', () => {
      // Act
      const error = refusalOf(() =>
        fromKubernetesAuditEvents([falcoText('create_secret.json'), falcoText('fal_01_003.json')], context),
      );

      // Assess
      expect(error.reason).toBe('NOT_AN_EVENT');
      expect(error.path).toBe('$[1].kind');
    });
  });
});

describe('Function: kubernetesRequestEventId', () => {
  it.each([
    ['k8s:a-1:ResponseStarted', 'k8s:a-1'],
    ['k8s:a-1:RequestReceived', 'k8s:a-1'],
    ['k8s:a-1:Panic', 'k8s:a-1'],
    ['k8s:a-1', 'k8s:a-1'],
    ['ct:a-1:ResponseStarted', 'ct:a-1:ResponseStarted'],
  ])('names the request of %s: %s', (id, request) => {
    expect(kubernetesRequestEventId(id)).toBe(request);
  });
});

describe('Function: eksClusterArnFromLogGroup', () => {
  it('names the cluster of an EKS control-plane log group', () => {
    // Act and Assess
    expect(eksClusterArnFromLogGroup('/aws/eks/prod/cluster', '123456789012', 'eu-west-1')).toBe(CLUSTER);
    expect(eksClusterArnFromLogGroup('/aws/lambda/x', '123456789012', 'eu-west-1')).toBeUndefined();
    expect(eksClusterArnFromLogGroup('/aws/eks/prod/cluster', 'nope', 'eu-west-1')).toBeUndefined();
  });
});
