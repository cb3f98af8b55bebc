/**
 * Test support for the CDK app: synthesizes it the way `cdk synth` does (with `cdk.json`'s context), and
 * reads templates. Bundling and CDK's built-in CloudFormation checks are slow, so property tests skip
 * them; the app test (nag.test.ts) runs both, as the CLI does.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createApp } from '../../infra/app.ts';
import type { AuditSealStack } from '../../infra/stack.ts';

/** The context of `cdk.json`: feature flags and the default parameters. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson: unknown = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));
  const context = (cdkJson as { context?: Record<string, unknown> }).context;
  if (context === undefined) throw new Error('cdk.json has no context');
  return context;
}

export interface SynthesizeOptions {
  /** Extra context, e.g. `{ 'auditseal:retentionDays': 30 }`. */
  readonly context?: Record<string, unknown>;
  /** Bundle the functions with esbuild (default false: the template is the same, the assets are stubs). */
  readonly bundle?: boolean;
  /** Run CDK's built-in CloudFormation checks (default false). */
  readonly builtinValidation?: boolean;
}

export interface Synthesized {
  readonly app: App;
  readonly stack: AuditSealStack;
  readonly template: Template;
  /** The template as JSON. */
  readonly json: CfnTemplate;
  /** Removes the cloud assembly (call it in `afterAll`). */
  readonly dispose: () => void;
}

/** Builds and synthesizes the app once (call it in `beforeAll`, and `dispose` in `afterAll`). */
export function synthesize(options: SynthesizeOptions = {}): Synthesized {
  const context = {
    ...cdkJsonContext(),
    ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    ...options.context,
  };
  const outdir = mkdtempSync(join(tmpdir(), 'auditseal-cdk-'));
  const dispose = () => rmSync(outdir, { recursive: true, force: true });
  try {
    const { app, stack } = createApp({
      context,
      outdir,
      builtinCloudFormationValidation: options.builtinValidation ?? false,
    });
    const template = Template.fromStack(stack);
    return { app, stack, template, json: template.toJSON() as CfnTemplate, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

/** The resources of one type, by logical id. */
export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** The one resource of a type (fails if there are several or none). */
export function onlyResource(template: CfnTemplate, type: string): [string, CfnResource] {
  const found = resourcesOfType(template, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
}

/** A policy statement as CloudFormation renders it. */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** Where a policy statement was found, for messages. */
export interface LocatedStatement {
  readonly where: string;
  readonly statement: Statement;
}

/**
 * Every policy statement of the template: identity policies (inline and managed) and resource policies
 * (key, bucket, queue, topic, table, API, VPC endpoint).
 */
export function allStatements(template: CfnTemplate): LocatedStatement[] {
  const found: LocatedStatement[] = [];
  const add = (where: string, document: unknown) => {
    const statements = (document as { Statement?: Statement[] } | undefined)?.Statement ?? [];
    for (const statement of statements) found.push({ where, statement });
  };
  for (const [id, resource] of Object.entries(template.Resources)) {
    const p = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
        add(id, p['PolicyDocument']);
        break;
      case 'AWS::IAM::Role':
        for (const inline of (p['Policies'] as { PolicyDocument: unknown }[] | undefined) ?? []) {
          add(id, inline.PolicyDocument);
        }
        break;
      case 'AWS::KMS::Key':
        add(id, p['KeyPolicy']);
        break;
      case 'AWS::S3::BucketPolicy':
      case 'AWS::SQS::QueuePolicy':
      case 'AWS::SNS::TopicPolicy':
        add(id, p['PolicyDocument']);
        break;
      case 'AWS::ApiGateway::RestApi':
        add(id, p['Policy']);
        break;
      case 'AWS::EC2::VPCEndpoint':
        add(id, p['PolicyDocument']);
        break;
      case 'AWS::DynamoDB::GlobalTable':
        for (const replica of (p['Replicas'] as { ResourcePolicy?: { PolicyDocument: unknown } }[]) ?? []) {
          add(id, replica.ResourcePolicy?.PolicyDocument);
        }
        break;
    }
  }
  return found;
}

/** A statement's actions as a list. */
export function actionsOf(statement: Statement): string[] {
  const actions = statement.Action ?? [];
  return Array.isArray(actions) ? actions : [actions];
}

/** Whether an IAM action pattern (with `*` and `?`) covers an action. */
export function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
    'i',
  );
  return regex.test(action);
}

/**
 * An intrinsic as a readable string: `{ Ref: X }` → `${X}`, `{ Fn::GetAtt: [X, Arn] }` → `${X.Arn}`,
 * `{ Fn::Join: [sep, parts] }` → the parts joined, `{ Fn::Sub: s }` → `s`.
 */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('Ref' in o) return `\${${String(o['Ref'])}}`;
    if ('Fn::Sub' in o && typeof o['Fn::Sub'] === 'string') return o['Fn::Sub'];
    if ('Fn::GetAtt' in o) return `\${${(o['Fn::GetAtt'] as string[]).join('.')}}`;
    if ('Fn::Join' in o) {
      const [separator, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
  }
  return JSON.stringify(value);
}

/** A value that may be one item or a list, as a list of rendered strings. */
export function renderList(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(render);
}

/** The logical id of the IAM role of a Lambda function. */
export function roleOfFunction(fn: CfnResource): string {
  const role = fn.Properties['Role'] as { 'Fn::GetAtt': [string, string] };
  return role['Fn::GetAtt'][0];
}

/** Every Allow statement of the identity policies attached to a role. */
export function identityStatementsOfRole(template: CfnTemplate, roleId: string): Statement[] {
  const statements: Statement[] = [];
  for (const [, policy] of [
    ...resourcesOfType(template, 'AWS::IAM::Policy'),
    ...resourcesOfType(template, 'AWS::IAM::ManagedPolicy'),
  ]) {
    const roles = (policy.Properties['Roles'] as { Ref: string }[] | undefined) ?? [];
    if (!roles.some((r) => r.Ref === roleId)) continue;
    const document = policy.Properties['PolicyDocument'] as { Statement: Statement[] };
    statements.push(...document.Statement);
  }
  const role = template.Resources[roleId];
  for (const inline of (role?.Properties['Policies'] as { PolicyDocument: { Statement: Statement[] } }[]) ??
    []) {
    statements.push(...inline.PolicyDocument.Statement);
  }
  return statements;
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalIdOf(construct: IConstruct): string {
  const resource = construct instanceof CfnElement ? construct : construct.node.defaultChild;
  if (!(resource instanceof CfnElement))
    throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(resource).resolve(resource.logicalId) as string;
}
