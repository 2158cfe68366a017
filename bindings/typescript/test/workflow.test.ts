// The workflow calls against a real cairnd. The runs' code is the C test
// flows (tests/wf_flows.c) in wf_test_worker, a workflow worker of its own
// process; their activities are done by this package's Worker. Runs are
// started, signalled, canceled, terminated, listed and awaited from here.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { join } from "node:path";

import {
  Client,
  DeadlineExceededError,
  EntryKind,
  EntryStatus,
  FailedPreconditionError,
  InvalidArgumentError,
  NonRetryableError,
  NotFoundError,
  TaskState,
  Worker,
  WorkflowCanceledError,
  WorkflowError,
  WorkflowFailedError,
  WorkflowState,
  WorkflowTerminatedError,
  type Job,
  type WorkflowHandle,
} from "../src/index.js";
import { Server, findBuilt, queue, sleep } from "./helpers.js";

const text = (b: Uint8Array) => Buffer.from(b).toString();

// The activities of the test flows: each answers "<what>:<input>";
// reserve fails for good on an input that starts with "fail"; slow runs
// until its task is canceled.
async function activity(job: Job): Promise<string> {
  const input = job.text();
  switch (job.queue) {
    case "reserve":
      if (input.startsWith("fail")) throw new NonRetryableError("out of stock");
      return `reserved:${input}`;
    case "slow":
      await new Promise((r) => job.signal.addEventListener("abort", r, { once: true }));
      throw new Error("stopped");
    case "charge":
      return `charged:${input}`;
    default:
      return `shipped:${input}`;
  }
}

describe("workflows against cairnd", () => {
  const srv = new Server();
  let c: Client;
  let flows: ChildProcess | undefined;
  let tasks: Worker | undefined;
  let taskClient: Client | undefined;
  before(async () => {
    await srv.start();
    c = new Client(srv.url, { timeoutMs: 5000 });
  });
  after(async () => {
    await tasks?.close();
    taskClient?.close();
    if (flows !== undefined && flows.exitCode === null) {
      const gone = new Promise((r) => flows!.once("exit", r));
      flows.kill("SIGTERM");
      await gone;
    }
    c.close();
    await srv.cleanup();
  });

  // workers starts, once, the C workflow worker of the test flows (its
  // order timer 50 ms) and a TypeScript worker for their activities.
  function workers(): void {
    if (flows !== undefined) return;
    const log = openSync(join(srv.dir, "wf_test_worker.log"), "a");
    flows = spawn(findBuilt("WF_TEST_WORKER", "tests/wf_test_worker"), [srv.url, "--timer", "50"],
      { stdio: ["ignore", log, log] });
    taskClient = new Client(srv.url);
    tasks = new Worker(taskClient, ["reserve", "charge", "ship", "slow"], activity,
      { concurrency: 8, waitMs: 500 });
    void tasks.run();
  }

  async function until<T>(what: string, get: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await get();
      if (v !== undefined) return v;
      if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
      await sleep(20);
    }
  }

  // waiting returns the run's pending signal wait, once its code has
  // reached it.
  const waiting = (h: WorkflowHandle) => until("the signal wait", async () => {
    for await (const e of h.entries()) {
      if (e.kind === EntryKind.SIGNAL && e.status === EntryStatus.PENDING) return e;
    }
    return undefined;
  });

  test("a workflow id starts one run; a signal sent before the run waits is kept for its wait", async () => {
    // No workflow worker runs yet: the run cannot have reached its wait.
    const wid = `approval-${process.pid}`;
    const h = await c.startWorkflow("approval", "book-1", { workflowId: wid });
    assert.ok(h.created && h.runId > 0n);
    assert.equal(h.workflowId, wid);
    const again = await c.startWorkflow("approval", "book-2", { workflowId: wid });
    assert.deepEqual([again.runId, again.created], [h.runId, false]);
    const s = await c.signalWorkflow(wid, "approve", "express");
    assert.deepEqual([s.runId, s.deliveredSeq], [h.runId, 0]);
    const run = await c.getWorkflow(wid);
    assert.equal(run.state, WorkflowState.RUNNING);
    assert.equal(text(run.input), "book-1");
    assert.equal(run.type, "approval");
    assert.equal(run.queue, "workflows");

    workers();
    assert.equal(await c.workflowResult(h.runId, { as: "text", timeoutMs: 10_000 }), "approved:shipped:express");
    const log = [];
    for await (const e of c.workflowEntries(h)) log.push(e);
    assert.deepEqual(log.map((e) => [EntryKind[e.kind], e.name, EntryStatus[e.status], text(e.result)]), [
      ["ACTIVITY", "reserve", "COMPLETED", "reserved:book-1"],
      ["SIGNAL", "approve", "COMPLETED", "express"],
      ["ACTIVITY", "ship", "COMPLETED", "shipped:express"],
    ]);
    await assert.rejects(c.signalWorkflow(h, "approve", "late"), FailedPreconditionError);
  });

  test("a signal to a run that waits completes the wait", async () => {
    workers();
    const h = await c.startWorkflow("approval", "book-3");
    assert.ok(h.workflowId.length > 0, "the server names the run");
    const wait = await waiting(h);
    const s = await h.signal("approve", "standard");
    assert.equal(s.deliveredSeq, wait.seq);
    assert.equal(await h.result({ as: "text", timeoutMs: 10_000 }), "approved:shipped:standard");
  });

  test("result of a run that succeeds, and its history page by page", async () => {
    workers();
    const h = await c.startWorkflow("order", "o-1", { workflowId: `order-${process.pid}` });
    const r = await c.workflowResult(h, { timeoutMs: 10_000 });
    assert.ok(r instanceof Uint8Array);
    assert.equal(text(r), "reserved:o-1|charged:o-1|receipt:o-1|shipped:o-1");

    const p1 = await c.workflowHistory(h.workflowId, { limit: 2 });
    assert.deepEqual(p1.entries.map((e) => e.seq), [1, 2]);
    assert.equal(p1.nextAfterSeq, 2);
    assert.equal(p1.run?.state, WorkflowState.SUCCEEDED);
    const p3 = await c.workflowHistory(h, { afterSeq: 4, limit: 2 });
    assert.deepEqual([p3.entries.map((e) => e.seq), p3.nextAfterSeq], [[5], 0]);
    const log = [];
    for await (const e of c.workflowEntries(h, { pageSize: 2 })) log.push(e);
    assert.deepEqual(log.map((e) => [e.seq, EntryKind[e.kind], e.name]), [
      [1, "ACTIVITY", "reserve"], [2, "ACTIVITY", "charge"], [3, "STEP", "receipt"],
      [4, "TIMER", ""], [5, "ACTIVITY", "ship"],
    ]);
    const reserve = log[0];
    assert.equal(text(reserve.input), "o-1");
    assert.equal(reserve.attempts, 1);
    assert.equal(reserve.queue, "reserve");
    const task = await c.get(reserve.taskId);
    assert.equal(task.state, TaskState.SUCCEEDED);
    assert.equal(text(task.result), "reserved:o-1");
    const run = await h.get();
    assert.equal(run.state, WorkflowState.SUCCEEDED);
    assert.equal(run.logLength, 5);
    assert.ok(run.finishedAtMs > 0n);
  });

  test("result of a run that fails throws WorkflowFailedError", async () => {
    workers();
    const h = await c.startWorkflow("order", "fail-1");
    await assert.rejects(h.result({ timeoutMs: 10_000 }), (e: Error) => {
      assert.ok(e instanceof WorkflowFailedError && e instanceof WorkflowError);
      assert.equal(e.state, WorkflowState.FAILED);
      assert.equal(e.runId, h.runId);
      assert.equal(e.error, "reserve failed: out of stock");
      assert.match(e.message, /failed: reserve failed: out of stock/);
      return true;
    });
  });

  test("cancel reaches a running activity; the run ends CANCELED", async () => {
    workers();
    const h = await c.startWorkflow("slow", "s-1");
    const act = await until("the slow activity to run", async () => {
      const { entries } = await c.workflowHistory(h);
      if (entries.length === 0) return undefined;
      return (await c.get(entries[0].taskId)).state === TaskState.ACTIVE ? entries[0] : undefined;
    });
    assert.equal(await h.cancel("customer left"), WorkflowState.RUNNING);
    assert.equal(await c.cancelWorkflow(h.runId, "again"), WorkflowState.RUNNING);
    await assert.rejects(c.workflowResult(h, { timeoutMs: 10_000 }), (e: Error) =>
      e instanceof WorkflowCanceledError && e.state === WorkflowState.CANCELED &&
      e.error === "canceled while slow ran");
    assert.equal((await c.get(act.taskId)).state, TaskState.CANCELED);
    assert.equal((await h.get()).cancelRequested, true);
  });

  test("terminate ends a run at once", async () => {
    workers();
    const h = await c.startWorkflow("approval", "book-4");
    await waiting(h);
    assert.equal(await h.terminate("wrong order"), WorkflowState.TERMINATED);
    await assert.rejects(h.result({ timeoutMs: 1000 }), (e: Error) =>
      e instanceof WorkflowTerminatedError && e.error === "wrong order");
    const run = await h.get();
    assert.equal(run.state, WorkflowState.TERMINATED);
    assert.equal(run.leased, false);
    await assert.rejects(h.signal("approve"), FailedPreconditionError);
  });

  test("a timeout that ends first throws DeadlineExceededError", async () => {
    workers();
    const h = await c.startWorkflow("approval", "book-5");
    const t0 = Date.now();
    await assert.rejects(h.result({ timeoutMs: 300 }), (e: Error) =>
      e instanceof DeadlineExceededError && /still running after 300 ms/.test(e.message));
    const took = Date.now() - t0;
    assert.ok(took >= 290 && took < 3000, `took ${took} ms`);
    const once = await c.awaitWorkflow(h, 0);
    assert.deepEqual([once.done, once.run.state], [false, WorkflowState.RUNNING]);
    await h.terminate("test over");
  });

  test("list filters runs and pages through them", async () => {
    // A queue no workflow worker leases: the runs stay as started.
    const q = queue("wf.list");
    const ids: bigint[] = [];
    for (let i = 0; i < 3; i++) ids.push((await c.startWorkflow("approval", `${i}`, { queue: q })).runId);
    const p1 = await c.listWorkflows({ queue: q, limit: 2 });
    assert.deepEqual(p1.runs.map((r) => r.runId), ids.slice(0, 2));
    assert.equal(p1.nextAfterRunId, ids[1]);
    const p2 = await c.listWorkflows({ queue: q, limit: 2, after: p1.nextAfterRunId });
    assert.deepEqual([p2.runs.map((r) => r.runId), p2.nextAfterRunId], [[ids[2]], 0n]);
    const all = [];
    for await (const r of c.workflows({ queue: q, pageSize: 1 })) all.push(r.runId);
    assert.deepEqual(all, ids);

    await c.terminateWorkflow(ids[1], "filtered");
    const ended = await c.listWorkflows({ queue: q, state: WorkflowState.TERMINATED });
    assert.deepEqual(ended.runs.map((r) => r.runId), [ids[1]]);
    const running = await c.listWorkflows({ queue: q, type: "approval", state: WorkflowState.RUNNING });
    assert.deepEqual(running.runs.map((r) => r.runId), [ids[0], ids[2]]);
    assert.deepEqual((await c.listWorkflows({ queue: q, type: "order" })).runs, []);
    assert.deepEqual((await c.listWorkflows({ queue: q, stuck: true })).runs, []);
  });

  test("bad input is refused with a clear error", async () => {
    await assert.rejects(c.startWorkflow("no spaces allowed", "x"), InvalidArgumentError);
    await assert.rejects(c.startWorkflow("order", "x", { queue: "bad queue" }), InvalidArgumentError);
    await assert.rejects(c.getWorkflow("no-such-workflow"), NotFoundError);
    await assert.rejects(c.workflowResult(987_654_321n, { timeoutMs: 100 }), NotFoundError);
    for (const bad of [0, -1, 1.5, "", {}, { runId: 0n }, { runId: 1.5 }, { runId: -2n, workflowId: "x" }] as const) {
      assert.throws(() => c.workflow(bad), InvalidArgumentError, `run ref ${String(bad)}`);
    }
    await assert.rejects(c.signalWorkflow("", "approve"), InvalidArgumentError);
    await assert.rejects(c.workflowResult("any", { timeoutMs: -1 }), InvalidArgumentError);
  });
});
