/*
 * ops/api_read.c - the dashboard's reads: queues with their counts and
 * recent activity, a page of a queue's tasks, a task with its history,
 * workflow types, a page of runs, a run with a page of its log, and the
 * search by task id, run id, workflow id or idempotency key. Each is one
 * or a few engine ops that read by index (docs/DASHBOARD.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ops/activity.h"
#include "ops/api_internal.h"
#include "rpc/validate.h"
#include "rpc/wf_validate.h"

#define PAGE_DEFAULT  50
#define PAGE_MAX      500
#define LOG_DEFAULT   200
#define LOG_MAX       1000
#define BYTES_MAX     (64 * 1024) /* of a log entry's input or result */
#define SEARCH_QUEUES 1000        /* queues searched for a key at most */

static void
activity(struct json *j, const char *queue, int64_t now)
{
	struct activity a;

	activity_read(queue, now, &a);
	json_key(j, "activity");
	json_begin_object(j);
	json_key(j, "succeeded");
	json_begin_array(j);
	for (size_t i = 0; i < ACTIVITY_BUCKETS; i++) {
		json_uint(j, a.succeeded[i]);
	}
	json_end_array(j);
	json_key(j, "failed");
	json_begin_array(j);
	for (size_t i = 0; i < ACTIVITY_BUCKETS; i++) {
		json_uint(j, a.failed[i]);
	}
	json_end_array(j);
	json_end_object(j);
}

void
api_get_queues(struct api_req *r)
{
	static const cairn_state states[] = { CAIRN_PENDING, CAIRN_ACTIVE,
		CAIRN_SUCCEEDED, CAIRN_FAILED, CAIRN_CANCELED };
	struct stats_cache *c = r->api->cfg.cache;
	const struct stats_snap *s = stats_cache_get(c);
	int64_t now = engine_now(r->api->cfg.engine);
	struct json *j = &r->j;

	json_begin_object(j);
	json_kv_int(j, "now_ms", now);
	json_kv_int(j, "counted_at_ms", s->at_ms);
	json_kv_bool(j, "counted", s->ok);
	json_kv_int(j, "bucket_ms", ACTIVITY_BUCKET_MS);
	json_key(j, "queues");
	json_begin_array(j);
	for (size_t i = 0; i < s->nst; i++) {
		const struct queue_stats *q = &s->st[i];
		json_begin_object(j);
		json_kv_string(j, "queue", q->queue);
		for (size_t k = 0; k < sizeof(states) / sizeof(states[0]);
		     k++) {
			json_kv_uint(j, cairn_state_name(states[k]),
			    q->count[states[k]]);
		}
		json_kv_uint(j, "due", q->due);
		json_kv_int(j, "oldest_due_age_ms", q->oldest_due_age_ms);
		activity(j, q->queue, now);
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
	stats_snap_release(c, s);
	api_send(r);
}

/* queue_param reads the required parameter "queue" into q (TASK_QUEUE_MAX
 * + 1 bytes); false when the request was refused. */
static bool
queue_param(struct api_req *r, char *q, bool required)
{
	char msg[RPC_MSG_MAX];
	int rv = api_param(r, "queue", q, TASK_QUEUE_MAX + 1);

	if (rv < 0) {
		return (false);
	}
	if (rv == 0 && !required) {
		q[0] = 0;
		return (true);
	}
	if (rpc_check_queue("queue", rv == 1 ? q : "", msg) != CAIRN_OK) {
		api_fail(r, CAIRN_INVALID_ARGUMENT, "%s", msg);
		return (false);
	}
	return (true);
}

/* list_state runs one page of queue's tasks in state after after. */
static struct probe *
list_state(struct api_req *r, const char *queue, cairn_state st,
    uint64_t after, uint32_t limit)
{
	struct probe *p = api_probe(r, OP_LIST);

	if (p == NULL) {
		return (NULL);
	}
	if ((p->op.in.list.queue = api_keep(r, p, queue)) == NULL) {
		probe_free(p);
		return (NULL);
	}
	p->op.in.list.state = st;
	p->op.in.list.limit = limit;
	p->op.in.list.after_id = after;
	return (api_run(r, p));
}

void
api_get_tasks(struct api_req *r)
{
	static const cairn_state states[] = { CAIRN_PENDING, CAIRN_ACTIVE,
		CAIRN_SUCCEEDED, CAIRN_FAILED, CAIRN_CANCELED };
	enum { NS = sizeof(states) / sizeof(states[0]) };
	char queue[TASK_QUEUE_MAX + 1], state[16];
	cairn_state st = CAIRN_STATE_ANY;
	uint64_t after, limit;
	struct probe *p[NS] = { 0 };
	size_t at[NS] = { 0 }, np, shown = 0;
	uint64_t last = 0;
	bool more = false;
	int rv;

	if (!queue_param(r, queue, true)
	    || (rv = api_param(r, "state", state, sizeof(state))) < 0
	    || api_param_u64(r, "after", 0, INT64_MAX, &after) < 0
	    || api_param_u64(r, "limit", PAGE_DEFAULT, PAGE_MAX, &limit) < 0) {
		return;
	}
	if (rv == 1 && !cairn_state_parse(state, &st)) {
		api_fail(r, CAIRN_INVALID_ARGUMENT,
		    "state: pending, active, succeeded, failed, canceled or "
		    "any");
		return;
	}
	limit = limit > 0 ? limit : PAGE_DEFAULT;
	/* A page of one state is a range of the index (queue, state, id).
	 * A page of any state merges one such page per state by id: the
	 * store's list of any state sorts the whole queue by id. */
	np = st == CAIRN_STATE_ANY ? NS : 1;
	for (size_t k = 0; k < np; k++) {
		p[k] = list_state(r, queue, np == 1 ? st : states[k], after,
		    (uint32_t) limit);
		if (p[k] == NULL) {
			goto out;
		}
	}
	json_begin_object(&r->j);
	json_key(&r->j, "tasks");
	json_begin_array(&r->j);
	for (;;) {
		size_t best = NS;
		for (size_t k = 0; k < np; k++) {
			if (at[k] < p[k]->op.out.tasks.n
			    && (best == NS
			        || p[k]->op.out.tasks.tasks[at[k]]->id
			            < p[best]
			                  ->op.out.tasks.tasks[at[best]]
			                  ->id)) {
				best = k;
			}
		}
		if (best == NS) {
			break;
		}
		if (shown == limit) {
			more = true;
			break;
		}
		const struct task *t = p[best]->op.out.tasks.tasks[at[best]++];
		api_json_task_brief(&r->j, t);
		last = t->id;
		shown++;
	}
	for (size_t k = 0; k < np; k++) {
		more = more || p[k]->op.out.tasks.next_after_id != 0;
	}
	json_end_array(&r->j);
	json_kv_uint(&r->j, "next_after", more ? last : 0);
	json_end_object(&r->j);
	api_send(r);
out:
	for (size_t k = 0; k < np; k++) {
		probe_free(p[k]);
	}
}

/* id_param reads the required task or run id "name". */
static bool
id_param(struct api_req *r, const char *name, uint64_t *id)
{
	if (api_param_u64(r, name, 0, INT64_MAX, id) < 0) {
		return (false);
	}
	if (*id == 0) {
		api_fail(
		    r, CAIRN_INVALID_ARGUMENT, "%s: required, from 1", name);
		return (false);
	}
	return (true);
}

void
api_get_task(struct api_req *r)
{
	struct probe *p, *h;
	uint64_t id;

	if (!id_param(r, "id", &id) || (p = api_probe(r, OP_GET)) == NULL) {
		return;
	}
	p->op.in.id = id;
	if ((p = api_run(r, p)) == NULL) {
		return;
	}
	if ((h = api_probe(r, OP_HISTORY)) == NULL) {
		probe_free(p);
		return;
	}
	h->op.in.id = id;
	if ((h = api_run(r, h)) == NULL) {
		probe_free(p);
		return;
	}
	json_begin_object(&r->j);
	json_key(&r->j, "task");
	api_json_task(&r->j, p->op.out.one.task, 0);
	json_key(&r->j, "events");
	api_json_events(&r->j, h->op.out.history.ev, h->op.out.history.n);
	json_end_object(&r->j);
	probe_free(h);
	probe_free(p);
	api_send(r);
}

void
api_get_workflows(struct api_req *r)
{
	static const int states[] = { WF_RUNNING, WF_SUCCEEDED, WF_FAILED,
		WF_CANCELED, WF_TERMINATED };
	struct stats_cache *c = r->api->cfg.cache;
	const struct stats_snap *s = stats_cache_get(c);
	struct json *j = &r->j;

	json_begin_object(j);
	json_kv_int(j, "counted_at_ms", s->at_ms);
	json_key(j, "types");
	json_begin_array(j);
	for (size_t i = 0; i < s->nwst; i++) {
		json_begin_object(j);
		json_kv_string(j, "type", s->wst[i].type);
		for (size_t k = 0; k < sizeof(states) / sizeof(states[0]);
		     k++) {
			json_kv_uint(j, wf_state_name(states[k]),
			    s->wst[i].count[states[k]]);
		}
		json_kv_uint(j, "stuck", s->wst[i].stuck);
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
	stats_snap_release(c, s);
	api_send(r);
}

static bool
wf_state_parse(const char *name, int *out)
{
	static const int states[] = { WF_RUNNING, WF_SUCCEEDED, WF_FAILED,
		WF_CANCELED, WF_TERMINATED };

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		if (strcmp(name, wf_state_name(states[i])) == 0) {
			*out = states[i];
			return (true);
		}
	}
	*out = 0;
	return (strcmp(name, "any") == 0);
}

void
api_get_runs(struct api_req *r)
{
	char type[TASK_QUEUE_MAX + 1], queue[TASK_QUEUE_MAX + 1], state[16];
	char msg[RPC_MSG_MAX];
	uint64_t after, limit, stuck;
	struct wf_filter f = { 0 };
	struct probe *p;
	int rt, rs;

	if ((rt = api_param(r, "type", type, sizeof(type))) < 0
	    || !queue_param(r, queue, false)
	    || (rs = api_param(r, "state", state, sizeof(state))) < 0
	    || api_param_u64(r, "stuck", 0, 1, &stuck) < 0
	    || api_param_u64(r, "after", 0, INT64_MAX, &after) < 0
	    || api_param_u64(r, "limit", PAGE_DEFAULT, PAGE_MAX, &limit) < 0) {
		return;
	}
	if (rt == 1 && type[0] != 0
	    && rpc_check_wf_name("type", type, msg) != CAIRN_OK) {
		api_fail(r, CAIRN_INVALID_ARGUMENT, "%s", msg);
		return;
	}
	if (rs == 1 && !wf_state_parse(state, &f.state)) {
		api_fail(r, CAIRN_INVALID_ARGUMENT,
		    "state: running, succeeded, failed, canceled, terminated "
		    "or any");
		return;
	}
	f.stuck = stuck == 1;
	if ((p = api_probe(r, OP_WF_LIST)) == NULL) {
		return;
	}
	if ((rt == 1 && type[0] != 0
	        && (f.type = api_keep(r, p, type)) == NULL)
	    || (queue[0] != 0 && (f.queue = api_keep(r, p, queue)) == NULL)) {
		probe_free(p);
		return;
	}
	p->op.in.wf_list.filter = f;
	p->op.in.wf_list.limit = limit > 0 ? (uint32_t) limit : PAGE_DEFAULT;
	p->op.in.wf_list.after_id = after;
	if ((p = api_run(r, p)) == NULL) {
		return;
	}
	json_begin_object(&r->j);
	json_key(&r->j, "runs");
	json_begin_array(&r->j);
	for (size_t i = 0; i < p->op.out.wf_runs.n; i++) {
		api_json_run(&r->j, p->op.out.wf_runs.runs[i], 0);
	}
	json_end_array(&r->j);
	json_kv_uint(&r->j, "next_after", p->op.out.wf_runs.next_after_id);
	json_end_object(&r->j);
	probe_free(p);
	api_send(r);
}

bool
api_run_param(struct api_req *r, struct probe *p, char *wfid)
{
	char msg[RPC_MSG_MAX];
	uint64_t id;
	int rv;

	if (api_param_u64(r, "id", 0, INT64_MAX, &id) < 0
	    || (rv = api_param(r, "workflow_id", wfid, WF_ID_MAX + 1)) < 0) {
		return (false);
	}
	if (rv == 0) {
		wfid[0] = 0;
	}
	if (rpc_check_wf_ref(wfid, id, msg) != CAIRN_OK) {
		api_fail(
		    r, CAIRN_INVALID_ARGUMENT, "%s (id or workflow_id)", msg);
		return (false);
	}
	p->op.in.wf.run_id = id;
	return ((p->op.in.wf.workflow_id = api_keep(r, p, wfid)) != NULL);
}

void
api_get_run(struct api_req *r)
{
	char wfid[WF_ID_MAX + 1];
	uint64_t after, limit;
	struct probe *p;

	if ((p = api_probe(r, OP_WF_HISTORY)) == NULL) {
		return;
	}
	if (!api_run_param(r, p, wfid)
	    || api_param_u64(r, "after_seq", 0, UINT32_MAX, &after) < 0
	    || api_param_u64(r, "limit", LOG_DEFAULT, LOG_MAX, &limit) < 0) {
		probe_free(p);
		return;
	}
	p->op.in.wf.after_seq = (uint32_t) after;
	p->op.in.wf.limit = limit > 0 ? (uint32_t) limit : LOG_DEFAULT;
	if ((p = api_run(r, p)) == NULL) {
		return;
	}
	json_begin_object(&r->j);
	json_key(&r->j, "run");
	api_json_run(&r->j, p->op.out.wf.run, BYTES_MAX);
	json_key(&r->j, "entries");
	json_begin_array(&r->j);
	for (size_t i = 0; i < p->op.out.wf.n; i++) {
		api_json_entry(&r->j, &p->op.out.wf.entries[i], BYTES_MAX);
	}
	json_end_array(&r->j);
	json_kv_uint(&r->j, "next_after_seq", p->op.out.wf.next_after_seq);
	json_end_object(&r->j);
	probe_free(p);
	api_send(r);
}

/* search_op runs one op of a search; a NOT_FOUND is no match, not an
 * error. Returns the answered probe, or NULL. *failed is set when the
 * request was answered with an error. */
static struct probe *
search_op(struct api_req *r, struct probe *p, bool *failed)
{
	struct api *a = r->api;

	if (p == NULL) {
		*failed = true;
		return (NULL);
	}
	if ((p = probe_run(a->cfg.engine, p, a->cfg.probe_timeout_ms))
	    == NULL) {
		api_fail(r, CAIRN_UNAVAILABLE, "the store did not answer");
		*failed = true;
		return (NULL);
	}
	if (p->op.status == CAIRN_NOT_FOUND
	    || p->op.status == CAIRN_UNIMPLEMENTED) {
		probe_free(p);
		return (NULL);
	}
	if (p->op.status != CAIRN_OK) {
		api_fail(r, p->op.status, "%s", p->op.msg);
		probe_free(p);
		*failed = true;
		return (NULL);
	}
	return (p);
}

/* find_key looks the key up in every queue the counts know of (or the
 * one named): one index seek per queue. */
static struct probe *
find_key(struct api_req *r, const char *key, const char *queue, bool *failed)
{
	struct stats_cache *c = r->api->cfg.cache;
	const struct stats_snap *s = stats_cache_get(c);
	size_t n = queue[0] != 0 ? 1 : s->nst, size = 0;
	struct probe *p = api_probe(r, OP_FIND_KEY);
	const char **queues = NULL;
	char *names;

	/* The queue names, in one block that the probe keeps: the
	 * snapshot may be gone before the engine reads them. */
	n = n < SEARCH_QUEUES ? n : SEARCH_QUEUES;
	for (size_t i = 0; i < n; i++) {
		size += strlen(queue[0] != 0 ? queue : s->st[i].queue) + 1;
	}
	if (p != NULL
	    && ((queues = probe_keep(p, NULL, n * sizeof(*queues) + size))
	            == NULL
	        || (p->op.in.find_key.key = api_keep(r, p, key)) == NULL)) {
		if (queues == NULL) {
			api_fail(r, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		}
		probe_free(p);
		p = NULL;
	}
	if (p != NULL) {
		names = (char *) (queues + n);
		for (size_t i = 0; i < n; i++) {
			const char *q = queue[0] != 0 ? queue : s->st[i].queue;
			queues[i] = strcpy(names, q);
			names += strlen(q) + 1;
		}
		p->op.in.find_key.queues = queues;
		p->op.in.find_key.n = n;
	}
	p = search_op(r, p, failed);
	stats_snap_release(c, s);
	return (p);
}

void
api_get_search(struct api_req *r)
{
	char q[WF_ID_MAX + 1], queue[TASK_QUEUE_MAX + 1], *end;
	struct probe *task = NULL, *run = NULL, *wf = NULL, *key = NULL;
	bool failed = false;
	int rv;

	if ((rv = api_param(r, "q", q, sizeof(q))) < 0
	    || !queue_param(r, queue, false)) {
		return;
	}
	if (rv == 0 || q[0] == 0) {
		api_fail(r, CAIRN_INVALID_ARGUMENT,
		    "q: a task id, a run id, a workflow id or an idempotency "
		    "key");
		return;
	}
	errno = 0;
	uint64_t id = strtoull(q, &end, 10);
	if (q[0] >= '0' && q[0] <= '9' && *end == 0 && errno == 0 && id > 0
	    && id <= INT64_MAX) {
		if ((task = api_probe(r, OP_GET)) != NULL) {
			task->op.in.id = id;
		}
		task = search_op(r, task, &failed);
		if (!failed && (run = api_probe(r, OP_WF_GET)) != NULL) {
			run->op.in.wf.run_id = id;
		}
		run = failed ? NULL : search_op(r, run, &failed);
	}
	if (!failed && (wf = api_probe(r, OP_WF_GET)) != NULL
	    && (wf->op.in.wf.workflow_id = api_keep(r, wf, q)) == NULL) {
		probe_free(wf);
		wf = NULL;
		failed = true;
	}
	wf = failed ? NULL : search_op(r, wf, &failed);
	if (!failed && strlen(q) <= RPC_KEY_MAX) {
		key = find_key(r, q, queue, &failed);
	}
	if (!failed) {
		json_begin_object(&r->j);
		json_key(&r->j, "tasks");
		json_begin_array(&r->j);
		if (task != NULL) {
			api_json_task_brief(&r->j, task->op.out.one.task);
		}
		for (size_t i = 0; key != NULL && i < key->op.out.tasks.n;
		     i++) {
			api_json_task_brief(&r->j, key->op.out.tasks.tasks[i]);
		}
		json_end_array(&r->j);
		json_key(&r->j, "runs");
		json_begin_array(&r->j);
		if (run != NULL) {
			api_json_run(&r->j, run->op.out.wf.run, 0);
		}
		if (wf != NULL
		    && (run == NULL
		        || wf->op.out.wf.run->id != run->op.out.wf.run->id)) {
			api_json_run(&r->j, wf->op.out.wf.run, 0);
		}
		json_end_array(&r->j);
		json_end_object(&r->j);
		api_send(r);
	}
	probe_free(task);
	probe_free(run);
	probe_free(wf);
	probe_free(key);
}
