// The Cairn client: one typed method per rpc of service Queue, on top of
// `call`, which works for every rpc the generated code describes (a new rpc
// in cairn.proto is callable as soon as the code is regenerated).
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import type * as tls from "node:tls";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";

import {
  Code,
  Queue,
  RequestSchema,
  ResponseSchema,
  TaskState,
  WorkflowState,
} from "./gen/cairn_pb.js";
import type {
  BackupResponse,
  BatchResult,
  EnqueueResult,
  Event,
  FailResponse,
  HeartbeatBatchResult,
  HeartbeatResponse,
  LeasedTask,
  ListResponse,
  PingResponse,
  QueueSettings,
  QueueStats,
  RetryPolicy,
  Task,
  TaskSpec,
  Entry,
  ListWorkflowsResponse,
  SignalWorkflowResponse,
  WorkflowHistoryResponse,
  WorkflowRun,
} from "./gen/cairn_pb.js";
import { CairnError, InternalError, InvalidArgumentError, errorFor } from "./errors.js";
import { SpReqTransport, type TransportOptions } from "./transport.js";
import { DEFAULT_URL, parseUrl } from "./url.js";
import {
  DEFAULT_WORKFLOW_QUEUE,
  WorkflowHandle,
  awaitEnd,
  decodeResult,
  runName,
  workflowErrorFor,
} from "./workflow.js";
import type {
  ResultAs,
  ResultOptions,
  RunRef,
  StartWorkflowOptions,
  WorkflowFilter,
} from "./workflow.js";

/** The rpcs of service Queue, by their generated (lowerCamel) names. */
export type Rpc = keyof typeof Queue.method;
type In<K extends Rpc> = (typeof Queue.method)[K]["input"];
type Out<K extends Rpc> = (typeof Queue.method)[K]["output"];

// The rpcs that change nothing. Every other one carries a request id, so
// that the server can tell a resent copy from a new request: an rpc added
// later is treated as mutating until it is listed here.
const READ_ONLY = new Set([
  "Get", "List", "Stats", "Await", "History", "Ping", "GetQueue", "ListQueues",
  "GetWorkflow", "ListWorkflows", "WorkflowHistory", "AwaitWorkflow",
]);

export interface TlsOptions {
  /** CA certificates (PEM) that signed the server's, or caFile. */
  ca?: string | Buffer;
  caFile?: string;
  /** A client certificate and its key (PEM), for servers that require one. */
  cert?: string | Buffer;
  certFile?: string;
  key?: string | Buffer;
  keyFile?: string;
  /** The name the server's certificate must carry (default: the URL's host). */
  servername?: string;
}

export interface ClientOptions {
  /** The auth token, when cairnd runs with --token-file. */
  token?: string;
  /** Time limit of each call in ms (default 10000); a long-poll adds its wait. */
  timeoutMs?: number;
  /** For tls+tcp:// URLs. */
  tls?: TlsOptions;
  /** Connection details: handshake timeout, reconnect pauses, reply limit. */
  transport?: TransportOptions;
}

export interface CallOptions {
  /** Overrides the client's timeoutMs for this call. */
  timeoutMs?: number;
  /** Time the server may wait on purpose (a long-poll), added to the limit. */
  extraWaitMs?: number;
}

/** What a payload, a result or heartbeat details may be given as. */
export type Data = Uint8Array | string | null | undefined | object | number | boolean;

/** Everything of a task but its queue and payload, as Enqueue takes it. */
export interface EnqueueOptions {
  priority?: number;
  delayMs?: number;
  /** Not before this instant (a Date, or ms since the epoch). */
  runAt?: Date | number;
  maxAttempts?: number;
  retry?: { initialBackoffMs?: number; multiplier?: number; maxBackoffMs?: number };
  heartbeatTimeoutMs?: number;
  startToCloseTimeoutMs?: number;
  /** Idempotency key: one task per key and queue while it is retained. */
  key?: string;
}

export interface TaskInput extends EnqueueOptions {
  queue: string;
  payload?: Data;
}

export interface LeaseOptions {
  max?: number;
  /** Long-poll: wait up to this long for a task (ms). */
  waitMs?: number;
  workerId?: string;
  leaseTimeoutMs?: number;
  /** Bind the leases to this connection: the server releases them soon
   * after it closes, unless a heartbeat comes first. Workers set it. */
  releaseOnDisconnect?: boolean;
}

export type Id = bigint | number | string;

const encoder = new TextEncoder();

/** toBytes turns a payload into bytes: bytes as they are, a string as
 * UTF-8, nothing as nothing, anything else as JSON. */
export function toBytes(d: Data): Uint8Array {
  if (d === undefined || d === null) return new Uint8Array(0);
  if (d instanceof Uint8Array) return d;
  if (typeof d === "string") return encoder.encode(d);
  return encoder.encode(JSON.stringify(d));
}

function big(v: number | bigint | undefined, what: string): bigint {
  if (v === undefined) return 0n;
  if (typeof v === "bigint") return v;
  if (!Number.isFinite(v)) throw new InvalidArgumentError(`${what}: not a number`);
  return BigInt(Math.trunc(v));
}

function id(v: Id): bigint {
  try {
    return BigInt(v);
  } catch {
    throw new InvalidArgumentError(`task id ${String(v)}: not an integer`);
  }
}

// Random bytes for request ids, drawn 4 KiB at a time: one getrandom per
// call was a tenth of the client's CPU under load. No byte is used twice.
let pool = Buffer.alloc(0);
let poolAt = 0;

/** A request id: the time in ms (6 bytes) then 10 random bytes, in hex,
 * as libcairn makes them (ids of one moment sit together in the server's
 * table of them). */
function requestId(): string {
  if (poolAt + 10 > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const b = Buffer.allocUnsafe(16);
  b.writeUIntBE(Date.now(), 0, 6);
  pool.copy(b, 6, poolAt, poolAt + 10);
  poolAt += 10;
  return b.toString("hex");
}

function specOf(t: TaskInput): MessageInitShape<typeof import("./gen/cairn_pb.js").TaskSpecSchema> {
  const runAt = t.runAt instanceof Date ? t.runAt.getTime() : t.runAt;
  const spec: Partial<TaskSpec> = {
    queue: t.queue,
    payload: toBytes(t.payload),
    priority: t.priority ?? 0,
    delayMs: big(t.delayMs, "delayMs"),
    runAtMs: big(runAt, "runAt"),
    maxAttempts: t.maxAttempts ?? 0,
    heartbeatTimeoutMs: big(t.heartbeatTimeoutMs, "heartbeatTimeoutMs"),
    startToCloseTimeoutMs: big(t.startToCloseTimeoutMs, "startToCloseTimeoutMs"),
    idempotencyKey: t.key ?? "",
  };
  if (t.retry !== undefined) {
    spec.retry = {
      initialBackoffMs: big(t.retry.initialBackoffMs, "retry.initialBackoffMs"),
      multiplier: t.retry.multiplier ?? 0,
      maxBackoffMs: big(t.retry.maxBackoffMs, "retry.maxBackoffMs"),
    } as RetryPolicy;
  }
  return spec as MessageInitShape<typeof import("./gen/cairn_pb.js").TaskSpecSchema>;
}

function tlsOptions(t: TlsOptions | undefined): tls.ConnectionOptions | undefined {
  if (t === undefined) return undefined;
  const file = (path: string | undefined, what: string) => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (e) {
      throw new InvalidArgumentError(`cannot read the TLS ${what} ${path}: ${(e as Error).message}`);
    }
  };
  const o: tls.ConnectionOptions = {
    ca: t.ca ?? file(t.caFile, "CA file"),
    cert: t.cert ?? file(t.certFile, "certificate"),
    key: t.key ?? file(t.keyFile, "key"),
  };
  if ((o.cert === undefined) !== (o.key === undefined)) {
    throw new InvalidArgumentError("a TLS client certificate needs its key, and a key its certificate");
  }
  if (t.servername !== undefined) o.servername = t.servername;
  return o;
}

export class Client {
  /** The server's URL. */
  readonly url: string;
  /** Time limit of each call in ms. */
  timeoutMs: number;
  private readonly token: string;
  private readonly transport: SpReqTransport;

  /**
   * Client connects to cairnd at url (tcp://, tls+tcp:// or ipc://) when the
   * first call is made, and again whenever the connection breaks. It throws
   * InvalidArgumentError for a URL or option that cannot work.
   */
  constructor(url: string = DEFAULT_URL, opts: ClientOptions = {}) {
    const addr = parseUrl(url);
    if (addr.scheme !== "tls+tcp" && opts.tls !== undefined) {
      throw new InvalidArgumentError(`TLS options given for ${url}: use tls+tcp://`);
    }
    this.url = url;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.token = opts.token ?? "";
    this.transport = new SpReqTransport(addr, {
      ...opts.transport,
      tls: tlsOptions(opts.tls) ?? opts.transport?.tls,
    });
  }

  /** close fails the calls still waiting (CANCELLED) and disconnects. */
  close(): void {
    this.transport.close();
  }

  /**
   * call makes one rpc of service Queue by its generated name ("enqueue",
   * "lease", ...): it sends the request in an envelope and returns the
   * method's response, or throws the CairnError of the reply's status.
   */
  async call<K extends Rpc>(rpc: K, input: MessageInitShape<In<K>>, opts: CallOptions = {}): Promise<MessageShape<Out<K>>> {
    const m = Queue.method[rpc];
    if (m === undefined) throw new InvalidArgumentError(`service Queue has no rpc ${String(rpc)}`);
    const inSchema = m.input as DescMessage;
    const outSchema = m.output as DescMessage;
    const total = Math.max(1, (opts.timeoutMs ?? this.timeoutMs) + Math.max(0, opts.extraWaitMs ?? 0));
    const env = toBinary(RequestSchema, create(RequestSchema, {
      method: m.name,
      body: toBinary(inSchema, create(inSchema, input as MessageInitShape<DescMessage>)),
      token: this.token,
      deadlineMs: BigInt(total),
      requestId: READ_ONLY.has(m.name) ? "" : requestId(),
    }));
    let reply: Uint8Array;
    try {
      reply = await this.transport.request(env, total);
    } catch (e) {
      if (e instanceof CairnError) throw errorFor(e.code, `${m.name}: ${e.message}`, m.name);
      throw e;
    }
    let resp;
    try {
      resp = fromBinary(ResponseSchema, reply);
    } catch (e) {
      throw new InternalError(Code.INTERNAL,
        `malformed reply to ${m.name} from ${this.url}: ${(e as Error).message}`, m.name);
    }
    if (resp.code !== Code.OK) throw errorFor(resp.code, resp.message, m.name);
    try {
      return fromBinary(outSchema, resp.body) as MessageShape<Out<K>>;
    } catch (e) {
      throw new InternalError(Code.INTERNAL,
        `malformed ${m.name} reply from ${this.url}: ${(e as Error).message}`, m.name);
    }
  }

  /** enqueue adds one task; created is false when key already had one. */
  async enqueue(queue: string, payload?: Data, opts: EnqueueOptions = {}): Promise<EnqueueResult> {
    const [r] = await this.enqueueMany([{ ...opts, queue, payload }]);
    return r;
  }

  /** enqueueMany adds tasks atomically: all of them or none. */
  async enqueueMany(tasks: TaskInput[]): Promise<EnqueueResult[]> {
    const r = await this.call("enqueue", { tasks: tasks.map(specOf) });
    if (r.results.length !== tasks.length) {
      throw new InternalError(Code.INTERNAL, `Enqueue: ${r.results.length} results for ${tasks.length} tasks`, "Enqueue");
    }
    return r.results;
  }

  /** lease takes up to max due tasks of the queues, waiting up to waitMs. */
  async lease(queues: string | string[], opts: LeaseOptions = {}): Promise<LeasedTask[]> {
    const r = await this.call("lease", {
      queues: typeof queues === "string" ? [queues] : queues,
      maxTasks: opts.max ?? 1,
      waitMs: big(opts.waitMs, "waitMs"),
      workerId: opts.workerId ?? "",
      leaseTimeoutMs: big(opts.leaseTimeoutMs, "leaseTimeoutMs"),
      releaseOnDisconnect: opts.releaseOnDisconnect ?? false,
    }, { extraWaitMs: opts.waitMs });
    return r.tasks;
  }

  /** heartbeat keeps a lease; the answer says whether cancel was asked. */
  heartbeat(task: Id, leaseToken: string, details?: Data): Promise<HeartbeatResponse> {
    return this.call("heartbeat", { id: id(task), leaseToken, details: toBytes(details) });
  }

  /**
   * complete makes the task SUCCEEDED with result. With leaseNext it also
   * leases the queue's next due task in the same commit and returns it.
   */
  async complete(task: Id, leaseToken: string, result?: Data,
    opts: { leaseNext?: boolean; workerId?: string; leaseTimeoutMs?: number } = {}): Promise<LeasedTask | undefined> {
    const r = await this.call("complete", {
      id: id(task), leaseToken, result: toBytes(result),
      leaseNext: opts.leaseNext ?? false,
      workerId: opts.workerId ?? "",
      leaseTimeoutMs: big(opts.leaseTimeoutMs, "leaseTimeoutMs"),
    });
    return r.next;
  }

  /** fail ends an attempt: retried after the backoff, or FAILED. */
  fail(task: Id, leaseToken: string, error: string,
    opts: { nonRetryable?: boolean; retryDelayMs?: number } = {}): Promise<FailResponse> {
    return this.call("fail", {
      id: id(task), leaseToken, error,
      nonRetryable: opts.nonRetryable ?? false,
      retryDelayMs: big(opts.retryDelayMs, "retryDelayMs"),
    });
  }

  /** release gives a lease back without running the task: PENDING and
   * due at once, the attempt not counted (with countAttempt, a retryable
   * failure under the retry policy). Returns the task's new state. */
  async release(task: Id, leaseToken: string,
    opts: { reason?: string; countAttempt?: boolean } = {}): Promise<TaskState> {
    return (await this.call("release", {
      id: id(task), leaseToken, reason: opts.reason ?? "",
      countAttempt: opts.countAttempt ?? false,
    })).state;
  }

  /** cancel: CANCELED at once when pending; ACTIVE (flagged) when leased. */
  async cancel(task: Id): Promise<TaskState> {
    return (await this.call("cancel", { id: id(task) })).state;
  }

  /** retry puts a FAILED or CANCELED task back to PENDING. */
  async retry(task: Id): Promise<Task> {
    return must((await this.call("retry", { id: id(task) })).task, "Retry");
  }

  async get(task: Id): Promise<Task> {
    return must((await this.call("get", { id: id(task) })).task, "Get");
  }

  /** list pages through a queue's tasks: pass nextAfterId as afterId. */
  list(queue: string, opts: { state?: TaskState; limit?: number; afterId?: Id } = {}): Promise<ListResponse> {
    return this.call("list", {
      queue, state: opts.state ?? TaskState.TASK_STATE_UNSPECIFIED,
      limit: opts.limit ?? 0, afterId: opts.afterId === undefined ? 0n : id(opts.afterId),
    });
  }

  /** stats counts tasks per state of one queue, or of every queue. */
  async stats(queue = ""): Promise<QueueStats[]> {
    return (await this.call("stats", { queue })).queues;
  }

  /**
   * setQueue changes a queue's settings (limits and task defaults): the
   * fields named (paused, max_active, rate, max_attempts, retry,
   * heartbeat_timeout_ms, start_to_close_timeout_ms), or all when none
   * is; create configures a queue that has no tasks yet. Returns all of
   * them after the change.
   */
  async setQueue(
    settings: MessageInitShape<typeof import("./gen/cairn_pb.js").QueueSettingsSchema>,
    opts: { fields?: string[]; create?: boolean } = {},
  ): Promise<QueueSettings> {
    const r = await this.call("setQueue", { settings, fields: opts.fields ?? [], create: opts.create ?? false });
    return must(r.settings, "SetQueue");
  }

  /** getQueue returns a queue's settings (zero: none). */
  async getQueue(queue: string): Promise<QueueSettings> {
    return must((await this.call("getQueue", { queue })).settings, "GetQueue");
  }

  /** listQueues returns the settings of every configured queue. */
  async listQueues(): Promise<QueueSettings[]> {
    return (await this.call("listQueues", {})).queues;
  }

  /**
   * awaitResult waits up to waitMs for the task to end; done is false when
   * the wait ended first.
   */
  async awaitResult(task: Id, waitMs: number): Promise<{ task: Task; done: boolean }> {
    const r = await this.call("await", { id: id(task), waitMs: big(waitMs, "waitMs") }, { extraWaitMs: waitMs });
    return { task: must(r.task, "Await"), done: r.done };
  }

  async history(task: Id): Promise<Event[]> {
    return (await this.call("history", { id: id(task) })).events;
  }

  ping(): Promise<PingResponse> {
    return this.call("ping", {});
  }

  /** completeBatch completes many tasks in one commit, a result each. */
  async completeBatch(items: { id: Id; leaseToken: string; result?: Data }[]): Promise<BatchResult[]> {
    return (await this.call("completeBatch", {
      tasks: items.map((t) => ({ id: id(t.id), leaseToken: t.leaseToken, result: toBytes(t.result) })),
    })).results;
  }

  async heartbeatBatch(items: { id: Id; leaseToken: string; details?: Data }[]): Promise<HeartbeatBatchResult[]> {
    return (await this.call("heartbeatBatch", {
      tasks: items.map((t) => ({ id: id(t.id), leaseToken: t.leaseToken, details: toBytes(t.details) })),
    })).results;
  }

  /** backup writes an online copy of the store in the server's backup directory. */
  backup(file: string): Promise<BackupResponse> {
    return this.call("backup", { file });
  }

  // ---- Durable workflows (docs/WORKFLOWS.md). A run is named by a RunRef:
  // its run id, its workflow id, or what startWorkflow returned.

  /**
   * startWorkflow starts a run of the workflow type with input; a
   * workflowId that already has a run starts nothing and answers that run
   * (created false).
   */
  async startWorkflow(type: string, input?: Data, opts: StartWorkflowOptions = {}): Promise<WorkflowHandle> {
    const r = await this.call("startWorkflow", {
      type, input: toBytes(input), workflowId: opts.workflowId ?? "",
      queue: opts.queue ?? DEFAULT_WORKFLOW_QUEUE,
    });
    return new WorkflowHandle(this, r.runId, r.workflowId, r.created);
  }

  /** workflow names an existing run, for its handle's calls (no rpc). */
  workflow(run: RunRef): WorkflowHandle {
    const n = runName(run);
    return new WorkflowHandle(this, n.runId, n.workflowId);
  }

  /**
   * signalWorkflow sends the signal name to the run: it completes the
   * run's oldest wait for it (deliveredSeq is that entry), or is kept in
   * the run's inbox for the next wait (deliveredSeq 0). A finished run
   * refuses it (FailedPreconditionError).
   */
  async signalWorkflow(run: RunRef, name: string, payload?: Data): Promise<SignalWorkflowResponse> {
    return this.call("signalWorkflow", { ...runName(run), name, payload: toBytes(payload) });
  }

  /**
   * cancelWorkflow asks the run to wind down: its waits end canceled and
   * its code decides how to finish. Returns the run's state (RUNNING while
   * it winds down); repeating it changes nothing.
   */
  async cancelWorkflow(run: RunRef, reason = ""): Promise<WorkflowState> {
    return (await this.call("cancelWorkflow", { ...runName(run), reason })).state;
  }

  /** terminateWorkflow ends the run at once as TERMINATED, reason as its error. */
  async terminateWorkflow(run: RunRef, reason = ""): Promise<WorkflowState> {
    return (await this.call("terminateWorkflow", { ...runName(run), reason })).state;
  }

  async getWorkflow(run: RunRef): Promise<WorkflowRun> {
    return must((await this.call("getWorkflow", runName(run))).run, "GetWorkflow", "run");
  }

  /**
   * listWorkflows returns a page of the runs that pass filter, in run id
   * order, after the run id `after`: pass nextAfterRunId (0n on the last
   * page) as the next page's `after`.
   */
  async listWorkflows(filter: WorkflowFilter & { limit?: number; after?: Id } = {}): Promise<ListWorkflowsResponse> {
    return this.call("listWorkflows", {
      type: filter.type ?? "", state: filter.state ?? WorkflowState.UNSPECIFIED,
      queue: filter.queue ?? "", stuck: filter.stuck ?? false, limit: filter.limit ?? 0,
      afterRunId: filter.after === undefined ? 0n : id(filter.after),
    });
  }

  /** workflows iterates over every run that passes filter, page after page. */
  async *workflows(filter: WorkflowFilter & { pageSize?: number } = {}): AsyncGenerator<WorkflowRun> {
    let after = 0n;
    do {
      const page = await this.listWorkflows({ ...filter, limit: filter.pageSize, after });
      yield* page.runs;
      after = page.nextAfterRunId;
    } while (after !== 0n);
  }

  /**
   * workflowHistory returns a page of the run's log, with inputs and the
   * attempts of each activity's task: up to limit entries after afterSeq;
   * nextAfterSeq (0 on the last page) is the next page's afterSeq.
   */
  async workflowHistory(run: RunRef, opts: { afterSeq?: number; limit?: number } = {}): Promise<WorkflowHistoryResponse> {
    return this.call("workflowHistory", { ...runName(run), afterSeq: opts.afterSeq ?? 0, limit: opts.limit ?? 0 });
  }

  /** workflowEntries iterates over the run's whole log, page after page. */
  async *workflowEntries(run: RunRef, opts: { pageSize?: number } = {}): AsyncGenerator<Entry> {
    let afterSeq = 0;
    do {
      const page = await this.workflowHistory(run, { afterSeq, limit: opts.pageSize });
      yield* page.entries;
      afterSeq = page.nextAfterSeq;
    } while (afterSeq !== 0);
  }

  /**
   * awaitWorkflow waits up to waitMs (one long-poll) for the run to
   * finish; done is false when the wait ended first.
   */
  async awaitWorkflow(run: RunRef, waitMs: number): Promise<{ run: WorkflowRun; done: boolean }> {
    const r = await this.call("awaitWorkflow", { ...runName(run), waitMs: big(waitMs, "waitMs") },
      { extraWaitMs: waitMs });
    return { run: must(r.run, "AwaitWorkflow", "run"), done: r.done };
  }

  /**
   * workflowResult waits until the run has finished (long-polls, for as
   * long as opts.timeoutMs, default for ever) and returns its result, as
   * bytes or, with opts.as, as text or parsed JSON. A run that failed, was
   * canceled or terminated throws WorkflowFailedError,
   * WorkflowCanceledError or WorkflowTerminatedError (all WorkflowError,
   * with the run); a timeout that ends first, DeadlineExceededError.
   */
  workflowResult(run: RunRef, opts?: ResultOptions & { as?: "bytes" }): Promise<Uint8Array>;
  workflowResult(run: RunRef, opts: ResultOptions & { as: "text" }): Promise<string>;
  workflowResult<T = unknown>(run: RunRef, opts: ResultOptions & { as: "json" }): Promise<T>;
  async workflowResult(run: RunRef, opts: ResultOptions & { as?: ResultAs } = {}): Promise<unknown> {
    const end = await awaitEnd(this, run, opts.timeoutMs);
    if (end.state !== WorkflowState.SUCCEEDED) throw workflowErrorFor(end);
    return decodeResult(end.result, opts.as ?? "bytes");
  }
}

function must<T>(v: T | undefined, method: string, what = "task"): T {
  if (v === undefined) throw new InternalError(Code.INTERNAL, `${method}: the reply has no ${what}`, method);
  return v;
}
