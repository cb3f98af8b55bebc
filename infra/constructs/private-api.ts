/**
 * The PRIVATE REST API (G7): reachable only through the VPC endpoint, every method IAM (SigV4) auth, each
 * role allowed its own routes only. Roles are limited twice, from the same route table: by their IAM
 * policy and by the API's resource policy, which also refuses any caller that is not one of the three
 * roles (an administrator must assume one, and CloudTrail records it) and any request that did not come
 * through an allowed VPC endpoint.
 *
 * Request bodies are validated by the handlers, not by API Gateway models: the handlers are what the local
 * gateway serves too, so the error codes are the same everywhere. API Gateway's own 4xx and 5xx answers
 * are rewritten to the same `{code, message}` shape.
 */
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ApiRoles } from './api-roles.ts';
import {
  API_ROLES,
  type ApiRole,
  type ApiRoute,
  type DeployedRoute,
  deployedRoutes,
  executeApiPath,
  pathParameters,
  routeName,
} from './api-routes.ts';
import type { PrivateNetwork } from './private-network.ts';

/** Requests per second (steady, burst) per method. */
export interface ApiThrottling {
  /** Every method but ingest. */
  readonly rateLimit: number;
  readonly burstLimit: number;
  /** `POST /v1/events`: each request is one KMS Sign, so keep it under the account's Sign quota. */
  readonly ingestRateLimit: number;
  readonly ingestBurstLimit: number;
}

export const DEFAULT_THROTTLING: ApiThrottling = {
  rateLimit: 50,
  burstLimit: 100,
  ingestRateLimit: 250,
  ingestBurstLimit: 500,
};

export interface PrivateApiProps {
  readonly network: PrivateNetwork;
  readonly roles: ApiRoles;
  readonly routes: readonly ApiRoute[];
  /** The function of each deployed route, by handler name. */
  readonly handlers: ReadonlyMap<string, lambda.IFunction>;
  /** VPC endpoints of other VPCs (clients' own `execute-api` endpoints) that may reach the API too. */
  readonly clientVpcEndpointIds?: readonly string[];
  readonly throttling?: ApiThrottling;
  readonly stageName?: string;
}

/** The private API, its stage and the roles' invoke permissions. */
export class PrivateApi extends Construct {
  readonly api: apigw.RestApi;
  readonly stageName: string;

  constructor(scope: Construct, id: string, props: PrivateApiProps) {
    super(scope, id);
    const routes = deployedRoutes(props.routes);
    const throttling = props.throttling ?? DEFAULT_THROTTLING;
    this.stageName = props.stageName ?? 'prod';
    const endpointIds = [props.network.apiEndpoint.vpcEndpointId, ...(props.clientVpcEndpointIds ?? [])];

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: 'auditseal',
      description: 'auditseal private API (IAM auth)',
      endpointConfiguration: {
        types: [apigw.EndpointType.PRIVATE],
        vpcEndpoints: [props.network.apiEndpoint],
      },
      // A resource policy takes effect at the next deployment; CDK's deployment id hashes the whole
      // RestApi, policy included, so a policy change makes one (tested).
      policy: resourcePolicy(this.stageName, routes, props.roles, endpointIds),
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      failOnWarnings: true,
      // API Gateway needs an account-level role to write access and execution logs.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: this.stageName,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Never log bodies: for an audit log, logs are a second, unsigned, mutable copy.
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: throttling.rateLimit,
        throttlingBurstLimit: throttling.burstLimit,
        methodOptions: {
          '/v1/events/POST': {
            throttlingRateLimit: throttling.ingestRateLimit,
            throttlingBurstLimit: throttling.ingestBurstLimit,
          },
        },
      },
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'A PRIVATE API: reachable only through the VPC endpoint, IAM-authenticated and throttled per method; ' +
        'no internet client can reach it for a WAF to filter.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'Path parameters are validated by API Gateway; bodies by the handlers, the same code the local ' +
        'gateway serves, so that every malformed request gets the same {code, message} 4xx everywhere.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers are IAM principals (SigV4, G7), not Cognito users: every method uses AWS_IAM authorization.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: "API Gateway's account-level logging role; the AWS managed policy is the documented one.",
    });

    for (const [responseType, code, message] of [
      [apigw.ResponseType.DEFAULT_4XX, '$context.error.responseType', '$context.error.messageString'],
      [apigw.ResponseType.DEFAULT_5XX, 'INTERNAL', '"internal error"'],
    ] as const) {
      this.api.addGatewayResponse(`${responseType.responseType}Json`, {
        type: responseType,
        templates: { 'application/json': `{"code":"${code}","message":${message}}` },
      });
    }

    const validator = this.api.addRequestValidator('PathParameters', {
      requestValidatorName: 'path-parameters',
      validateRequestParameters: true,
      validateRequestBody: false,
    });
    for (const route of routes) {
      const fn = props.handlers.get(route.handler);
      if (fn === undefined) throw new Error(`no function for handler ${route.handler}`);
      this.api.root
        .resourceForPath(route.path)
        .addMethod(route.method, new apigw.LambdaIntegration(fn, { allowTestInvoke: false }), {
          authorizationType: apigw.AuthorizationType.IAM,
          requestValidator: validator,
          requestParameters: Object.fromEntries(
            pathParameters(route.path).map((name) => [`method.request.path.${name}`, true]),
          ),
        });
    }

    // One managed policy per role, on exactly the method ARNs of its routes (from the route table).
    const policies = new Map<ApiRole, iam.ManagedPolicy>();
    const apiLogicalId = Stack.of(this).resolve((this.api.node.defaultChild as apigw.CfnRestApi).logicalId);
    for (const role of API_ROLES) {
      const own = routes.filter((route) => route.roles.includes(role));
      if (own.length === 0) continue;
      const policy = new iam.ManagedPolicy(this, `${role[0]!.toUpperCase()}${role.slice(1)}Invoke`, {
        description: `auditseal ${role}: invoke exactly ${own.map(routeName).join(', ')}`,
        statements: [
          new iam.PolicyStatement({
            sid: 'InvokeOwnRoutes',
            actions: ['execute-api:Invoke'],
            resources: own.map((route) =>
              this.api.arnForExecuteApi(route.method, executeApiPath(route.path), this.stageName),
            ),
          }),
        ],
        roles: [props.roles.role(role)],
      });
      for (const route of own.filter((r) => pathParameters(r.path).length > 0)) {
        const arn = `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/${this.stageName}/${route.method}${executeApiPath(route.path)}`;
        Validations.of(policy).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${arn}]`,
          reason: `${routeName(route)}: the wildcard is the route's path parameter, exactly as API Gateway names the method.`,
        });
      }
      policies.set(role, policy);
    }
    this.invokePolicies = policies;
  }

  /** The managed policy of each role: `execute-api:Invoke` on exactly its routes. */
  readonly invokePolicies: ReadonlyMap<ApiRole, iam.ManagedPolicy>;

  /** The base URL clients call (inside the VPC, the private DNS name resolves to the endpoint). */
  get url(): string {
    return this.api.url;
  }
}

/** The routes of a role, as resources of the API's own policy (`execute-api:/stage/METHOD/path`). */
export function ownPolicyResources(
  stageName: string,
  routes: readonly DeployedRoute[],
  role: ApiRole,
): string[] {
  return routes
    .filter((route) => route.roles.includes(role))
    .map((route) => `execute-api:/${stageName}/${route.method}${executeApiPath(route.path)}`);
}

function resourcePolicy(
  stageName: string,
  routes: readonly DeployedRoute[],
  roles: ApiRoles,
  endpointIds: readonly string[],
): iam.PolicyDocument {
  const throughEndpoint = { StringEquals: { 'aws:SourceVpce': endpointIds } };
  const statements = API_ROLES.flatMap((role) => {
    const resources = ownPolicyResources(stageName, routes, role);
    if (resources.length === 0) return [];
    return [
      new iam.PolicyStatement({
        sid: `Allow${role[0]!.toUpperCase()}${role.slice(1)}Routes`,
        principals: [new iam.ArnPrincipal(roles.role(role).roleArn)],
        actions: ['execute-api:Invoke'],
        resources,
        conditions: throughEndpoint,
      }),
    ];
  });
  statements.push(
    new iam.PolicyStatement({
      sid: 'DenyOutsideTheVpcEndpoint',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: ['execute-api:/*'],
      conditions: { StringNotEquals: { 'aws:SourceVpce': endpointIds } },
    }),
    new iam.PolicyStatement({
      sid: 'DenyAllButTheThreeRoles',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: ['execute-api:/*'],
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': API_ROLES.map((role) => roles.role(role).roleArn) } },
    }),
  );
  return new iam.PolicyDocument({ statements });
}
