/*
 * rpc/wf_validate.h - checks on the requests of durable workflows, made
 * before anything reaches storage, with the rules of rpc/validate.h: each
 * returns CAIRN_OK, or CAIRN_INVALID_ARGUMENT with a message in msg
 * (RPC_MSG_MAX bytes) that names the field and the rule.
 */
#ifndef CAIRN_RPC_WF_VALIDATE_H
#define CAIRN_RPC_WF_VALIDATE_H

#include "lifecycle/workflow.h"
#include "rpc/validate.h"

#define RPC_WF_KNOWN_MAX 64 /* runs a worker may say it holds */

/* rpc_check_wf_ref: a run is named, by run_id or by a workflow_id. */
int rpc_check_wf_ref(const char *workflow_id, uint64_t run_id, char *msg);

/* rpc_check_wf_name: a workflow type or a child's type (field): 1 to
 * TASK_QUEUE_MAX characters of [A-Za-z0-9_.:-]. */
int rpc_check_wf_name(const char *field, const char *name, char *msg);

/* rpc_check_wf_start: a StartWorkflow request, with an input of at most
 * max_payload bytes. */
int rpc_check_wf_start(
    const Cairn__V1__StartWorkflowRequest *in, size_t max_payload, char *msg);

/* rpc_check_wf_lease: a LeaseWorkflow request. */
int rpc_check_wf_lease(const Cairn__V1__LeaseWorkflowRequest *in, char *msg);

/* rpc_check_command: command i of an advance, whose inputs and results
 * have at most max_payload bytes. */
int rpc_check_command(
    size_t i, const Cairn__V1__Command *cmd, size_t max_payload, char *msg);

/* rpc_check_advance: an AdvanceWorkflow request and all its commands. */
int rpc_check_advance(const Cairn__V1__AdvanceWorkflowRequest *in,
    size_t max_payload, char *msg);

/* rpc_check_wf_list: a ListWorkflows request. */
int rpc_check_wf_list(const Cairn__V1__ListWorkflowsRequest *in, char *msg);

#endif /* CAIRN_RPC_WF_VALIDATE_H */
