/**
 * Why a Sigma rule was refused when it was loaded. A rule is either loaded whole and runs exactly as
 * docs/DETECTIONS.md describes, or it is refused with one of these errors; it never loads in a form
 * that silently matches nothing.
 */

/** Closed set of refusal codes (docs/DETECTIONS.md, "Refusals"). */
export type SigmaRuleErrorCode =
  /** The file is larger than `MAX_RULE_FILE_BYTES`. */
  | 'RULE_TOO_LARGE'
  /** The file is not well-formed YAML, or holds several documents, anchors or aliases. */
  | 'YAML_SYNTAX'
  /** Not a Sigma detection rule: a required member is missing or has the wrong type. */
  | 'NOT_A_RULE'
  /** Valid Sigma that this evaluator does not implement; `feature` names it. */
  | 'UNSUPPORTED_FEATURE'
  /** Invalid Sigma, which pySigma refuses too: a bad regular expression or CIDR, an unknown identifier, … */
  | 'INVALID_RULE'
  /** The logsource names no source auditseal takes in. */
  | 'UNKNOWN_LOGSOURCE'
  /** A field that records of the rule's logsource never have. */
  | 'UNKNOWN_FIELD'
  /** A value that can never match its field, given the field's type in the source's records. */
  | 'NEVER_MATCHES'
  /** Another rule of the same set has the same id. */
  | 'DUPLICATE_RULE_ID';

/**
 * A rule that cannot be loaded. `path` locates the problem inside the rule (`detection.selection.status`,
 * `detection.condition`); `source` names the file once the loader knows it. Messages quote rule text,
 * which is operator-supplied configuration, never event data.
 */
export class SigmaRuleError extends Error {
  override readonly name: string = 'SigmaRuleError';
  /** The file or object the rule came from, set by the loader. */
  source: string | undefined;
  constructor(
    readonly code: SigmaRuleErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Valid Sigma that this evaluator does not implement. `feature` is its Sigma name: a modifier
 * (`|windash`), `keyword search`, `aggregation`, `correlation rule`, …
 */
export class UnsupportedSigmaFeatureError extends SigmaRuleError {
  override readonly name = 'UnsupportedSigmaFeatureError';
  constructor(
    readonly feature: string,
    path: string,
    message: string,
  ) {
    super('UNSUPPORTED_FEATURE', path, message);
  }
}
