// load.mjs - the task lifecycle of cairn-bench's `lifecycle` workload on
// the job queues users compare Cairn with: producers enqueue one job at a
// time, workers reserve (lease) one and complete (delete) it, every client
// in a closed loop with one request in flight, for a fixed duration. It
// prints one JSON object: the lifecycles completed and their rate.
//
//   node load.mjs SYSTEM --url URL --clients N --duration S --payload B
//
// SYSTEM is beanstalkd, redis (a reliable list queue: LPUSH, BLMOVE to a
// processing list, LREM), bullmq or graphile-worker (optionally
// graphile-worker-batched: its documented fast path). Producers are a
// third of the clients and workers the rest, as in cairn-bench. The
// servers are started by scripts/bench-peers.sh with their durable
// settings; this file only drives them, on 127.0.0.1.
import net from "node:net";
import { parseArgs } from "node:util";

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string" },
    clients: { type: "string", default: "16" },
    duration: { type: "string", default: "5" },
    payload: { type: "string", default: "100" },
  },
});
const system = positionals[0];
const clients = Number(opt.clients);
const producers = Math.max(1, Math.floor(clients / 3));
const workers = Math.max(1, clients - producers);
const durationMs = Number(opt.duration) * 1000;
const payloadSize = Number(opt.payload);
// The payload: printable bytes, so that every system takes it as is.
const payload = Buffer.alloc(payloadSize, "abcdefghijklmnopqrstuvwxyz");

let done = 0; // lifecycles completed before the deadline
let errors = 0;
let firstError = null;
let deadline = Infinity;
let stopping = false;

function completed() {
  if (Date.now() <= deadline) done++;
}

function failed(e) {
  errors++;
  if (firstError === null) firstError = String(e && e.stack ? e.message : e);
}

// ---- beanstalkd: its text protocol over one socket per client ----

// A connection that sends one command and reads its reply (a line, and
// for RESERVED the job's body after it).
class Beanstalk {
  constructor(port) {
    this.sock = net.connect({ host: "127.0.0.1", port });
    this.sock.setNoDelay(true);
    this.buf = Buffer.alloc(0);
    this.waiter = null;
    this.sock.on("data", (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.pump();
    });
    this.sock.on("error", (e) => this.waiter && this.waiter.reject(e));
  }
  ready() {
    return new Promise((res, rej) => {
      this.sock.once("connect", res);
      this.sock.once("error", rej);
    });
  }
  pump() {
    if (!this.waiter) return;
    const eol = this.buf.indexOf("\r\n");
    if (eol < 0) return;
    const line = this.buf.subarray(0, eol).toString();
    let used = eol + 2;
    if (line.startsWith("RESERVED ")) {
      const bytes = Number(line.split(" ")[2]);
      if (this.buf.length < used + bytes + 2) return;
      used += bytes + 2;
    }
    this.buf = this.buf.subarray(used);
    const w = this.waiter;
    this.waiter = null;
    w.resolve(line);
  }
  cmd(text, body) {
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.sock.write(body ? Buffer.concat([Buffer.from(text), body, Buffer.from("\r\n")]) : text);
    });
  }
  close() {
    this.sock.destroy();
  }
}

async function expect(p, prefix) {
  const line = await p;
  if (!line.startsWith(prefix)) throw new Error(`beanstalkd: ${line}`);
  return line;
}

async function beanstalkd(port) {
  const conns = [];
  for (let i = 0; i < clients; i++) {
    const c = new Beanstalk(port);
    await c.ready();
    if (i < producers) await expect(c.cmd("use bench\r\n"), "USING");
    else {
      await expect(c.cmd("watch bench\r\n"), "WATCHING");
      await expect(c.cmd("ignore default\r\n"), "WATCHING");
    }
    conns.push(c);
  }
  const put = `put 1024 0 60 ${payload.length}\r\n`;
  const producer = async (c) => {
    while (!stopping) await expect(c.cmd(put, payload), "INSERTED");
  };
  const worker = async (c) => {
    while (!stopping) {
      const line = await c.cmd("reserve-with-timeout 1\r\n");
      if (line.startsWith("TIMED_OUT")) continue;
      if (!line.startsWith("RESERVED ")) throw new Error(`beanstalkd: ${line}`);
      await expect(c.cmd(`delete ${line.split(" ")[1]}\r\n`), "DELETED");
      completed();
    }
  };
  await runLoops(conns.map((c, i) => () => (i < producers ? producer(c) : worker(c))));
  conns.forEach((c) => c.close());
}

// ---- Redis: a reliable queue on lists, each command its own round trip ----

async function redisRaw(port) {
  const { Redis } = await import("ioredis");
  const conns = [];
  for (let i = 0; i < clients; i++) {
    const r = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 1 });
    await r.connect();
    conns.push(r);
  }
  await conns[0].del("bench", "bench:processing");
  const producer = async (r, p) => {
    // Each job distinct (its producer and number first), so that the
    // worker's LREM removes exactly the job it took.
    for (let seq = 0; !stopping; seq++) {
      const head = Buffer.from(`${p}:${seq}:`);
      const job = Buffer.concat([head, payload.subarray(head.length)]);
      await r.lpush("bench", job);
    }
  };
  const worker = async (r) => {
    while (!stopping) {
      const job = await r.blmoveBuffer("bench", "bench:processing", "RIGHT", "LEFT", 1);
      if (job === null) continue;
      await r.lrem("bench:processing", 1, job);
      completed();
    }
  };
  await runLoops(conns.map((r, i) => () => (i < producers ? producer(r, i) : worker(r))));
  conns.forEach((r) => r.disconnect());
}

// ---- BullMQ on the same Redis ----

async function bullmq(port) {
  const { Queue, Worker } = await import("bullmq");
  const connection = { host: "127.0.0.1", port };
  const name = `bench-${process.pid}`;
  const queues = [];
  for (let i = 0; i < producers; i++) {
    const q = new Queue(name, { connection });
    await q.waitUntilReady();
    queues.push(q);
  }
  const data = { payload: payload.toString() };
  // One Worker with a concurrency of `workers`: BullMQ's way of running
  // that many jobs at once (each slot takes the next job as it completes
  // the last). Completed jobs are kept, as Cairn keeps finished tasks.
  const worker = new Worker(name, async () => null, { connection, concurrency: workers });
  worker.on("completed", completed);
  worker.on("failed", (_job, e) => failed(e));
  worker.on("error", failed);
  await worker.waitUntilReady();
  const producer = async (q) => {
    while (!stopping) await q.add("bench", data);
  };
  await runLoops(queues.map((q) => () => producer(q)), async () => {
    await worker.close(true);
  });
  await Promise.all(queues.map((q) => q.close()));
}

// ---- graphile-worker on PostgreSQL ----

// watchPool counts the errors of a pool and of each of its connections,
// as graphile-worker asks of a pool given to it.
function watchPool(pool) {
  pool.on("error", failed);
  pool.on("connect", (client) => client.on("error", failed));
}

async function graphile(url, batched) {
  const { run, makeWorkerUtils, runMigrations } = await import("graphile-worker");
  const { default: pg } = await import("pg");
  // graphile-worker logs a line per job by default: not measured here.
  const { Logger } = await import("graphile-worker");
  const logger = new Logger(() => (level, message) => {
    if (level === "error") failed(message);
  });
  await runMigrations({ connectionString: url, logger });
  const utils = [];
  for (let i = 0; i < producers; i++) {
    const pgPool = new pg.Pool({ connectionString: url, max: 1 });
    watchPool(pgPool);
    utils.push(await makeWorkerUtils({ pgPool, logger }));
  }
  const workerPool = new pg.Pool({ connectionString: url, max: workers + 2 });
  watchPool(workerPool);
  const preset = batched
    ? { worker: { localQueue: { size: workers + 1 }, completeJobBatchDelay: 1 } }
    : {};
  const runner = await run({
    pgPool: workerPool,
    concurrency: workers,
    noHandleSignals: true,
    pollInterval: 1000,
    logger,
    preset,
    taskList: { bench: async () => {} },
  });
  runner.events.on("job:complete", ({ error }) => (error ? failed(error) : completed()));
  const data = { payload: payload.toString() };
  const producer = async (u) => {
    while (!stopping) await u.addJob("bench", data);
  };
  await runLoops(utils.map((u) => () => producer(u)), async () => {
    await runner.stop();
  });
  await Promise.all(utils.map((u) => u.release()));
  await workerPool.end();
}

// ---- the run ----

// runLoops starts every loop, lets them run for the duration, stops them
// (and whatever stop() stops), and waits for them; an error ends a loop.
async function runLoops(loops, stop) {
  const start = Date.now();
  deadline = start + durationMs;
  const running = loops.map((f) => f().catch(failed));
  await new Promise((r) => setTimeout(r, durationMs));
  stopping = true;
  if (stop) await stop();
  // A worker blocked in a reserve returns within its 1 s timeout.
  await Promise.race([Promise.all(running), new Promise((r) => setTimeout(r, 5000))]);
  elapsed = (Math.min(Date.now(), deadline) - start) / 1000;
}

let elapsed = 0;
const systems = {
  beanstalkd: () => beanstalkd(Number(new URL(opt.url).port)),
  redis: () => redisRaw(Number(new URL(opt.url).port)),
  bullmq: () => bullmq(Number(new URL(opt.url).port)),
  "graphile-worker": () => graphile(opt.url, false),
  "graphile-worker-batched": () => graphile(opt.url, true),
};
if (!systems[system] || !opt.url) {
  console.error(`usage: load.mjs ${Object.keys(systems).join("|")} --url URL [--clients N] [--duration S] [--payload B]`);
  process.exit(2);
}
// Bounded whatever happens: the duration, then 30 s to stop.
setTimeout(() => {
  console.error("load.mjs: did not stop in time");
  process.exit(1);
}, durationMs + 30000).unref();
try {
  await systems[system]();
} catch (e) {
  failed(e);
}
console.log(
  JSON.stringify({
    system,
    clients,
    producers,
    workers,
    payload_bytes: payloadSize,
    lifecycles: done,
    elapsed_s: elapsed,
    lifecycles_per_s: elapsed > 0 ? done / elapsed : 0,
    errors,
    first_error: firstError,
  }),
);
process.exit(errors > 0 || done === 0 ? 1 : 0);
