/**
 * G7: the API is PRIVATE, reachable only through the VPC endpoint, IAM-authenticated on every method, and
 * each role may invoke exactly its routes, both by its own policy and by the API's resource policy. The
 * deployed routes are exactly the route table's routes that have a handler.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_ROLES,
  API_ROUTES,
  type ApiRole,
  deployedRoutes,
  executeApiPath,
  pendingRoutes,
  routeName,
} from '../../infra/constructs/api-routes.ts';
import { handlerEntry } from '../../infra/constructs/handler-function.ts';
import {
  actionsOf,
  identityStatementsOfRole,
  logicalIdOf,
  onlyResource,
  renderList,
  resourcesOfType,
  type Statement,
  type Synthesized,
  synthesize,
} from './synthesize.ts';

let synthesized: Synthesized;
let apiId: string;
let endpointId: string;
let policy: Statement[];
beforeAll(() => {
  synthesized = synthesize();
  apiId = logicalIdOf(synthesized.stack.api.api);
  endpointId = logicalIdOf(synthesized.stack.network.apiEndpoint);
  const [, api] = onlyResource(synthesized.json, 'AWS::ApiGateway::RestApi');
  policy = (api.Properties['Policy'] as { Statement: Statement[] }).Statement;
});
afterAll(() => synthesized.dispose());

/** The route names a role may invoke, from the route table. */
function expectedRoutes(role: ApiRole): string[] {
  return deployedRoutes()
    .filter((route) => route.roles.includes(role))
    .map((route) => `${route.method} ${executeApiPath(route.path)}`)
    .sort();
}

describe('Construct: PrivateApi', () => {
  describe('Property: PRIVATE, behind the execute-api VPC endpoint', () => {
    it('is a PRIVATE REST API associated with the VPC endpoint', () => {
      // Assess
      synthesized.template.hasResourceProperties('AWS::ApiGateway::RestApi', {
        EndpointConfiguration: { Types: ['PRIVATE'], VpcEndpointIds: [{ Ref: endpointId }] },
      });
      synthesized.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.execute-api']] },
      });
    });

    it('denies every request that did not come through the VPC endpoint', () => {
      // Assess
      expect(policy).toContainEqual({
        Sid: 'DenyOutsideTheVpcEndpoint',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        Resource: 'execute-api:/*',
        Condition: { StringNotEquals: { 'aws:SourceVpce': [{ Ref: endpointId }] } },
      });
    });

    it('denies every caller but the three roles', () => {
      // Prepare
      const roleArns = API_ROLES.map((role) => ({
        'Fn::GetAtt': [logicalIdOf(synthesized.stack.roles.role(role)), 'Arn'],
      }));

      // Assess
      expect(policy).toContainEqual({
        Sid: 'DenyAllButTheThreeRoles',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        Resource: 'execute-api:/*',
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': roleArns } },
      });
    });

    it('deploys again when the resource policy changes, so that the change takes effect', () => {
      // Prepare
      const deploymentOf = (s: Synthesized) => onlyResource(s.json, 'AWS::ApiGateway::Deployment')[0];

      // Act
      const widened = synthesize({ context: { 'auditseal:clientVpcEndpointIds': 'vpce-0123456789abcdef0' } });

      // Assess
      expect(deploymentOf(widened)).not.toBe(deploymentOf(synthesized));
      const [, api] = onlyResource(widened.json, 'AWS::ApiGateway::RestApi');
      expect(JSON.stringify(api.Properties['Policy'])).toContain('vpce-0123456789abcdef0');
      widened.dispose();
    });

    it('allows only the three roles, only through the VPC endpoint', () => {
      // Prepare
      const allows = policy.filter((s) => s.Effect === 'Allow');

      // Assess
      expect(allows.length).toBeGreaterThan(0);
      for (const statement of allows) {
        expect(statement.Condition).toEqual({ StringEquals: { 'aws:SourceVpce': [{ Ref: endpointId }] } });
        expect(JSON.stringify(statement.Principal)).not.toContain('"*"');
      }
    });
  });

  describe('Property: IAM (SigV4) authorization on every method', () => {
    it('has AWS_IAM on every method', () => {
      // Prepare
      const methods = resourcesOfType(synthesized.json, 'AWS::ApiGateway::Method');

      // Assess
      expect(methods.length).toBe(deployedRoutes().length);
      for (const [, method] of methods) {
        expect(method.Properties['AuthorizationType']).toBe('AWS_IAM');
      }
    });

    it('serves exactly the deployed routes of the route table', () => {
      // Assess
      expect(apiMethods()).toEqual(deployedRoutes().map(routeName).sort());
    });

    it('answers its own 4xx and 5xx with the {code, message} JSON shape', () => {
      // Assess
      for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
        synthesized.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
          ResponseType: type,
          ResponseTemplates: { 'application/json': Match.stringLikeRegexp('^\\{"code":.*,"message":.*\\}$') },
        });
      }
    });
  });

  describe('Property: logged, traced and throttled, never logging bodies', () => {
    it('has access logs, error-level execution logs without data trace, tracing and throttling', () => {
      // Assess
      synthesized.template.hasResourceProperties('AWS::ApiGateway::Stage', {
        AccessLogSetting: {
          DestinationArn: Match.anyValue(),
          Format: Match.stringLikeRegexp('\\$context\\.identity\\.user'),
        },
        TracingEnabled: true,
        MethodSettings: Match.arrayWith([
          Match.objectLike({
            HttpMethod: '*',
            ResourcePath: '/*',
            DataTraceEnabled: false,
            LoggingLevel: 'ERROR',
            ThrottlingRateLimit: Match.anyValue(),
            ThrottlingBurstLimit: Match.anyValue(),
          }),
          Match.objectLike({
            HttpMethod: 'POST',
            ResourcePath: '/~1v1~1events',
            ThrottlingRateLimit: Match.anyValue(),
          }),
        ]),
      });
    });
  });
});

describe('Construct: ApiRoles', () => {
  describe.each(API_ROLES)('Property: the %s role invokes exactly its routes', (role) => {
    it('is assumable by principals of this account only', () => {
      // Prepare
      const [, resource] = Object.entries(synthesized.json.Resources).find(
        ([id]) => id === logicalIdOf(synthesized.stack.roles.role(role)),
      )!;
      const trust = (resource.Properties['AssumeRolePolicyDocument'] as { Statement: Statement[] }).Statement;

      // Assess
      expect(trust).toHaveLength(1);
      expect(renderList((trust[0]!.Principal as { AWS: unknown }).AWS)).toEqual([
        `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:root`,
      ]);
      expect(resource.Properties['RoleName']).toBe(`auditseal-main-${role}`);
    });

    it('may invoke, by its IAM policy, exactly its routes of the route table', () => {
      // Prepare
      const statements = identityStatementsOfRole(
        synthesized.json,
        logicalIdOf(synthesized.stack.roles.role(role)),
      );

      // Assess
      expect(statements.flatMap(actionsOf).every((action) => action === 'execute-api:Invoke')).toBe(true);
      expect(invokedRoutes(statements.flatMap((s) => renderList(s.Resource)))).toEqual(expectedRoutes(role));
    });

    it('gets its invoke permission from one managed policy of its own, and from nothing else', () => {
      // Prepare
      const roleId = logicalIdOf(synthesized.stack.roles.role(role));
      const managed = resourcesOfType(synthesized.json, 'AWS::IAM::ManagedPolicy').filter(([, p]) =>
        ((p.Properties['Roles'] as { Ref: string }[] | undefined) ?? []).some((r) => r.Ref === roleId),
      );
      const inline = resourcesOfType(synthesized.json, 'AWS::IAM::Policy').filter(([, p]) =>
        ((p.Properties['Roles'] as { Ref: string }[] | undefined) ?? []).some((r) => r.Ref === roleId),
      );
      // Assess
      expect(managed).toHaveLength(1);
      expect(inline).toEqual([]);
      expect(synthesized.json.Resources[roleId]!.Properties['Policies']).toBeUndefined();
      const statements = (managed[0]![1].Properties['PolicyDocument'] as { Statement: Statement[] })
        .Statement;
      expect(invokedRoutes(statements.flatMap((s) => renderList(s.Resource)))).toEqual(expectedRoutes(role));
    });

    it('is allowed, by the API resource policy, exactly its routes of the route table', () => {
      // Prepare
      const roleArn = { 'Fn::GetAtt': [logicalIdOf(synthesized.stack.roles.role(role)), 'Arn'] };
      const own = policy.filter(
        (s) => s.Effect === 'Allow' && JSON.stringify(s.Principal) === JSON.stringify({ AWS: roleArn }),
      );

      // Assess
      const resources = own.flatMap((s) => renderList(s.Resource));
      expect(resources.map((r) => r.replace(/^execute-api:\/prod\/(\w+)/, '$1 ')).sort()).toEqual(
        expectedRoutes(role),
      );
    });
  });

  describe('The role matrix on the synthesized policies: every deployed route × every role', () => {
    const cells = deployedRoutes().flatMap((route) =>
      API_ROLES.map((role) => [routeName(route), role, route.roles.includes(role)] as const),
    );
    it.each(cells)(
      '%s as %s: allowed %s by both the role policy and the API policy',
      (name, role, allowed) => {
        // Prepare
        const [method, path] = name.split(' ') as [string, string];
        const wanted = `${method} ${executeApiPath(path)}`;
        const statements = identityStatementsOfRole(
          synthesized.json,
          logicalIdOf(synthesized.stack.roles.role(role)),
        );
        const roleArn = { 'Fn::GetAtt': [logicalIdOf(synthesized.stack.roles.role(role)), 'Arn'] };
        const apiAllows = policy
          .filter(
            (s) => s.Effect === 'Allow' && JSON.stringify(s.Principal) === JSON.stringify({ AWS: roleArn }),
          )
          .flatMap((s) => renderList(s.Resource))
          .map((r) => r.replace(/^execute-api:\/prod\/(\w+)/, '$1 '));
        // Assess
        expect(invokedRoutes(statements.flatMap((s) => renderList(s.Resource))).includes(wanted)).toBe(
          allowed,
        );
        expect(apiAllows.includes(wanted)).toBe(allowed);
      },
    );
  });

  it('gives the writer POST /v1/events and the auditor the digest, head, key and alarm routes', () => {
    // Assess: the table itself, as the brief assigns it.
    const rolesOf = (name: string) => API_ROUTES.find((route) => routeName(route) === name)?.roles;
    expect(rolesOf('POST /v1/events')).toEqual(['writer']);
    expect(rolesOf('PUT /v1/resources/{id}/profile')).toEqual(['writer']);
    for (const name of [
      'GET /v1/digests',
      'GET /v1/digests/{id}',
      'GET /v1/head',
      'GET /v1/keys',
      'GET /v1/alarms',
    ]) {
      expect(rolesOf(name)).toEqual(['auditor']);
    }
    for (const name of ['GET /v1/events', 'GET /v1/events/{id}', 'GET /v1/resources/{id}/profile']) {
      expect(rolesOf(name)).toEqual(['reader']);
    }
  });
});

describe('Module: api-routes', () => {
  it('has every route of the brief, once', () => {
    // Assess
    expect(API_ROUTES.map(routeName).sort()).toEqual(
      [
        'POST /v1/events',
        'GET /v1/events',
        'GET /v1/events/{id}',
        'GET /v1/events/{id}/proof',
        'PUT /v1/resources/{id}/profile',
        'GET /v1/resources/{id}/profile',
        'GET /v1/resources/{id}/timeline',
        'GET /v1/digests',
        'GET /v1/digests/{id}',
        'GET /v1/head',
        'GET /v1/keys',
        'GET /v1/alarms',
        'GET /v1/alerts',
      ].sort(),
    );
  });

  it('names, for every deployed route, a handler file that exports `handler`', () => {
    // Assess
    for (const route of deployedRoutes()) {
      const file = handlerEntry(route.handler);
      expect(existsSync(file), file).toBe(true);
      expect(readFileSync(file, 'utf8')).toMatch(/export (const|async function|function) handler\b/);
    }
  });

  it('lists, in docs/DEPLOY.md, every route that is not deployed yet', () => {
    // Prepare
    const deploy = readFileSync(new URL('../../docs/DEPLOY.md', import.meta.url), 'utf8');
    const section = deploy.slice(deploy.indexOf('## Routes not yet deployed'));

    // Assess
    expect(section.length).toBeGreaterThan(0);
    for (const route of pendingRoutes()) {
      expect(section).toContain(`\`${routeName(route)}\``);
    }
    for (const route of deployedRoutes()) {
      expect(section.split('\n## ')[0]).not.toContain(`\`${routeName(route)}\``);
    }
  });
});

/** `GET /v1/digests/*` for each execute-api ARN of this API's prod stage. */
function invokedRoutes(arns: string[]): string[] {
  const prefix = `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${${apiId}}/prod/`;
  return arns
    .map((arn) => {
      expect(arn.startsWith(prefix), arn).toBe(true);
      const [method, ...path] = arn.slice(prefix.length).split('/');
      return `${method} /${path.join('/')}`;
    })
    .sort();
}

/** `GET /v1/digests/{id}` for each method of the API, from its resource tree. */
function apiMethods(): string[] {
  const resources = Object.fromEntries(resourcesOfType(synthesized.json, 'AWS::ApiGateway::Resource'));
  const pathOf = (parent: unknown): string => {
    const ref = (parent as { Ref?: string }).Ref;
    if (ref === undefined) return '';
    const resource = resources[ref]!;
    return `${pathOf(resource.Properties['ParentId'])}/${String(resource.Properties['PathPart'])}`;
  };
  return resourcesOfType(synthesized.json, 'AWS::ApiGateway::Method')
    .map(
      ([, method]) => `${String(method.Properties['HttpMethod'])} ${pathOf(method.Properties['ResourceId'])}`,
    )
    .sort();
}
