// cairn-client: a client and a worker for the Cairn job-queue server.
export { Client, toBytes } from "./client.js";
export type {
  CallOptions,
  ClientOptions,
  Data,
  EnqueueOptions,
  Id,
  LeaseOptions,
  Rpc,
  TaskInput,
  TlsOptions,
} from "./client.js";
export { Worker, Job, NonRetryableError } from "./worker.js";
export {
  DEFAULT_WORKFLOW_QUEUE,
  WorkflowCanceledError,
  WorkflowError,
  WorkflowFailedError,
  WorkflowHandle,
  WorkflowTerminatedError,
  runName,
} from "./workflow.js";
export type { ResultAs, ResultOptions, RunRef, StartWorkflowOptions, WorkflowFilter } from "./workflow.js";
export type { Handler, WorkerOptions } from "./worker.js";
export * from "./errors.js";
export { DEFAULT_URL, parseUrl } from "./url.js";
export { SpReqTransport } from "./transport.js";
export type { TransportOptions } from "./transport.js";
// The generated messages and enums (Task, TaskState, Code, ...), and the
// service descriptor Queue.
export * from "./gen/cairn_pb.js";
