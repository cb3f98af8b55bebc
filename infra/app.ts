/**
 * The CDK app: reads the deployment parameters from the CDK context (`cdk.json`, or `-c auditseal:…=…`),
 * builds the stack, and checks it with cdk-nag's AWS Solutions rules (a rule that is neither satisfied nor
 * acknowledged on its construct fails the synth). Synthesis needs no AWS account: the stack is
 * environment-agnostic and makes no context lookups.
 *
 * Run by the CDK CLI (`cdk.json`: `node --import tsx infra/app.ts`); tests call `createApp`.
 */
import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { z } from 'zod';
import { DEFAULT_GRACE_SECONDS } from '../functions/config.ts';
import { LEDGER_ID_PATTERN } from '../shared/ledger/object-keys.ts';
import { assertPeriodSeconds, DEFAULT_PERIOD_SECONDS } from '../shared/ledger/period.ts';
import { DEFAULT_THROTTLING } from './constructs/private-api.ts';
import { type AuditSealParameters, AuditSealStack } from './stack.ts';

/** Every context key of the app starts with this. */
export const CONTEXT_PREFIX = 'auditseal:';
export const DEFAULT_STACK_NAME = 'AuditSeal';
export const DEFAULT_LEDGER = 'main';

/** A whole number, from JSON (`cdk.json`) or from a string (`-c key=value`). */
const wholeNumber = (min: number, max: number) =>
  z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.number().int().min(min).max(max));

/** A list, from JSON or from a comma-separated string. */
const idList = z
  .union([z.array(z.string()), z.string().transform((s) => s.split(',').filter((id) => id !== ''))])
  .pipe(z.array(z.string().regex(/^vpce-[0-9a-f]{8,17}$/, 'must be a VPC endpoint id (vpce-…)')));

/** A list of strings, from JSON or from a comma-separated string. */
const stringList = (item: z.ZodString) =>
  z
    .union([z.array(z.string()), z.string().transform((s) => s.split(',').filter((v) => v !== ''))])
    .pipe(z.array(item).max(100));

const contextSchema = z.strictObject({
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
    .default(DEFAULT_STACK_NAME),
  ledger: z.string().regex(LEDGER_ID_PATTERN, 'must be 1-63 chars of a-z 0-9 -').default(DEFAULT_LEDGER),
  periodSeconds: wholeNumber(60, 86_400)
    .refine(dividesADay, 'must divide a day (86400)')
    .default(DEFAULT_PERIOD_SECONDS),
  graceSeconds: wholeNumber(1, 3600).default(DEFAULT_GRACE_SECONDS),
  retentionDays: wholeNumber(1, 36_500).optional(),
  tableName: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,255}$/)
    .optional(),
  keyAlias: z
    .string()
    .regex(/^alias\/[A-Za-z0-9/_-]{1,250}$/)
    .optional(),
  alarmEmail: z.email().optional(),
  clientVpcEndpointIds: idList.optional(),
  vpcCidr: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,3}){3}\/(1[6-9]|2[0-4])$/)
    .optional(),
  ingestRateLimit: wholeNumber(1, 10_000).default(DEFAULT_THROTTLING.ingestRateLimit),
  readRateLimit: wholeNumber(1, 10_000).default(DEFAULT_THROTTLING.rateLimit),
  /** A folder of the operator's Sigma rules, copied into the detection function. */
  detectionRulesFolder: z.string().min(1).max(4096).optional(),
  detectionRulesBucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/)
    .optional(),
  detectionRulesPrefix: z.string().max(1024).optional(),
  detectionDisabledRules: stringList(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/)).optional(),
  kubernetesLogGroups: stringList(z.string().regex(/^[.\-_/#A-Za-z0-9]{1,512}$/)).optional(),
});

/** The app's settings: the stack name and the stack's parameters. */
export interface AppSettings {
  readonly stackName: string;
  readonly parameters: AuditSealParameters;
}

/**
 * Parses the `auditseal:*` context keys; an unknown key or a bad value is an error naming the key.
 * @example settingsFromContext({ 'auditseal:ledger': 'prod', 'auditseal:periodSeconds': '900' })
 */
export function settingsFromContext(context: Record<string, unknown>): AppSettings {
  const own = Object.fromEntries(
    Object.entries(context)
      .filter(([key]) => key.startsWith(CONTEXT_PREFIX))
      .map(([key, value]) => [key.slice(CONTEXT_PREFIX.length), value]),
  );
  const parsed = contextSchema.safeParse(own);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `unknown key(s) ${i.keys.map((key) => CONTEXT_PREFIX + key).join(', ')}`
        : `${CONTEXT_PREFIX}${i.path.join('.')}: ${i.message}`,
    );
    throw new Error(`invalid auditseal context: ${problems.join('; ')}`);
  }
  const c = parsed.data;
  if (c.detectionRulesPrefix !== undefined && c.detectionRulesBucket === undefined) {
    throw new Error(
      `invalid auditseal context: ${CONTEXT_PREFIX}detectionRulesPrefix needs ${CONTEXT_PREFIX}detectionRulesBucket`,
    );
  }
  return {
    stackName: c.stackName,
    parameters: {
      ledger: c.ledger,
      periodSeconds: c.periodSeconds,
      graceSeconds: c.graceSeconds,
      ...(c.retentionDays === undefined ? {} : { retentionDays: c.retentionDays }),
      ...(c.tableName === undefined ? {} : { tableName: c.tableName }),
      ...(c.keyAlias === undefined ? {} : { keyAlias: c.keyAlias }),
      ...(c.alarmEmail === undefined ? {} : { alarmEmail: c.alarmEmail }),
      ...(c.clientVpcEndpointIds === undefined ? {} : { clientVpcEndpointIds: c.clientVpcEndpointIds }),
      ...(c.vpcCidr === undefined ? {} : { vpcCidr: c.vpcCidr }),
      ...(c.detectionRulesFolder || c.detectionRulesBucket || c.detectionDisabledRules
        ? {
            detectionRules: {
              ...(c.detectionRulesFolder === undefined ? {} : { folder: c.detectionRulesFolder }),
              ...(c.detectionRulesBucket === undefined ? {} : { bucketName: c.detectionRulesBucket }),
              ...(c.detectionRulesPrefix === undefined ? {} : { prefix: c.detectionRulesPrefix }),
              ...(c.detectionDisabledRules === undefined ? {} : { disabled: c.detectionDisabledRules }),
            },
          }
        : {}),
      ...(c.kubernetesLogGroups === undefined ? {} : { kubernetesLogGroups: c.kubernetesLogGroups }),
      throttling: {
        rateLimit: c.readRateLimit,
        burstLimit: c.readRateLimit * 2,
        ingestRateLimit: c.ingestRateLimit,
        ingestBurstLimit: c.ingestRateLimit * 2,
      },
    },
  };
}

export interface CreateAppOptions {
  /** Context for the app (tests pass `cdk.json`'s); the CLI passes its own through the environment. */
  readonly context?: Record<string, unknown>;
  readonly outdir?: string;
  /** CDK's own CloudFormation checks at synth (default true, as in `cdk synth`); slow, so tests may skip them. */
  readonly builtinCloudFormationValidation?: boolean;
}

/** The app, its one stack, and the cdk-nag checks. */
export function createApp(options: CreateAppOptions = {}): { app: App; stack: AuditSealStack } {
  const app = new App({
    ...(options.context === undefined ? {} : { context: options.context }),
    ...(options.outdir === undefined ? {} : { outdir: options.outdir }),
    ...(options.builtinCloudFormationValidation === undefined
      ? {}
      : { builtinCloudFormationValidation: options.builtinCloudFormationValidation }),
  });
  const settings = settingsFromContext(app.node.getAllContext());
  const stack = new AuditSealStack(app, settings.stackName, {
    description: 'auditseal: immutable, signed, offline-verifiable audit log',
    parameters: settings.parameters,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

function dividesADay(seconds: number): boolean {
  try {
    assertPeriodSeconds(seconds);
    return true;
  } catch {
    return false;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  createApp().app.synth();
}
