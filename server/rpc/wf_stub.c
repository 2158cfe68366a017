/*
 * rpc_workflow_stub.c - placeholder handlers of the workflow rpcs while
 * the server side is built: each answers UNIMPLEMENTED.
 */
#include "rpc/internal.h"
#include "rpc/handlers.h"

void
rpc_start_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__StartWorkflowRequest *in,
    Cairn__V1__StartWorkflowResponse_Closure closure, void *data)
{
	rpc_refuse(data, CAIRN_UNIMPLEMENTED, "StartWorkflow: not yet");
}

void
rpc_lease_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__LeaseWorkflowRequest *in,
    Cairn__V1__LeaseWorkflowResponse_Closure closure, void *data)
{
	rpc_refuse(data, CAIRN_UNIMPLEMENTED, "LeaseWorkflow: not yet");
}

void
rpc_heartbeat_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__HeartbeatWorkflowRequest *in,
    Cairn__V1__HeartbeatWorkflowResponse_Closure closure, void *data)
{
	rpc_refuse(data, CAIRN_UNIMPLEMENTED, "HeartbeatWorkflow: not yet");
}

void
rpc_advance_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__AdvanceWorkflowRequest *in,
    Cairn__V1__AdvanceWorkflowResponse_Closure closure, void *data)
{
	rpc_refuse(data, CAIRN_UNIMPLEMENTED, "AdvanceWorkflow: not yet");
}

void
rpc_fail_workflow_task(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__FailWorkflowTaskRequest *in,
    Cairn__V1__FailWorkflowTaskResponse_Closure closure, void *data)
{
	rpc_refuse(data, CAIRN_UNIMPLEMENTED, "FailWorkflowTask: not yet");
}

void
rpc_signal_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__SignalWorkflowRequest *in,
    Cairn__V1__SignalWorkflowResponse_Closure closure, void *data)
{
	rpc_refuse(data, CAIRN_UNIMPLEMENTED, "SignalWorkflow: not yet");
}

void
rpc_cancel_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__CancelWorkflowRequest *in,
    Cairn__V1__CancelWorkflowResponse_Closure closure, void *data)
{
	rpc_refuse(data, CAIRN_UNIMPLEMENTED, "CancelWorkflow: not yet");
}

void
rpc_terminate_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__TerminateWorkflowRequest *in,
    Cairn__V1__TerminateWorkflowResponse_Closure closure, void *data)
{
	rpc_refuse(data, CAIRN_UNIMPLEMENTED, "TerminateWorkflow: not yet");
}

void
rpc_get_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__GetWorkflowRequest *in,
    Cairn__V1__GetWorkflowResponse_Closure closure, void *data)
{
	rpc_refuse(data, CAIRN_UNIMPLEMENTED, "GetWorkflow: not yet");
}

void
rpc_list_workflows(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__ListWorkflowsRequest *in,
    Cairn__V1__ListWorkflowsResponse_Closure closure, void *data)
{
	rpc_refuse(data, CAIRN_UNIMPLEMENTED, "ListWorkflows: not yet");
}

void
rpc_workflow_history(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__WorkflowHistoryRequest *in,
    Cairn__V1__WorkflowHistoryResponse_Closure closure, void *data)
{
	rpc_refuse(data, CAIRN_UNIMPLEMENTED, "WorkflowHistory: not yet");
}

void
rpc_await_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__AwaitWorkflowRequest *in,
    Cairn__V1__AwaitWorkflowResponse_Closure closure, void *data)
{
	rpc_refuse(data, CAIRN_UNIMPLEMENTED, "AwaitWorkflow: not yet");
}
