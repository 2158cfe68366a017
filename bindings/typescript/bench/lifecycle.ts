// The lifecycle workload of cairn-bench (tests/bench), from TypeScript:
// producers Enqueue one task per rpc, workers Lease one (long-polling) and
// Complete it, each loop on a connection of its own, for --duration
// seconds; prints completed lifecycles per second and this process's CPU.
//
//   node dist/bench/lifecycle.js --server tcp://127.0.0.1:7420 [--clients 16]
//       [--producers N] [--duration 5] [--payload 100] [--json]
import { parseArgs } from "node:util";

import { Client } from "../src/index.js";

const { values: a } = parseArgs({
  options: {
    server: { type: "string", default: "tcp://127.0.0.1:7420" },
    clients: { type: "string", default: "16" },
    producers: { type: "string" },
    duration: { type: "string", default: "5" },
    payload: { type: "string", default: "100" },
    json: { type: "boolean", default: false },
  },
});
const clients = Number(a.clients);
const producers = a.producers === undefined ? Math.max(1, Math.floor(clients / 3)) : Number(a.producers);
const workers = Math.max(1, clients - producers);
const seconds = Number(a.duration);
const payload = new Uint8Array(Number(a.payload)).fill(0x61);
const queue = `bench.ts.${process.pid}.${Date.now()}`;

const conns = Array.from({ length: producers + workers }, () => new Client(a.server!, { timeoutMs: 30_000 }));
await Promise.all(conns.map((c) => c.ping())); // connected before the clock starts

let stop = false;
let done = 0;
async function produce(c: Client) {
  while (!stop) await c.enqueue(queue, payload);
}
async function work(c: Client) {
  while (!stop) {
    for (const t of await c.lease(queue, { waitMs: 100, workerId: "bench-ts" })) {
      await c.complete(t.task!.id, t.leaseToken);
      if (!stop) done++;
    }
  }
}
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const loops = [
  ...conns.slice(0, producers).map(produce),
  ...conns.slice(producers).map(work),
];
await new Promise((r) => setTimeout(r, seconds * 1000));
const elapsed = (performance.now() - t0) / 1000;
const counted = done;
stop = true;
const cpu = process.cpuUsage(cpu0);
await Promise.all(loops);
for (const c of conns) c.close();
const rate = counted / elapsed;
const cpuShare = (cpu.user + cpu.system) / 1e6 / elapsed;
if (a.json) {
  console.log(JSON.stringify({ client: "typescript", lifecycles_per_s: rate, producers, workers, client_cpu: cpuShare }));
} else {
  console.log(`typescript: ${rate.toFixed(0)} lifecycles/s (${producers} producers, ${workers} workers, ` +
    `${elapsed.toFixed(1)} s; this process used ${(cpuShare * 100).toFixed(0)}% of a core)`);
}
