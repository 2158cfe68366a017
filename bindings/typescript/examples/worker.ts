// A worker: answers every task of some queues whose payload is
// {"name": ...} with a greeting, four at a time, until Ctrl-C (or --count
// tasks). --queue takes a comma-separated list (the activities of a
// workflow: --queue reserve,charge,ship).
//
//   node dist/examples/worker.js [--url tcp://127.0.0.1:7420] [--queue greetings]
import { parseArgs } from "node:util";

import { Client, NonRetryableError, Worker, type Job } from "../src/index.js";

const { values: a } = parseArgs({
  options: {
    url: { type: "string", default: process.env.CAIRN_SERVER ?? "tcp://127.0.0.1:7420" },
    queue: { type: "string", default: "greetings" },
    token: { type: "string", default: process.env.CAIRN_TOKEN },
    count: { type: "string", default: "0" }, // stop after this many (0: never)
    "wait-ms": { type: "string", default: "5000" }, // one Lease long-poll; a stop may wait that long
  },
});

const client = new Client(a.url!, { token: a.token });
let left = Number(a.count);
const worker = new Worker(client, a.queue!.split(","), async (job: Job) => {
  let name: string;
  try {
    name = job.json<{ name: string }>().name;
  } catch {
    throw new NonRetryableError(`payload is not {"name": ...}: ${job.text()}`);
  }
  return { greeting: `hello, ${name}`, by: "typescript", attempt: job.attempt };
}, { concurrency: 4, waitMs: Number(a["wait-ms"]) });

worker.on("completed", (job: Job) => {
  console.log(`completed task ${job.id} (attempt ${job.attempt})`);
  if (left > 0 && --left === 0) void worker.close();
});
worker.on("failed", (job: Job, e: Error) => console.log(`task ${job.id} failed: ${e.message}`));
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    console.log("stopping: finishing the running tasks");
    void worker.close();
  });
}
console.log(`working on ${a.queue} at ${a.url}; Ctrl-C stops`);
await worker.run();
client.close();
