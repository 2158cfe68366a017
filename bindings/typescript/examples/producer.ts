// A producer: enqueues a greeting task per name and, with --await, waits
// for each result.
//
//   node dist/examples/producer.js [--url ...] [--queue greetings] [--await] Ana Bo
import { parseArgs } from "node:util";

import { Client, TaskState } from "../src/index.js";

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string", default: process.env.CAIRN_SERVER ?? "tcp://127.0.0.1:7420" },
    queue: { type: "string", default: "greetings" },
    token: { type: "string", default: process.env.CAIRN_TOKEN },
    await: { type: "boolean", default: false },
  },
});

const client = new Client(a.url!, { token: a.token });
for (const name of positionals.length > 0 ? positionals : ["Ana"]) {
  const { id } = await client.enqueue(a.queue!, { name }, { maxAttempts: 3 });
  if (!a.await) {
    console.log(id.toString());
    continue;
  }
  const { task, done } = await client.awaitResult(id, 30_000);
  const state = TaskState[task.state];
  console.log(done ? `task ${id} ${state}: ${Buffer.from(task.result).toString() || task.lastError}`
    : `task ${id} still ${state}`);
}
client.close();
