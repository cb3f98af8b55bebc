/**
 * The app as `cdk synth` builds it: functions bundled, CDK's built-in CloudFormation checks on, cdk-nag's
 * AWS Solutions checks registered. Synthesis must succeed offline with no unacknowledged finding (error or
 * warning), every acknowledgement must sit on its own construct with a reason, and every bundle must load.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Token, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../infra/app.ts';
import { SHIPPED_RULES_IN_BUNDLE } from '../../infra/constructs/detections.ts';
import { loadDefaultRules, loadRuleFiles, readRuleFolder } from '../../shared/detect/load-rules.ts';
import { cdkJsonContext, logicalIdOf, type Synthesized, synthesize } from './synthesize.ts';

let synthesized: Synthesized;
let assembly: CloudAssembly;
beforeAll(() => {
  synthesized = synthesize({ bundle: true, builtinValidation: true });
  assembly = synthesized.app.synth();
});
afterAll(() => synthesized.dispose());

describe('App: cdk synth', () => {
  describe('Property: synthesis needs no AWS account', () => {
    it('is environment-agnostic and made no context lookups', () => {
      // Assess
      expect(Token.isUnresolved(synthesized.stack.account)).toBe(true);
      expect(Token.isUnresolved(synthesized.stack.region)).toBe(true);
      expect(assembly.manifest.missing ?? []).toEqual([]);
    });
  });

  describe('Property: no unacknowledged AWS Solutions finding', () => {
    it('reports no violation, error or warning, from any validation plugin', () => {
      // Prepare
      const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
        pluginReports: { pluginName: string; violations?: unknown[] }[];
      };

      // Assess
      for (const plugin of report.pluginReports) {
        expect(plugin.violations ?? [], plugin.pluginName).toEqual([]);
      }
    });

    it('finds nothing when the rules are run directly on the tree', () => {
      // Act
      const result = new AwsSolutionsChecks().validateScope(synthesized.app);

      // Assess
      expect(result.violations.map((v) => `${v.ruleName} ${v.violatingResources[0]?.constructPath}`)).toEqual(
        [],
      );
      expect(result.success).toBe(true);
    });

    describe('when a rule is broken and not acknowledged', () => {
      it('fails the synth, naming the rule', () => {
        // Prepare
        const { app, stack } = createApp({
          context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] },
          outdir: join(synthesized.app.outdir, 'broken'),
          builtinCloudFormationValidation: false,
        });
        new s3.CfnBucket(stack, 'UnloggedBucket');

        // Act / Assess
        expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
      });
    });
  });

  describe('Property: every acknowledgement sits on its construct, with a reason', () => {
    it('acknowledges no AWS Solutions rule on the app or the stack', () => {
      // Assess
      for (const scope of [synthesized.app, synthesized.stack]) {
        const rules = scope.node.metadata
          .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((m) => Object.keys(m.data as Record<string, string>));
        expect(rules.filter((rule) => rule.includes('AwsSolutions'))).toEqual([]);
      }
    });

    it('gives every acknowledgement a reason of at least one sentence', () => {
      // Prepare
      const acknowledged = synthesized.app.node
        .findAll()
        .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
        .flatMap((m) => Object.entries(m.data as Record<string, string>))
        .filter(([rule]) => rule.includes('AwsSolutions'));

      // Assess
      expect(acknowledged.length).toBeGreaterThan(0);
      for (const [rule, reason] of acknowledged) {
        expect(reason.length, rule).toBeGreaterThanOrEqual(40);
      }
    });
  });

  describe('Property: every function is bundled and loads', () => {
    it('bundles each function into an ES module that exports `handler`', () => {
      // Prepare
      const functions = synthesized.stack.node
        .findAll()
        .filter((c) => c instanceof lambda.CfnFunction && c.handler === 'index.handler');
      const bundles = readdirSync(assembly.directory)
        .filter((name) => name.startsWith('asset.'))
        .map((name) => join(assembly.directory, name))
        .filter((dir) => existsSync(join(dir, 'index.mjs')));

      // Act: a plain Node process, as Lambda loads them (not through the test runner's transforms).
      const script = `for (const f of JSON.parse(process.argv[1])) console.log(typeof (await import(f)).handler);`;
      const urls = bundles.map((dir) => pathToFileURL(join(dir, 'index.mjs')).href);
      const loaded = execFileSync(
        process.execPath,
        ['--input-type=module', '-e', script, JSON.stringify(urls)],
        {
          encoding: 'utf8',
          env: { PATH: process.env['PATH'] ?? '', AWS_REGION: 'eu-west-1' },
        },
      );

      // Assess
      expect(functions.length).toBeGreaterThan(0);
      expect(bundles).toHaveLength(functions.length);
      expect(loaded.trim().split('\n')).toEqual(bundles.map(() => 'function'));
    });

    it('ships the Sigma rules in the detection bundle, where its configuration says, and loads them', () => {
      // Prepare: the one bundle with rules beside it, and the directory its environment names.
      const detection = readdirSync(assembly.directory)
        .filter((name) => name.startsWith('asset.'))
        .map((name) => join(assembly.directory, name))
        .filter((dir) => existsSync(join(dir, SHIPPED_RULES_IN_BUNDLE)));
      const env = (
        synthesized.json.Resources[logicalIdOf(synthesized.stack.detections.function)]!.Properties[
          'Environment'
        ] as { Variables: Record<string, string> }
      ).Variables;
      const inBundle = (dir: string) => env['AUDITSEAL_RULES_DIR']!.replace('/var/task', dir);
      // Cold start of the bundled handler in a plain Node process, on a batch with no event row.
      const run = (rulesDir: string) =>
        execFileSync(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const { handler } = await import(process.argv[1]);
             console.log(JSON.stringify(await handler({ Records: [] }, { awsRequestId: 'r' })));`,
            pathToFileURL(join(detection[0]!, 'index.mjs')).href,
          ],
          {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
            env: {
              PATH: process.env['PATH'] ?? '',
              AWS_REGION: 'eu-west-1',
              POWERTOOLS_LOG_LEVEL: 'CRITICAL',
              AUDITSEAL_TABLE: 'auditseal-ledger',
              AUDITSEAL_LEDGER: 'main',
              AUDITSEAL_KMS_KEY_ID: 'alias/auditseal-signing',
              AUDITSEAL_RULES_DIR: rulesDir,
            },
          },
        );

      // Act
      const shipped = loadRuleFiles(readRuleFolder(inBundle(detection[0]!)));
      const answer = run(inBundle(detection[0]!));

      // Assess
      expect(detection).toHaveLength(1);
      expect(shipped.rules.map((r) => r.id)).toEqual(loadDefaultRules().rules.map((r) => r.id));
      expect(JSON.parse(answer)).toEqual({ batchItemFailures: [] });
      // The setting is what the bundle reads: a folder that is not there fails the cold start.
      expect(() => run(join(detection[0]!, 'no-such-rules'))).toThrow();
    });
  });
});
