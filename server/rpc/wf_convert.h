/*
 * rpc/wf_convert.h - runs and log entries to wire messages, commands from
 * them. What is built points into its source (no copies): pack the
 * messages before freeing the structs.
 */
#ifndef CAIRN_RPC_WF_CONVERT_H
#define CAIRN_RPC_WF_CONVERT_H

#include "cairn_wire.h"

#include "cairn.pb-c.h"
#include "lifecycle/workflow.h"

/* rpc_run_to_pb fills m from r; m points into r. */
void rpc_run_to_pb(const struct wf_run *r, Cairn__V1__WorkflowRun *m);

/* rpc_runs_to_pb and rpc_entries_to_pb return arrays of n message
 * pointers in one allocation that the caller frees with free(); NULL when
 * out of memory. */
Cairn__V1__WorkflowRun **rpc_runs_to_pb(struct wf_run *const *runs, size_t n);
Cairn__V1__Entry **rpc_entries_to_pb(const struct wf_entry *e, size_t n);

/* rpc_command_from_pb fills c from a validated Command; c points into
 * m. */
void rpc_command_from_pb(const Cairn__V1__Command *m, struct wf_command *c);

#endif /* CAIRN_RPC_WF_CONVERT_H */
