/**
 * The ledger table (docs/LEDGER-TABLE.md), built from the shared definition. G1 on AWS has three layers:
 * the code only sends conditional puts; no role of the service is granted an action that can change or
 * delete an item; and the table's resource policy denies those actions to every principal. A change made
 * anyway (after editing the policy) shows up on the stream as a MODIFY or REMOVE: a tamper alarm (G5).
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ledgerTableProps } from '../resources/cdk-props.ts';
import type { LedgerTableDefinition } from '../resources/definitions.ts';

/** Item actions that can change or delete an existing item: denied to everyone by the table policy. */
export const LEDGER_DENIED_ACTIONS = [
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
] as const;

/**
 * Reads: strongly consistent gets, period queries and id lookups. `TransactGetItems` needs no more
 * (its IAM action is GetItem).
 */
export const LEDGER_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'] as const;

/**
 * Appends: a conditional `PutItem`. `TransactWriteItems` has no IAM action of its own: a `Put` in a
 * transaction is authorized as `dynamodb:PutItem` and a `ConditionCheck` as `dynamodb:ConditionCheckItem`.
 */
export const LEDGER_APPEND_ACTIONS = ['dynamodb:PutItem', 'dynamodb:ConditionCheckItem'] as const;

/** Searches: `Query` on the search indexes only (docs/LEDGER-TABLE.md, "Search indexes"). */
export const LEDGER_SEARCH_ACTIONS = ['dynamodb:Query'] as const;

export interface LedgerTableProps {
  readonly definition: LedgerTableDefinition;
}

/** The put-only ledger table and its stream. */
export class LedgerTable extends Construct {
  readonly table: dynamodb.TableV2;
  readonly #indexNames: readonly string[];

  constructor(scope: Construct, id: string, props: LedgerTableProps) {
    super(scope, id);
    this.#indexNames = props.definition.globalSecondaryIndexes.map((index) => index.indexName);
    this.table = new dynamodb.TableV2(this, 'Table', {
      ...ledgerTableProps(props.definition),
      resourcePolicy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'DenyItemChangesG1',
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: [...LEDGER_DENIED_ACTIONS],
            // In a table's resource policy, `*` is the table itself.
            resources: ['*'],
          }),
        ],
      }),
    });
  }

  get tableName(): string {
    return this.table.tableName;
  }

  /** Lets the grantee read items (get, batch get, query) of the table itself, not its indexes. */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.#grant(grantee, [...LEDGER_READ_ACTIONS], [this.table.tableArn]);
  }

  /** Lets the grantee read and add items; never change or delete one. */
  grantAppend(grantee: iam.IGrantable): iam.Grant {
    return this.#grant(grantee, [...LEDGER_READ_ACTIONS, ...LEDGER_APPEND_ACTIONS], [this.table.tableArn]);
  }

  /** Lets the grantee query the search indexes, each named (no `index/*` wildcard). */
  grantSearch(grantee: iam.IGrantable): iam.Grant {
    return this.#grant(
      grantee,
      [...LEDGER_SEARCH_ACTIONS],
      this.#indexNames.map((name) => `${this.table.tableArn}/index/${name}`),
    );
  }

  #grant(grantee: iam.IGrantable, actions: string[], resourceArns: string[]): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions, resourceArns });
  }
}
