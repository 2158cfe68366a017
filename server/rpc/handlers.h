/*
 * rpc/handlers.h - the handlers of service Queue, one per rpc, named as
 * CAIRN__V1__QUEUE__INIT(rpc_) expects: adding an rpc to cairn.proto
 * needs only its handler here.
 */
#ifndef CAIRN_RPC_SERVICE_H
#define CAIRN_RPC_SERVICE_H

#include "rpc/convert.h"
#include "rpc/internal.h"

void rpc_enqueue(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__EnqueueRequest *in,
    Cairn__V1__EnqueueResponse_Closure closure, void *data);

void rpc_lease(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__LeaseRequest *in,
    Cairn__V1__LeaseResponse_Closure closure, void *data);

void rpc_heartbeat(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__HeartbeatRequest *in,
    Cairn__V1__HeartbeatResponse_Closure closure, void *data);

void rpc_complete(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__CompleteRequest *in,
    Cairn__V1__CompleteResponse_Closure closure, void *data);

void rpc_fail(Cairn__V1__Queue_Service *svc, const Cairn__V1__FailRequest *in,
    Cairn__V1__FailResponse_Closure closure, void *data);

void rpc_release(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__ReleaseRequest *in,
    Cairn__V1__ReleaseResponse_Closure closure, void *data);

void rpc_add_schedule(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__AddScheduleRequest *in,
    Cairn__V1__AddScheduleResponse_Closure closure, void *data);

void rpc_list_schedules(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__ListSchedulesRequest *in,
    Cairn__V1__ListSchedulesResponse_Closure closure, void *data);

void rpc_pause_schedule(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__PauseScheduleRequest *in,
    Cairn__V1__PauseScheduleResponse_Closure closure, void *data);

void rpc_resume_schedule(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__ResumeScheduleRequest *in,
    Cairn__V1__ResumeScheduleResponse_Closure closure, void *data);

void rpc_delete_schedule(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__DeleteScheduleRequest *in,
    Cairn__V1__DeleteScheduleResponse_Closure closure, void *data);

void rpc_cancel(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__CancelRequest *in,
    Cairn__V1__CancelResponse_Closure closure, void *data);

void rpc_retry(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__RetryRequest *in,
    Cairn__V1__RetryResponse_Closure closure, void *data);

void rpc_get(Cairn__V1__Queue_Service *svc, const Cairn__V1__GetRequest *in,
    Cairn__V1__GetResponse_Closure closure, void *data);

void rpc_list(Cairn__V1__Queue_Service *svc, const Cairn__V1__ListRequest *in,
    Cairn__V1__ListResponse_Closure closure, void *data);

void rpc_stats(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__StatsRequest *in,
    Cairn__V1__StatsResponse_Closure closure, void *data);

void rpc_await(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__AwaitRequest *in,
    Cairn__V1__AwaitResponse_Closure closure, void *data);

void rpc_history(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__HistoryRequest *in,
    Cairn__V1__HistoryResponse_Closure closure, void *data);

void rpc_ping(Cairn__V1__Queue_Service *svc, const Cairn__V1__PingRequest *in,
    Cairn__V1__PingResponse_Closure closure, void *data);

/* rpc/batch.c */
void rpc_complete_batch(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__CompleteBatchRequest *in,
    Cairn__V1__CompleteBatchResponse_Closure closure, void *data);

void rpc_heartbeat_batch(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__HeartbeatBatchRequest *in,
    Cairn__V1__HeartbeatBatchResponse_Closure closure, void *data);

/* rpc/backup.c */
void rpc_backup(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__BackupRequest *in,
    Cairn__V1__BackupResponse_Closure closure, void *data);

/* rpc/queues.c */
void rpc_set_queue(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__SetQueueRequest *in,
    Cairn__V1__SetQueueResponse_Closure closure, void *data);
void rpc_get_queue(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__GetQueueRequest *in,
    Cairn__V1__GetQueueResponse_Closure closure, void *data);
void rpc_list_queues(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__ListQueuesRequest *in,
    Cairn__V1__ListQueuesResponse_Closure closure, void *data);

/* The workflow rpcs. */
void rpc_start_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__StartWorkflowRequest *in,
    Cairn__V1__StartWorkflowResponse_Closure closure, void *data);
void rpc_lease_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__LeaseWorkflowRequest *in,
    Cairn__V1__LeaseWorkflowResponse_Closure closure, void *data);
void rpc_heartbeat_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__HeartbeatWorkflowRequest *in,
    Cairn__V1__HeartbeatWorkflowResponse_Closure closure, void *data);
void rpc_advance_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__AdvanceWorkflowRequest *in,
    Cairn__V1__AdvanceWorkflowResponse_Closure closure, void *data);
void rpc_fail_workflow_task(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__FailWorkflowTaskRequest *in,
    Cairn__V1__FailWorkflowTaskResponse_Closure closure, void *data);
void rpc_signal_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__SignalWorkflowRequest *in,
    Cairn__V1__SignalWorkflowResponse_Closure closure, void *data);
void rpc_cancel_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__CancelWorkflowRequest *in,
    Cairn__V1__CancelWorkflowResponse_Closure closure, void *data);
void rpc_terminate_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__TerminateWorkflowRequest *in,
    Cairn__V1__TerminateWorkflowResponse_Closure closure, void *data);
void rpc_get_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__GetWorkflowRequest *in,
    Cairn__V1__GetWorkflowResponse_Closure closure, void *data);
void rpc_list_workflows(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__ListWorkflowsRequest *in,
    Cairn__V1__ListWorkflowsResponse_Closure closure, void *data);
void rpc_workflow_history(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__WorkflowHistoryRequest *in,
    Cairn__V1__WorkflowHistoryResponse_Closure closure, void *data);
void rpc_await_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__AwaitWorkflowRequest *in,
    Cairn__V1__AwaitWorkflowResponse_Closure closure, void *data);

#endif /* CAIRN_RPC_SERVICE_H */
