// Starts a run of a workflow type with an input and prints
// "RUN_ID WORKFLOW_ID"; with --await it then waits for the run and prints
// its result, or how it ended (and exits 1).
//
//   node dist/examples/workflow.js [--url ...] [--queue workflows] [--id ID] [--await] TYPE [INPUT]
//
// The workflow's code runs in a workflow worker written in C or Python
// (client/examples/order_workflow.c is one); its activities may be done by
// any task worker, such as examples/worker.ts.
import { parseArgs } from "node:util";

import { Client, WorkflowError } from "../src/index.js";

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string", default: process.env.CAIRN_SERVER ?? "tcp://127.0.0.1:7420" },
    queue: { type: "string", default: "workflows" },
    token: { type: "string", default: process.env.CAIRN_TOKEN },
    id: { type: "string" },
    await: { type: "boolean", default: false },
    timeout: { type: "string", default: "60000" }, // ms that --await waits
  },
});
if (positionals.length < 1 || positionals.length > 2) {
  console.error("usage: workflow.js [--url URL] [--queue Q] [--id ID] [--await] TYPE [INPUT]");
  process.exit(2);
}

const client = new Client(a.url!, { token: a.token });
try {
  const run = await client.startWorkflow(positionals[0], positionals[1], { workflowId: a.id, queue: a.queue });
  console.log(`${run.runId} ${run.workflowId}${run.created ? "" : " (existing)"}`);
  if (a.await) {
    try {
      console.log(`succeeded: ${await run.result({ as: "text", timeoutMs: Number(a.timeout) })}`);
    } catch (e) {
      if (!(e instanceof WorkflowError)) throw e;
      console.log(e.message); // failed, canceled or terminated
      process.exitCode = 1;
    }
  }
} finally {
  client.close();
}
