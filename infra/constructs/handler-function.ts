/**
 * One Lambda function for one handler file, `functions/<name>.ts`, with the settings every auditseal
 * function shares: Node.js 22 on ARM64, bundled by esbuild (AWS SDK included, so the deployed code is the
 * code that was tested), active tracing, its own log group, inside the private network.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { type HeapProfile, lambdaHeapFlags } from './lambda-heap.ts';
import type { PrivateNetwork } from './private-network.ts';

/** The repository root: `functions/`, `package-lock.json` and `tsconfig.json` live there. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The runtime of every function. */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_22_X;

/** The file of a handler. */
export function handlerEntry(handler: string): string {
  return fileURLToPath(new URL(`../../functions/${handler}.ts`, import.meta.url));
}

export interface HandlerFunctionProps {
  /** `functions/<handler>.ts`, exporting `handler`. */
  readonly handler: string;
  readonly description: string;
  readonly network: PrivateNetwork;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** The V8 heap for that memory (lambda-heap.ts): `throughput` unless the function streams. */
  readonly heap?: HeapProfile;
  readonly reservedConcurrentExecutions?: number;
  readonly logRetention?: logs.RetentionDays;
  /**
   * Folders copied into the bundle after esbuild: `from` an absolute path at synth time, `to` a path
   * relative to the bundle root (`/var/task/<to>` at run time). Data the code reads through
   * `import.meta.url` is not bundled by esbuild, so it is shipped this way and named by configuration.
   */
  readonly copyIntoBundle?: readonly { readonly from: string; readonly to: string }[];
}

/** A Node.js function for one handler file. */
export function handlerFunction(
  scope: Construct,
  id: string,
  props: HandlerFunctionProps,
): nodejs.NodejsFunction {
  const entry = handlerEntry(props.handler);
  if (!existsSync(entry)) {
    throw new Error(`handler file functions/${props.handler}.ts does not exist`);
  }
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const fn = new nodejs.NodejsFunction(scope, id, {
    entry,
    handler: 'handler',
    description: props.description,
    runtime: FUNCTION_RUNTIME,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    ...(props.reservedConcurrentExecutions === undefined
      ? {}
      : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
    tracing: lambda.Tracing.ACTIVE,
    logGroup,
    vpc: props.network.vpc,
    vpcSubnets: props.network.functionSubnets,
    securityGroups: [props.network.functionSecurityGroup],
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: fileURLToPath(new URL('../../package-lock.json', import.meta.url)),
    // The heap Lambda's Node.js runtime gives this memory size, stated (lambda-heap.ts).
    environment: {
      NODE_OPTIONS: ['--enable-source-maps', ...lambdaHeapFlags(props.memorySize, props.heap)].join(' '),
    },
    bundling: {
      format: nodejs.OutputFormat.ESM,
      target: 'node22',
      mainFields: ['module', 'main'],
      // Bundle the AWS SDK too: the versions in package-lock.json are the ones tested.
      externalModules: [],
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      // Some bundled CommonJS dependencies call `require`; ESM has none unless it is made.
      banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      ...(props.copyIntoBundle === undefined || props.copyIntoBundle.length === 0
        ? {}
        : { commandHooks: copyHooks(props.copyIntoBundle) }),
    },
  });
  acknowledgeFunctionDefaults(fn);
  return fn;
}

/** The bundling hooks that copy folders into the bundle (`cp -R`, run where esbuild runs: locally). */
function copyHooks(copies: readonly { from: string; to: string }[]): nodejs.ICommandHooks {
  for (const { from, to } of copies) {
    if (!existsSync(from)) throw new Error(`folder ${from} to copy into the bundle does not exist`);
    if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(to) || to.includes('..')) {
      throw new Error(`bundle path ${to} must be a plain relative path`);
    }
  }
  const quote = (path: string) => `'${path.replace(/'/g, "'\\''")}'`;
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir: string, outputDir: string) =>
      copies.flatMap(({ from, to }) => [
        `mkdir -p ${quote(`${outputDir}/${to}`)}`,
        `cp -R ${quote(`${from}/.`)} ${quote(`${outputDir}/${to}`)}`,
      ]),
  };
}

/** The acknowledgements every function of this kind needs, with the reason each is unavoidable. */
function acknowledgeFunctionDefaults(fn: nodejs.NodejsFunction): void {
  const validations = Validations.of(fn);
  validations.acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      'The AWS managed policy that lets a function write its own logs; it grants nothing on auditseal data.',
  });
  validations.acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
    reason: 'The AWS managed policy Lambda needs to attach the function to the isolated VPC subnets (ENIs).',
  });
  validations.acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'nodejs22.x is the runtime the project targets and tests (Node 22 LTS, supported by Lambda); a runtime ' +
      'upgrade is a deliberate, tested change, not a synth-time default.',
  });
  validations.acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions.',
  });
}
