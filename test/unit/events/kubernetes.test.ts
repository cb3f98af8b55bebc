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

function falco(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`${FALCO_DIR}/${name}`, 'utf8')) as Record<string, unknown>;
}

const audit2rbac = readFileSync(sharedDataPath('kubernetes', 'audit2rbac.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.length > 0)
  .map((l) => JSON.parse(l) as Record<string, unknown>);

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
          fromKubernetesAuditEvent(falco(f), context);
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

    it('keeps each Event verbatim, within the stored-event size limit, with a valid common projection', () => {
      for (const f of falcoFiles.filter((name) => name !== 'fal_01_003.json')) {
        // Act
        const event = fromKubernetesAuditEvent(falco(f), context);
        const { kubernetes, ...common } = event;

        // Assess
        expect(kubernetes, f).toEqual(falco(f));
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
    const event = fromKubernetesAuditEvent(falco('exec_pod.json'), context);

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
    expect(fromKubernetesAuditEvent(falco(file), context).actor.type).toBe(type);
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
    const actor = fromKubernetesAuditEvent(event, context).actor;

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
      expect(fromKubernetesAuditEvent(event, context).resource).toEqual({
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
      [
        'a prototype-polluting member',
        (e) => (e['objectRef'] = JSON.parse('{"__proto__":{"x":1}}')),
        'UNSAFE_JSON',
        '$.objectRef.__proto__',
      ],
    ])('refuses %s', (_what, change, reason, path) => {
      // Prepare
      const event = base();
      change(event);

      // Act
      const error = refusalOf(() => fromKubernetesAuditEvent(event, context));

      // Assess
      expect(error.reason).toBe(reason);
      expect(error.path).toBe(path);
    });

    it('refuses hostile JSON in the Event (a forbidden member name)', () => {
      // Prepare
      const event = base();
      event['requestObject'] = JSON.parse('{"metadata":{"__proto__":{"polluted":true}}}');

      // Act
      const error = refusalOf(() => fromKubernetesAuditEvent(event, context));

      // Assess
      expect(error.reason).toBe('UNSAFE_JSON');
      expect(error.path).toBe('$.requestObject.metadata.__proto__');
    });

    it('refuses a context without a cluster ARN', () => {
      // Act and Assess
      expect(refusalOf(() => fromKubernetesAuditEvent(base(), { clusterArn: 'prod' })).reason).toBe(
        'BAD_CLUSTER_ARN',
      );
    });
  });
});

describe('Function: fromKubernetesAuditEvent, Events beyond the stored-event limits', () => {
  const big = () => {
    const event = falco('create_configmap.json');
    event['requestObject'] = {
      data: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'x'.repeat(20_000)])),
    };
    return event;
  };

  it('keeps the projection, says what was omitted, and names the original by its JCS SHA-256', () => {
    // Prepare
    const event = big();
    const full = canonicalBytes(event);

    // Act
    const mapped = fromKubernetesAuditEvent(event, context);

    // Assess
    expect(full.length).toBeGreaterThan(MAX_EVENT_BYTES);
    expect(mapped.kubernetes).toBeUndefined();
    expect(mapped.id).toBe(`${KUBERNETES_ID_PREFIX}${String(event['auditID'])}`);
    expect(mapped.labels).toContain('kubernetes:omitted');
    expect((mapped.details as Record<string, unknown>)['kubernetesOmitted']).toEqual({
      reason: 'TOO_LARGE',
      sha256: createHash('sha256').update(full).digest('hex'),
      bytes: full.length,
    });
    expect(parseAuditEventInput(mapped)).toEqual(mapped);
    expect(mapped.actor.id).toBe((event['user'] as Record<string, unknown>)['username']);
  });

  it.each<[string, (e: Record<string, unknown>) => void, string]>([
    [
      'a string longer than 32,768',
      (e) => (e['requestObject'] = { s: 'y'.repeat(40_000) }),
      'STRING_TOO_LONG',
    ],
    [
      'an object of more than 256 members',
      (e) => (e['requestObject'] = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i]))),
      'TOO_MANY_KEYS',
    ],
    [
      'an array of more than 1,000',
      (e) => (e['requestObject'] = { items: Array(1_001).fill(1) }),
      'ARRAY_TOO_LONG',
    ],
  ])('takes an Event with %s as its projection (%s)', (_, change, reason) => {
    // Prepare
    const event = falco('create_configmap.json');
    change(event);

    // Act
    const mapped = fromKubernetesAuditEvent(event, context);

    // Assess
    expect(mapped.kubernetes).toBeUndefined();
    expect((mapped.details as Record<string, Record<string, unknown>>)['kubernetesOmitted']?.['reason']).toBe(
      reason,
    );
  });
});

describe('Function: fromKubernetesAuditEvents', () => {
  it('prefers the ResponseComplete stage of a request over its earlier stages in the same delivery', () => {
    // Prepare
    const started = falco('exec_pod.json');
    const complete = { ...started, stage: 'ResponseComplete', responseStatus: { code: 101 } };

    // Act
    const events = fromKubernetesAuditEvents([started, complete, falco('create_secret.json')], context);

    // Assess
    expect(events.map((e) => e.id)).toEqual([
      'k8s:ca1ed9f4-7bf4-4c85-81a8-1b11253d1ba6',
      'k8s:55a81824-ab56-46c5-8b02-96336f5e78d7',
    ]);
  });

  it('keeps an earlier stage delivered alone, and exact duplicates once', () => {
    // Act
    const events = fromKubernetesAuditEvents([falco('exec_pod.json'), falco('exec_pod.json')], context);

    // Assess
    expect(events.map((e) => e.id)).toEqual(['k8s:ca1ed9f4-7bf4-4c85-81a8-1b11253d1ba6:ResponseStarted']);
  });

  describe('when one Event of the delivery cannot be mapped', () => {
    it('refuses them all, naming the index', () => {
      // Act
      const error = refusalOf(() =>
        fromKubernetesAuditEvents([falco('create_secret.json'), falco('fal_01_003.json')], context),
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
