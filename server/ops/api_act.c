/*
 * ops/api_act.c - the dashboard's actions: retry and cancel a task,
 * cancel, terminate and signal a run. Each is the engine op of the rpc
 * of the same name, with the rpc's checks, after api.c's checks against
 * cross-site requests and read-only mode; each is logged, without
 * payloads, as the operator's doing.
 */
#include <string.h>

#include "ops/api_internal.h"
#include "ops/log.h"
#include "rpc/validate.h"
#include "rpc/wf_validate.h"

#define REASON_MAX 1024 /* as CancelWorkflow's and TerminateWorkflow's */

static bool
task_id(struct api_req *r, uint64_t *id)
{
	char msg[RPC_MSG_MAX];

	if (api_param_u64(r, "id", 0, UINT64_MAX, id) < 0) {
		return (false);
	}
	if (rpc_check_id("id", *id, msg) != CAIRN_OK) {
		api_fail(r, CAIRN_INVALID_ARGUMENT, "%s", msg);
		return (false);
	}
	return (true);
}

void
api_post_task_retry(struct api_req *r)
{
	struct probe *p;
	uint64_t id;

	if (!task_id(r, &id) || (p = api_probe(r, OP_RETRY)) == NULL) {
		return;
	}
	p->op.in.id = id;
	if ((p = api_run(r, p)) == NULL) {
		return;
	}
	log_info("dashboard (%s): retried task %llu", r->user,
	    (unsigned long long) id);
	json_begin_object(&r->j);
	json_key(&r->j, "task");
	api_json_task_brief(&r->j, p->op.out.one.task);
	json_end_object(&r->j);
	probe_free(p);
	api_send(r);
}

void
api_post_task_cancel(struct api_req *r)
{
	struct probe *p;
	uint64_t id;

	if (!task_id(r, &id) || (p = api_probe(r, OP_CANCEL)) == NULL) {
		return;
	}
	p->op.in.id = id;
	if ((p = api_run(r, p)) == NULL) {
		return;
	}
	log_info("dashboard (%s): canceled task %llu", r->user,
	    (unsigned long long) id);
	json_begin_object(&r->j);
	json_kv_string(&r->j, "state", cairn_state_name(p->op.out.state));
	json_end_object(&r->j);
	probe_free(p);
	api_send(r);
}

/* end_run serves cancel and terminate, which differ in their op. */
static void
end_run(struct api_req *r, enum engine_op_kind kind)
{
	char wfid[WF_ID_MAX + 1], reason[REASON_MAX + 1];
	struct probe *p = api_probe(r, kind);
	int rv;

	if (p == NULL) {
		return;
	}
	if (!api_run_param(r, p, wfid)
	    || (rv = api_param(r, "reason", reason, sizeof(reason))) < 0) {
		probe_free(p);
		return;
	}
	if (rv == 0) {
		snprintf(reason, sizeof(reason), "from the dashboard");
	}
	if ((p->op.in.wf.text = api_keep(r, p, reason)) == NULL) {
		probe_free(p);
		return;
	}
	if ((p = api_run(r, p)) == NULL) {
		return;
	}
	if (wfid[0] == 0) {
		snprintf(wfid, sizeof(wfid), "%llu",
		    (unsigned long long) p->op.in.wf.run_id);
	}
	log_info("dashboard (%s): %s run %s", r->user,
	    kind == OP_WF_CANCEL ? "canceled" : "terminated", wfid);
	json_begin_object(&r->j);
	json_kv_string(&r->j, "state", wf_state_name(p->op.out.wf.state));
	json_end_object(&r->j);
	probe_free(p);
	api_send(r);
}

void
api_post_run_cancel(struct api_req *r)
{
	end_run(r, OP_WF_CANCEL);
}

void
api_post_run_terminate(struct api_req *r)
{
	end_run(r, OP_WF_TERMINATE);
}

void
api_post_run_signal(struct api_req *r)
{
	char wfid[WF_ID_MAX + 1], name[WF_NAME_MAX + 1];
	struct probe *p = api_probe(r, OP_WF_SIGNAL);
	void *body = NULL;
	size_t len = 0;
	int rv;

	if (p == NULL) {
		return;
	}
	if (!api_run_param(r, p, wfid)
	    || (rv = api_param(r, "name", name, sizeof(name))) < 0) {
		probe_free(p);
		return;
	}
	if (rv == 0 || name[0] == 0) {
		probe_free(p);
		api_fail(r, CAIRN_INVALID_ARGUMENT, "name: required");
		return;
	}
	/* The payload is the body, as it is: bytes, like the rpc's. */
	nng_http_req_get_data(r->req, &body, &len);
	if (len > r->api->cfg.max_payload) {
		probe_free(p);
		api_fail(r, CAIRN_INVALID_ARGUMENT,
		    "payload: at most %zu bytes (--max-payload)",
		    r->api->cfg.max_payload);
		return;
	}
	if ((p->op.in.wf.name = api_keep(r, p, name)) == NULL
	    || (p->op.in.wf.data = probe_keep(p, body, len)) == NULL) {
		if (p->op.in.wf.name != NULL) {
			api_fail(r, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		}
		probe_free(p);
		return;
	}
	p->op.in.wf.len = len;
	if ((p = api_run(r, p)) == NULL) {
		return;
	}
	log_info("dashboard (%s): signal %s to run %llu", r->user, name,
	    (unsigned long long) p->op.out.wf.run_id);
	json_begin_object(&r->j);
	json_kv_uint(&r->j, "run_id", p->op.out.wf.run_id);
	json_kv_uint(&r->j, "delivered_seq", p->op.out.wf.delivered);
	json_end_object(&r->j);
	probe_free(p);
	api_send(r);
}
