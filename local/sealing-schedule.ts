/**
 * When the local stack seals a period, as a formula the banner, the docs and `auditseal download --wait`
 * share (docs/LOCAL-STACK.md, "The heartbeat").
 *
 * A period [S, S + P) may be sealed once its grace G has passed (`lastDuePeriod` in
 * shared/sealing/seal-due-periods.ts). Sealing runs on every ledger stream batch and on the heartbeat.
 * Locally the heartbeat runs every P seconds, `HEARTBEAT_MARGIN_SECONDS` after the grace of the period
 * that just ended, so an idle period is sealed at S + P + G + 1 s (plus the time sealing takes), not a
 * whole period later. An event is therefore in a digest at most P + G + 1 s after it is received.
 */

/** Grace after a period's end before it is sealed, locally (it must exceed the writers' 10 s timeout). */
export const LOCAL_GRACE_SECONDS = 15;

/**
 * How long after the grace the heartbeat runs: timers may fire a little early or late, and a run one
 * millisecond before the grace is over would leave the period to the next heartbeat, a period later.
 */
export const HEARTBEAT_MARGIN_SECONDS = 1;

/** Seconds after each period boundary at which the local heartbeat runs: right after the grace. */
export function localHeartbeatOffsetSeconds(periodSeconds: number, graceSeconds: number): number {
  return (graceSeconds + HEARTBEAT_MARGIN_SECONDS) % periodSeconds;
}

/** Seconds after its end at which an idle period is sealed locally (before the sealing run itself). */
export function localSealingDelaySeconds(graceSeconds: number): number {
  return graceSeconds + HEARTBEAT_MARGIN_SECONDS;
}
