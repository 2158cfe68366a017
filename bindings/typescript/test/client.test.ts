// The client against a real cairnd: every rpc, and the semantics a worker
// relies on (fencing after lease loss, heartbeats, idempotent enqueue,
// retries, non-retryable failures, cancel, long-polls woken by a commit,
// delays), then auth tokens, TLS and a server restart.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

import {
  Client,
  Code,
  InvalidArgumentError,
  LeaseLostError,
  NotFoundError,
  TaskState,
  UnauthenticatedError,
  UnavailableError,
} from "../src/index.js";
import { Server, certs, queue, sleep } from "./helpers.js";

const text = (b: Uint8Array) => Buffer.from(b).toString();

describe("against cairnd", () => {
  const srv = new Server();
  let c: Client;
  before(async () => {
    await srv.start();
    c = new Client(srv.url, { timeoutMs: 5000 });
  });
  after(async () => {
    c.close();
    await srv.cleanup();
  });

  test("a queue's settings: set, paused, read back, bad ones refused", async () => {
    const q = queue("limits");
    await assert.rejects(c.setQueue({ queue: q, paused: true }, { fields: ["paused"] }), NotFoundError);
    const s = await c.setQueue({ queue: q, maxActive: 2, rate: { count: 5, intervalMs: 1000n } },
      { fields: ["max_active", "rate"], create: true });
    assert.equal(s.maxActive, 2);
    assert.equal(s.rate!.count, 5);
    await c.setQueue({ queue: q, paused: true }, { fields: ["paused"] });
    await c.enqueue(q, "x");
    assert.deepEqual(await c.lease(q), []);
    const got = await c.getQueue(q);
    assert.ok(got.paused && got.maxActive === 2);
    assert.ok((await c.listQueues()).some((x) => x.queue === q));
    await assert.rejects(c.setQueue({ queue: q, maxActive: 5_000_000 }, { fields: ["max_active"] }), InvalidArgumentError);
    await assert.rejects(c.setQueue({ queue: q }, { fields: ["speed"] }), InvalidArgumentError);
  });

  test("a task's whole life, through every read rpc", async () => {
    const q = queue("life");
    const { id, created } = await c.enqueue(q, { to: "ana" }, { priority: 3 });
    assert.ok(created && id > 0n);
    const [t] = await c.lease(q, { workerId: "ts-test" });
    assert.equal(t.task!.id, id);
    assert.equal(t.task!.attempt, 1);
    assert.deepEqual(JSON.parse(text(t.task!.payload)), { to: "ana" });
    assert.match(t.leaseToken, /^[0-9a-f]{32}$/);
    const hb = await c.heartbeat(id, t.leaseToken, "page 3");
    assert.equal(hb.cancelRequested, false);
    assert.ok(hb.deadlineMs >= t.deadlineMs);
    assert.equal(await c.complete(id, t.leaseToken, "sent"), undefined);
    // Repeating a completion that took effect answers OK.
    await c.complete(id, t.leaseToken, "sent");
    const got = await c.get(id);
    assert.equal(got.state, TaskState.SUCCEEDED);
    assert.equal(text(got.result), "sent");
    assert.equal(text(got.details), "page 3");
    assert.equal(got.workerId, "ts-test");
    const kinds = (await c.history(id)).map((e) => e.kind);
    assert.deepEqual(kinds, ["enqueued", "leased", "heartbeat", "completed"]);
    const page = await c.list(q, { state: TaskState.SUCCEEDED });
    assert.deepEqual(page.tasks.map((x) => x.id), [id]);
    const [st] = await c.stats(q);
    assert.equal(st.queue, q);
    assert.equal(st.succeeded, 1n);
    const done = await c.awaitResult(id, 1000);
    assert.ok(done.done);
    const p = await c.ping();
    assert.ok(Math.abs(Number(p.serverTimeMs) - Date.now()) < 60_000);
    await assert.rejects(c.get(999_999_999n), NotFoundError);
  });

  test("fencing: a lost lease refuses the stale worker and the task runs again", async () => {
    const q = queue("fencing");
    const { id } = await c.enqueue(q, "x");
    const [old] = await c.lease(q, { leaseTimeoutMs: 200 });
    await sleep(400);
    await assert.rejects(c.heartbeat(id, old.leaseToken), LeaseLostError);
    const [again] = await c.lease(q, { waitMs: 3000 });
    assert.equal(again.task!.id, id);
    assert.equal(again.task!.attempt, 2);
    await assert.rejects(c.complete(id, old.leaseToken, "stale"), (e: Error) =>
      e instanceof LeaseLostError && e.code === Code.FAILED_PRECONDITION && /^lease lost:/.test(e.message));
    await c.complete(id, again.leaseToken, "fresh");
    assert.equal(text((await c.get(id)).result), "fresh");
    assert.ok((await c.history(id)).some((e) => e.kind === "expired"));
  });

  test("heartbeats keep a lease past its timeout", async () => {
    const q = queue("heartbeats");
    const { id } = await c.enqueue(q, "x");
    const [t] = await c.lease(q, { leaseTimeoutMs: 300 });
    for (let i = 0; i < 8; i++) {
      await sleep(100);
      await c.heartbeat(id, t.leaseToken);
    }
    await c.complete(id, t.leaseToken, "ok");
    const got = await c.get(id);
    assert.equal(got.state, TaskState.SUCCEEDED);
    assert.equal(got.attempt, 1);
  });

  test("release gives a task back at once, its attempt not counted", async () => {
    const q = queue("release");
    const { id } = await c.enqueue(q, "x");
    const [t] = await c.lease(q, { releaseOnDisconnect: true });
    assert.equal(await c.release(id, t.leaseToken, { reason: "deploy" }), TaskState.PENDING);
    await assert.rejects(c.complete(id, t.leaseToken, "late"), LeaseLostError);
    const [again] = await c.lease(q);
    assert.equal(again.task!.id, id);
    assert.equal(again.task!.attempt, 1);
    const released = (await c.history(id)).filter((e) => e.kind === "released");
    assert.deepEqual(released.map((e) => e.message), ["deploy"]);
    await c.complete(id, again.leaseToken, "done");
  });

  test("idempotent enqueue: one task per key", async () => {
    const q = queue("idem");
    const a = await c.enqueue(q, "one", { key: "invoice-42" });
    const b = await c.enqueue(q, "two", { key: "invoice-42" });
    assert.equal(b.id, a.id);
    assert.deepEqual([a.created, b.created], [true, false]);
    assert.equal(text((await c.get(a.id)).payload), "one");
  });

  test("retry, then FAILED when the attempts are used up", async () => {
    const q = queue("retry");
    const { id } = await c.enqueue(q, "x", { maxAttempts: 2, retry: { initialBackoffMs: 50 } });
    const [t1] = await c.lease(q);
    const f1 = await c.fail(id, t1.leaseToken, "SMTP 451");
    assert.equal(f1.state, TaskState.PENDING);
    assert.ok(f1.runAtMs > 0n);
    const [t2] = await c.lease(q, { waitMs: 3000 });
    assert.equal(t2.task!.attempt, 2);
    const f2 = await c.fail(id, t2.leaseToken, "SMTP 451 again");
    assert.equal(f2.state, TaskState.FAILED);
    const got = await c.get(id);
    assert.equal(got.state, TaskState.FAILED);
    assert.equal(got.lastError, "SMTP 451 again");
    // Retry puts it back.
    assert.equal((await c.retry(id)).state, TaskState.PENDING);
  });

  test("a non-retryable failure is final at once", async () => {
    const q = queue("nonretry");
    const { id } = await c.enqueue(q, "x", { maxAttempts: 5 });
    const [t] = await c.lease(q);
    assert.equal((await c.fail(id, t.leaseToken, "bad input", { nonRetryable: true })).state, TaskState.FAILED);
    assert.equal((await c.get(id)).attempt, 1);
  });

  test("cancel: a pending task at once, an active one through its heartbeat", async () => {
    const q = queue("cancel");
    const p = await c.enqueue(q, "pending", { delayMs: 60_000 });
    assert.equal(await c.cancel(p.id), TaskState.CANCELED);
    const a = await c.enqueue(q, "active");
    const [t] = await c.lease(q);
    assert.equal(await c.cancel(a.id), TaskState.ACTIVE);
    assert.equal((await c.heartbeat(a.id, t.leaseToken)).cancelRequested, true);
    assert.equal((await c.fail(a.id, t.leaseToken, "stopped")).state, TaskState.CANCELED);
    assert.equal((await c.get(a.id)).state, TaskState.CANCELED);
  });

  test("a long-poll is woken by another client's commit", async () => {
    const q = queue("longpoll");
    const other = new Client(srv.url);
    const t0 = Date.now();
    const poll = c.lease(q, { waitMs: 10_000 });
    await sleep(200);
    const { id } = await other.enqueue(q, "wake");
    const [t] = await poll;
    assert.equal(t.task!.id, id);
    assert.ok(Date.now() - t0 < 3000, `woke after ${Date.now() - t0} ms`);
    other.close();
  });

  test("a delayed task is not leased before its time", async () => {
    const q = queue("delay");
    const t0 = Date.now();
    await c.enqueue(q, "later", { delayMs: 600 });
    assert.deepEqual(await c.lease(q), []);
    const [t] = await c.lease(q, { waitMs: 5000 });
    assert.equal(text(t.task!.payload), "later");
    assert.ok(Date.now() - t0 >= 550, `leased after ${Date.now() - t0} ms`);
  });

  test("bad input gets the server's reason and changes nothing", async () => {
    await assert.rejects(c.enqueue("no spaces allowed", "x"), (e: Error) =>
      e instanceof InvalidArgumentError && /queue/.test(e.message));
    await assert.rejects(c.lease(queue("neg"), { waitMs: -5 }), InvalidArgumentError);
    assert.deepEqual(await c.stats("no spaces allowed").catch(() => []), []);
  });

  test("many calls in flight on one client", async () => {
    const q = queue("many");
    const rs = await Promise.all(Array.from({ length: 300 }, (_, i) => c.enqueue(q, `n${i}`)));
    assert.equal(new Set(rs.map((r) => r.id)).size, 300);
    const [st] = await c.stats(q);
    assert.equal(st.pending, 300n);
  });

  test("enqueueMany is atomic", async () => {
    const q = queue("atomic");
    await assert.rejects(c.enqueueMany([{ queue: q, payload: "ok" }, { queue: "bad queue", payload: "no" }]),
      InvalidArgumentError);
    assert.deepEqual(await c.stats(q), []);
    const rs = await c.enqueueMany([{ queue: q, payload: "a" }, { queue: q, payload: "b", priority: 9 }]);
    assert.equal(rs.length, 2);
    const [first] = await c.lease(q);
    assert.equal(text(first.task!.payload), "b");
  });
});

test("auth tokens: refused without the right one", async () => {
  const srv = new Server(["--token-file", "TOKENS"]);
  writeFileSync(join(srv.dir, "tokens"), "tok-alpha-0123456789\n");
  (srv as unknown as { args: string[] }).args[1] = join(srv.dir, "tokens");
  await srv.start({ token: "tok-alpha-0123456789" });
  try {
    const none = new Client(srv.url);
    const wrong = new Client(srv.url, { token: "tok-alpha-012345678" });
    const right = new Client(srv.url, { token: "tok-alpha-0123456789" });
    await assert.rejects(none.enqueue("q", "x"), UnauthenticatedError);
    await assert.rejects(wrong.ping(), (e: Error) => e instanceof UnauthenticatedError && /token/.test(e.message));
    assert.ok((await right.enqueue("q", "x")).created);
    for (const x of [none, wrong, right]) x.close();
  } finally {
    await srv.cleanup();
  }
});

test("TLS: the server verified by its CA, client certificates when required", async () => {
  const probe = new Server();
  const dir = certs(probe.dir);
  const f = (n: string) => join(dir, n);
  const srv = new Server(["--tls-cert", f("server.pem"), "--tls-key", f("server.key"), "--tls-ca", f("ca.pem")],
    "tls+tcp");
  const good = { caFile: f("ca.pem"), certFile: f("client.pem"), keyFile: f("client.key") };
  await srv.start({ tls: good });
  try {
    const c = new Client(srv.url, { tls: good });
    assert.ok((await c.enqueue("q", "over tls")).created);
    c.close();
    // Refusals come at once, with the reason, not at the time limit.
    const refused = async (tls: object, re: RegExp) => {
      const x = new Client(srv.url, { tls, timeoutMs: 8000 });
      const t0 = Date.now();
      await assert.rejects(x.ping(), (e: Error) => e instanceof UnavailableError && re.test(e.message));
      assert.ok(Date.now() - t0 < 4000, `took ${Date.now() - t0} ms`);
      x.close();
    };
    await refused({ ...good, caFile: f("rogue-ca.pem") }, /certificate/i);
    await refused({ ...good, servername: "cairn.example.com" }, /cairn\.example\.com|altname/i);
    await refused({ caFile: f("ca.pem") }, /certificate|alert|handshake|closed|socket/i);
    await refused({ ...good, certFile: f("rogue.pem"), keyFile: f("rogue.key") }, /alert|certificate|closed|socket/i);
    // Plain TCP to a TLS listener gets nowhere, within the limit.
    const plain = new Client(srv.url.replace("tls+tcp", "tcp"), { timeoutMs: 1500, transport: { handshakeTimeoutMs: 500 } });
    await assert.rejects(plain.ping(), UnavailableError);
    plain.close();
  } finally {
    await srv.cleanup();
    await probe.cleanup();
  }
});

test("a server restart: calls go on over a new connection", async () => {
  const srv = new Server();
  await srv.start();
  try {
    const c = new Client(srv.url, { timeoutMs: 8000 });
    const q = queue("restart");
    const { id } = await c.enqueue(q, "before");
    await srv.stop();
    // Made while the server is down; answered once it is back.
    const pending = c.get(id);
    await sleep(300);
    await srv.start({}, srv.port);
    assert.equal(text((await pending).payload), "before");
    assert.ok((await c.enqueue(q, "after")).created);
    c.close();
  } finally {
    await srv.cleanup();
  }
});
