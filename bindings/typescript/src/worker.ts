// A Worker runs a handler for each task of some queues, like BullMQ's:
// `concurrency` handlers at once, heartbeats in the background while they
// run, and a graceful close that finishes what it holds.
//
// One poller long-polls Lease for as many tasks as there are idle slots and
// never holds more than it can start. A slot that finishes a task completes
// it and leases the queue's next due task in the same request (lease_next),
// so that a busy queue costs one round trip per task. Each running task is
// heartbeated when a third of its lease's remaining time has passed.
import { EventEmitter } from "node:events";
import { hostname } from "node:os";

import { Code } from "./gen/cairn_pb.js";
import type { LeasedTask, Task } from "./gen/cairn_pb.js";
import {
  CairnError,
  FailedPreconditionError,
  InvalidArgumentError,
  LeaseLostError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnimplementedError,
} from "./errors.js";
import { Client, type Data } from "./client.js";

/** Throw it from a handler to fail the task for good, without retries. */
export class NonRetryableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NonRetryableError";
  }
}

const decoder = new TextDecoder();

/** Job is one leased task, as a handler sees it. */
export class Job {
  readonly task: Task;
  readonly leaseToken: string;
  /** When the lease ends unless a heartbeat moves it (server ms). */
  deadlineMs: number;
  /** Aborted when the task is canceled or its lease is lost: stop then. */
  readonly signal: AbortSignal;
  private readonly abortCtl = new AbortController();
  private readonly client: Client;

  constructor(client: Client, leased: LeasedTask) {
    this.client = client;
    this.task = leased.task!;
    this.leaseToken = leased.leaseToken;
    this.deadlineMs = Number(leased.deadlineMs);
    this.signal = this.abortCtl.signal;
  }

  get id(): bigint { return this.task.id; }
  get queue(): string { return this.task.queue; }
  get payload(): Uint8Array { return this.task.payload; }
  /** 1 for the first attempt. */
  get attempt(): number { return this.task.attempt; }
  get maxAttempts(): number { return this.task.maxAttempts; }
  /** The details of the previous attempt's last heartbeat. */
  get previousDetails(): Uint8Array { return this.task.details; }
  /** The payload as UTF-8 text. */
  text(): string { return decoder.decode(this.task.payload); }
  /** The payload as JSON. */
  json<T = unknown>(): T { return JSON.parse(this.text()) as T; }

  /**
   * heartbeat keeps the lease now (the worker also does it on its own) and
   * records details, which a later attempt sees; true if cancel was asked.
   */
  async heartbeat(details?: Data): Promise<boolean> {
    try {
      const r = await this.client.heartbeat(this.id, this.leaseToken, details);
      this.deadlineMs = Number(r.deadlineMs);
      if (r.cancelRequested) this.abort("canceled");
      return r.cancelRequested;
    } catch (e) {
      if (e instanceof LeaseLostError) this.abort(e.message);
      throw e;
    }
  }

  /** @internal */
  abort(why: string): void {
    if (!this.signal.aborted) this.abortCtl.abort(new Error(why));
  }
}

export type Handler = (job: Job) => unknown;

export interface WorkerOptions {
  /** Handlers running at once (default 1). */
  concurrency?: number;
  /** How long one Lease long-poll waits (ms, default 5000); close() may wait that long. */
  waitMs?: number;
  /** Overrides the tasks' heartbeat timeout for this worker's leases. */
  leaseTimeoutMs?: number;
  /** Shown in the tasks and their history (default host:pid). */
  workerId?: string;
}

// Errors after which leasing again cannot help: run() rejects with them.
const FATAL = [InvalidArgumentError, UnauthenticatedError, PermissionDeniedError, UnimplementedError, FailedPreconditionError];
const MAX_BACKOFF_MS = 5000;
const REPORT_TRIES = 4;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Worker events: "completed" (job, result bytes), "failed" (job, error),
 * "lost" (job, LeaseLostError: the outcome was not recorded), "error"
 * (an rpc that failed and will be tried again).
 */
export class Worker extends EventEmitter {
  readonly queues: string[];
  readonly concurrency: number;
  private readonly client: Client;
  private readonly handler: Handler;
  private readonly opts: Required<Omit<WorkerOptions, "leaseTimeoutMs">> & { leaseTimeoutMs?: number };
  private running = 0;
  private closing = false;
  private offsetMs = 0; // server clock minus ours
  private slotFreed: (() => void) | undefined;
  private done: Promise<void> | undefined;
  private idle: (() => void) | undefined;

  constructor(client: Client, queues: string | string[], handler: Handler, opts: WorkerOptions = {}) {
    super();
    this.client = client;
    this.queues = typeof queues === "string" ? [queues] : queues;
    this.handler = handler;
    this.concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
    this.opts = {
      concurrency: this.concurrency,
      waitMs: opts.waitMs ?? 5000,
      leaseTimeoutMs: opts.leaseTimeoutMs,
      workerId: opts.workerId ?? `${hostname()}:${process.pid}`,
    };
    // An "error" event without a listener would throw: a worker that
    // retries does not want that.
    this.on("error", () => {});
  }

  /** How many handlers are running now. */
  get active(): number {
    return this.running;
  }

  /**
   * run leases and handles tasks until close(); it resolves once every
   * task it leased is finished, and rejects on an error that leasing again
   * cannot cure (a bad token, an unknown queue name...).
   */
  run(): Promise<void> {
    this.done ??= this.serve();
    return this.done;
  }

  /** close stops leasing and waits for the running handlers to finish. */
  async close(): Promise<void> {
    this.closing = true;
    this.slotFreed?.();
    await (this.done ?? Promise.resolve()).catch(() => {});
  }

  private async serve(): Promise<void> {
    const t0 = Date.now();
    const p = await this.client.ping();
    this.offsetMs = Number(p.serverTimeMs) - (t0 + Date.now()) / 2;
    let backoff = 100;
    try {
      while (!this.closing) {
        if (this.running >= this.concurrency) {
          await new Promise<void>((r) => (this.slotFreed = r));
          continue;
        }
        let leased: LeasedTask[];
        try {
          leased = await this.client.lease(this.queues, {
            max: this.concurrency - this.running,
            waitMs: this.opts.waitMs,
            workerId: this.opts.workerId,
            leaseTimeoutMs: this.opts.leaseTimeoutMs,
            // A worker that dies gives its tasks back within the
            // server's grace period, not their heartbeat timeout.
            releaseOnDisconnect: true,
          });
          backoff = 100;
        } catch (e) {
          if (FATAL.some((c) => e instanceof c)) throw e;
          this.emit("error", e);
          await sleep(backoff);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          continue;
        }
        for (const t of leased) void this.slot(new Job(this.client, t));
      }
    } finally {
      if (this.running > 0) await new Promise<void>((r) => (this.idle = r));
    }
  }

  // slot runs job, then the tasks that its completions lease next.
  private async slot(first: Job): Promise<void> {
    this.running++;
    let job: Job | undefined = first;
    try {
      while (job !== undefined) job = await this.runOne(job);
    } finally {
      this.running--;
      const f = this.slotFreed;
      this.slotFreed = undefined;
      f?.();
      if (this.running === 0) this.idle?.();
    }
  }

  private async runOne(job: Job): Promise<Job | undefined> {
    const stop = this.heartbeats(job);
    let result: Uint8Array | undefined;
    let failure: unknown;
    try {
      const out = await this.handler(job);
      result = out instanceof Uint8Array ? out : new TextEncoder().encode(
        out === undefined || out === null ? "" : typeof out === "string" ? out : JSON.stringify(out));
    } catch (e) {
      failure = e ?? new Error("handler failed");
    } finally {
      stop();
    }
    if (failure === undefined) {
      const next = await this.report(job, () => this.client.complete(job.id, job.leaseToken, result, {
        leaseNext: !this.closing, workerId: this.opts.workerId, leaseTimeoutMs: this.opts.leaseTimeoutMs,
      }));
      if (next.ok) this.emit("completed", job, result);
      return next.ok && next.value !== undefined ? new Job(this.client, next.value) : undefined;
    }
    const e = failure as Error;
    const nonRetryable = e instanceof NonRetryableError;
    const text = nonRetryable ? e.message || "NonRetryableError"
      : `${e.name ?? "Error"}: ${e.message ?? String(e)}`;
    const r = await this.report(job, () => this.client.fail(job.id, job.leaseToken, text, { nonRetryable }));
    if (r.ok) this.emit("failed", job, e);
    return undefined;
  }

  // report makes a Complete or Fail, again after an error that a later
  // try may not meet (repeating one that took effect answers OK).
  private async report<T>(job: Job, call: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
    for (let i = 1; ; i++) {
      try {
        return { ok: true, value: await call() };
      } catch (e) {
        if (e instanceof LeaseLostError) {
          job.abort(e.message);
          this.emit("lost", job, e);
          return { ok: false };
        }
        this.emit("error", e);
        if (i >= REPORT_TRIES || FATAL.some((c) => e instanceof c)) return { ok: false };
        await sleep(100 * i);
      }
    }
  }

  // heartbeats keeps job's lease until the returned function is called.
  private heartbeats(job: Job): () => void {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const schedule = () => {
      const left = job.deadlineMs - (Date.now() + this.offsetMs);
      timer = setTimeout(beat, Math.max(10, left / 3));
    };
    const beat = async () => {
      if (stopped) return;
      try {
        await job.heartbeat();
      } catch (e) {
        if (e instanceof LeaseLostError) {
          this.emit("lost", job, e);
          return;
        }
        if (!(e instanceof CairnError) || e.code !== Code.CANCELLED) this.emit("error", e);
      }
      if (!stopped) schedule();
    };
    schedule();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }
}
