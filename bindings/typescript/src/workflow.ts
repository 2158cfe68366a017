// Durable workflows seen from TypeScript: how a run is named, the handle
// that startWorkflow returns, and the typed errors of a run that ended
// without succeeding. The calls themselves are methods of Client
// (client.ts); the rules are proto/README.md's "Durable workflows".
//
// Workflow code (the function a workflow worker replays) is written in C or
// Python today; TypeScript starts, steers and inspects runs, and its Worker
// serves their activities, which are ordinary tasks.
import { Code, WorkflowState } from "./gen/cairn_pb.js";
import type { Entry, WorkflowRun } from "./gen/cairn_pb.js";
import { DeadlineExceededError, InvalidArgumentError } from "./errors.js";
import type { Client, Data } from "./client.js";

/** The workflow queue of a run started without one (as libcairn's). */
export const DEFAULT_WORKFLOW_QUEUE = "workflows";

/**
 * RunRef names a run: a run id (bigint or number), a workflow id (any
 * string, digits included), or an object with either, such as what
 * startWorkflow returns or a WorkflowRun; its run id wins when not 0.
 */
export type RunRef = bigint | number | string | { runId?: bigint | number; workflowId?: string };

/** The run's name as the workflow rpcs take it. */
export function runName(ref: RunRef): { runId: bigint; workflowId: string } {
  const bad = () => new InvalidArgumentError(
    `name a run by its run id (a positive integer) or its workflow id (a string), not ${String(ref)}`);
  if (typeof ref === "string") {
    if (ref === "") throw bad();
    return { runId: 0n, workflowId: ref };
  }
  if (typeof ref === "number" || typeof ref === "bigint") {
    if (typeof ref === "number" && !Number.isSafeInteger(ref)) throw bad();
    const runId = BigInt(ref);
    if (runId <= 0n) throw bad();
    return { runId, workflowId: "" };
  }
  if (ref !== null && typeof ref === "object") {
    if (ref.runId !== undefined && ref.runId !== 0 && ref.runId !== 0n) return runName(ref.runId);
    if (ref.workflowId) return runName(ref.workflowId);
  }
  throw bad();
}

/** What a workflow run may be filtered by (ListWorkflows). */
export interface WorkflowFilter {
  type?: string;
  /** WorkflowState.UNSPECIFIED or nothing: any state. */
  state?: WorkflowState;
  queue?: string;
  /** Only the runs marked stuck (their code could not be replayed). */
  stuck?: boolean;
}

export interface StartWorkflowOptions {
  /**
   * Yours, unique while the run is kept: a second start with it starts
   * nothing and returns that run with created false. Default: one the
   * server makes up.
   */
  workflowId?: string;
  /** Where its workflow worker leases it (default "workflows"). */
  queue?: string;
}

export interface ResultOptions {
  /** Give up after this long (ms) with DeadlineExceededError; default: wait for ever. */
  timeoutMs?: number;
}

/** How workflowResult hands the result over: bytes, UTF-8 text or parsed JSON. */
export type ResultAs = "bytes" | "text" | "json";

/**
 * WorkflowError is thrown by workflowResult for a run that ended without
 * succeeding; `run` is the run as it ended, `state` says how, and the
 * message carries the run's error (a failure, the cancellation's reason,
 * the operator's reason for terminating it).
 */
export class WorkflowError extends Error {
  readonly run: WorkflowRun;

  constructor(run: WorkflowRun) {
    const state = WorkflowState[run.state]?.toLowerCase() ?? `state ${run.state}`;
    super(`workflow run ${run.runId} (${run.workflowId}) ${state}${run.error ? `: ${run.error}` : ""}`);
    this.run = run;
    this.name = new.target.name;
  }

  get state(): WorkflowState { return this.run.state; }
  get runId(): bigint { return this.run.runId; }
  get workflowId(): string { return this.run.workflowId; }
  /** The run's error as the server has it. */
  get error(): string { return this.run.error; }
}
/** The workflow code ended the run as FAILED. */
export class WorkflowFailedError extends WorkflowError {}
/** The run was canceled and its code ended it as CANCELED. */
export class WorkflowCanceledError extends WorkflowError {}
/** The run was ended at once by terminateWorkflow. */
export class WorkflowTerminatedError extends WorkflowError {}

/** workflowErrorFor makes the error of a finished run that did not succeed. */
export function workflowErrorFor(run: WorkflowRun): WorkflowError {
  switch (run.state) {
    case WorkflowState.FAILED: return new WorkflowFailedError(run);
    case WorkflowState.CANCELED: return new WorkflowCanceledError(run);
    case WorkflowState.TERMINATED: return new WorkflowTerminatedError(run);
    default: return new WorkflowError(run);
  }
}

// One AwaitWorkflow long-poll waits at most this long: below cairnd's
// --max-wait default (60 s), so that the server's cap, not a client-side
// time limit, is what ends a slice.
const AWAIT_SLICE_MS = 30_000;

/**
 * awaitEnd long-polls AwaitWorkflow, slice after slice, until the run has
 * finished (and returns it) or timeoutMs has passed (DeadlineExceededError).
 */
export async function awaitEnd(c: Client, ref: RunRef, timeoutMs: number | undefined): Promise<WorkflowRun> {
  if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
    throw new InvalidArgumentError(`timeoutMs ${timeoutMs}: not a duration`);
  }
  const end = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  for (;;) {
    const wait = Math.max(0, Math.min(AWAIT_SLICE_MS, end - Date.now()));
    const { run, done } = await c.awaitWorkflow(ref, wait);
    if (done) return run;
    if (Date.now() >= end) {
      throw new DeadlineExceededError(Code.DEADLINE_EXCEEDED,
        `workflow run ${run.runId} (${run.workflowId}) is still running after ${timeoutMs} ms`, "AwaitWorkflow");
    }
  }
}

const decoder = new TextDecoder();

/** decodeResult hands a result over as asked. */
export function decodeResult(b: Uint8Array, as: ResultAs): unknown {
  if (as === "bytes") return b;
  const text = decoder.decode(b);
  return as === "text" ? text : JSON.parse(text);
}

/**
 * WorkflowHandle is a run as startWorkflow returns it (or client.workflow
 * names one): its ids, and the calls that steer it.
 */
export class WorkflowHandle {
  readonly client: Client;
  readonly runId: bigint;
  readonly workflowId: string;
  /** False when the workflow id already had a run (this one). */
  readonly created: boolean;

  constructor(client: Client, runId: bigint, workflowId: string, created = false) {
    this.client = client;
    this.runId = runId;
    this.workflowId = workflowId;
    this.created = created;
  }

  /** result waits for the run's result; see Client.workflowResult. */
  result(opts?: ResultOptions & { as?: "bytes" }): Promise<Uint8Array>;
  result(opts: ResultOptions & { as: "text" }): Promise<string>;
  result<T = unknown>(opts: ResultOptions & { as: "json" }): Promise<T>;
  result(opts: ResultOptions & { as?: ResultAs } = {}): Promise<unknown> {
    return this.client.workflowResult(this, opts as ResultOptions & { as: "json" });
  }

  signal(name: string, payload?: Data) { return this.client.signalWorkflow(this, name, payload); }
  cancel(reason?: string) { return this.client.cancelWorkflow(this, reason); }
  terminate(reason?: string) { return this.client.terminateWorkflow(this, reason); }
  get(): Promise<WorkflowRun> { return this.client.getWorkflow(this); }
  /** The run's whole log, page after page. */
  entries(): AsyncGenerator<Entry> { return this.client.workflowEntries(this); }
}
