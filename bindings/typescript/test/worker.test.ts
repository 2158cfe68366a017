// The Worker against a real cairnd: concurrency, background heartbeats,
// retries and non-retryable failures, cancellation through its signal,
// graceful close, and a fatal error that ends run().
import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import {
  Client,
  NonRetryableError,
  TaskState,
  UnauthenticatedError,
  Worker,
  type Job,
} from "../src/index.js";
import { Server, queue, sleep } from "./helpers.js";

const srv = new Server();
let c: Client;
before(async () => {
  await srv.start();
  c = new Client(srv.url);
});
after(async () => {
  c.close();
  await srv.cleanup();
});

const text = (b: Uint8Array) => Buffer.from(b).toString();

async function until(what: string, ok: () => Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

test("runs tasks with the given concurrency and records their results", async () => {
  const q = queue("conc");
  const ids = (await c.enqueueMany(Array.from({ length: 16 }, (_, i) => ({ queue: q, payload: `${i}` })))).map((r) => r.id);
  let now = 0;
  let most = 0;
  const w = new Worker(c, q, async (job: Job) => {
    most = Math.max(most, ++now);
    await sleep(60);
    now--;
    return { doubled: Number(job.text()) * 2 };
  }, { concurrency: 4, waitMs: 200 });
  const run = w.run();
  await until("all done", async () => (await c.stats(q))[0]?.succeeded === 16n);
  await w.close();
  await run;
  assert.equal(most, 4);
  for (const [i, id] of ids.entries()) {
    assert.deepEqual(JSON.parse(text((await c.get(id)).result)), { doubled: i * 2 });
  }
});

test("background heartbeats keep a lease through a long handler", async () => {
  const q = queue("beat");
  const { id } = await c.enqueue(q, "slow");
  const w = new Worker(c, q, async () => {
    await sleep(1200);
    return "finished";
  }, { leaseTimeoutMs: 300, waitMs: 200 });
  const lost: unknown[] = [];
  w.on("lost", (_j, e) => lost.push(e));
  void w.run();
  await until("done", async () => (await c.get(id)).state === TaskState.SUCCEEDED);
  await w.close();
  assert.deepEqual(lost, []);
  const t = await c.get(id);
  assert.equal(t.attempt, 1);
  assert.ok(!(await c.history(id)).some((e) => e.kind === "expired"));
  assert.ok((await c.history(id)).filter((e) => e.kind === "heartbeat").length >= 3);
});

test("a throwing handler is retried; NonRetryableError fails at once", async () => {
  const q = queue("fail");
  const flaky = await c.enqueue(q, "flaky", { retry: { initialBackoffMs: 20 } });
  const bad = await c.enqueue(q, "bad", { maxAttempts: 10 });
  const w = new Worker(c, q, async (job: Job) => {
    if (job.text() === "bad") throw new NonRetryableError("cannot parse");
    if (job.attempt === 1) throw new TypeError("transient");
    return "second time";
  }, { waitMs: 200 });
  void w.run();
  await until("both ended", async () =>
    (await c.get(flaky.id)).state === TaskState.SUCCEEDED && (await c.get(bad.id)).state === TaskState.FAILED);
  await w.close();
  const f = await c.get(flaky.id);
  assert.equal(f.attempt, 2);
  assert.equal(text(f.result), "second time");
  const b = await c.get(bad.id);
  assert.equal(b.attempt, 1);
  assert.equal(b.lastError, "cannot parse");
  assert.ok((await c.history(flaky.id)).some((e) => e.kind === "failed" && /TypeError: transient/.test(e.message)));
});

test("cancel reaches a running handler through job.signal", async () => {
  const q = queue("cancel");
  const { id } = await c.enqueue(q, "long");
  let started = false;
  const w = new Worker(c, q, async (job: Job) => {
    started = true;
    await new Promise((_r, reject) => job.signal.addEventListener("abort", () => reject(job.signal.reason)));
  }, { leaseTimeoutMs: 300, waitMs: 200 });
  void w.run();
  await until("started", async () => started);
  assert.equal(await c.cancel(id), TaskState.ACTIVE);
  await until("canceled", async () => (await c.get(id)).state === TaskState.CANCELED);
  await w.close();
});

test("close lets running handlers finish and leases nothing more", async () => {
  const q = queue("close");
  const { id } = await c.enqueue(q, "first");
  let started = false;
  const w = new Worker(c, q, async () => {
    started = true;
    await sleep(400);
    return "done anyway";
  }, { waitMs: 200 });
  const run = w.run();
  await until("started", async () => started);
  const t0 = Date.now();
  await w.close();
  await run;
  assert.ok(Date.now() - t0 >= 250, "close waited for the handler");
  assert.equal((await c.get(id)).state, TaskState.SUCCEEDED);
  const later = await c.enqueue(q, "after close");
  await sleep(300);
  assert.equal((await c.get(later.id)).state, TaskState.PENDING);
});

test("run() rejects on an error that leasing again cannot cure", async () => {
  const tokened = new Server(["--token-file", "/dev/null"]);
  const { writeFileSync } = await import("node:fs");
  const file = `${tokened.dir}/tokens`;
  writeFileSync(file, "right-token-0123456789\n");
  (tokened as unknown as { args: string[] }).args[1] = file;
  await tokened.start({ token: "right-token-0123456789" });
  try {
    const bad = new Client(tokened.url, { token: "wrong-token-0123456789" });
    const w = new Worker(bad, "q", () => "never", { waitMs: 100 });
    await assert.rejects(w.run(), UnauthenticatedError);
    bad.close();
  } finally {
    await tokened.cleanup();
  }
});
