/*
 * rpc/schedule.c - the rpcs of cron schedules: AddSchedule,
 * ListSchedules, PauseSchedule, ResumeSchedule and DeleteSchedule. The
 * cron text and the time zone are checked here, before anything reaches
 * storage; the engine fires the ticks (lifecycle/schedule.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle/cron.h"
#include "lifecycle/schedule.h"
#include "rpc/handlers.h"

/* check_name checks a schedule's name (the rules of a queue's). */
static int
check_name(const char *name, char *msg)
{
	size_t n = name != NULL ? strlen(name) : 0;

	if (n == 0 || n > SCHED_NAME_MAX
	    || strspn(name,
	           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	           "0123456789_.:-")
	        != n) {
		return (rpc_invalid(msg,
		    "name: 1 to %d of A-Z a-z 0-9 _ . : -", SCHED_NAME_MAX));
	}
	return (CAIRN_OK);
}

/* check_schedule checks what AddSchedule is given. */
static int
check_schedule(const Cairn__V1__Schedule *sc, size_t max_payload, char *msg)
{
	struct cron c;
	int rv;

	if (sc == NULL) {
		return (rpc_invalid(msg, "schedule: required"));
	}
	if ((rv = check_name(sc->name, msg)) != CAIRN_OK) {
		return (rv);
	}
	if (!cron_parse(sc->cron, &c, msg, RPC_MSG_MAX)
	    || !cron_zone_check(sc->time_zone, msg, RPC_MSG_MAX)) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (sc->task == NULL) {
		return (
		    rpc_invalid(msg, "task: required (at least its queue)"));
	}
	if ((rv = rpc_check_spec(0, sc->task, max_payload, msg)) != 0) {
		/* Its messages name tasks[0]: this task is the schedule's. */
		if (strncmp(msg, "tasks[0].", 9) == 0) {
			memmove(msg + 5, msg + 9, strlen(msg + 9) + 1);
			memcpy(msg, "task.", 5);
		}
		return (rv);
	}
	if (sc->task->idempotency_key[0] != 0 || sc->task->delay_ms != 0
	    || sc->task->run_at_ms != 0) {
		return (rpc_invalid(msg,
		    "task: idempotency_key, delay_ms and run_at_ms are set "
		    "by each tick"));
	}
	if (sc->missed != CAIRN__V1__MISSED_TICKS__MISSED_TICKS_UNSPECIFIED
	    && sc->missed != CAIRN__V1__MISSED_TICKS__MISSED_TICKS_FIRE_ONCE
	    && sc->missed != CAIRN__V1__MISSED_TICKS__MISSED_TICKS_SKIP) {
		return (rpc_invalid(msg, "missed: FIRE_ONCE or SKIP, not %d",
		    (int) sc->missed));
	}
	return (CAIRN_OK);
}

/* The wire form of a schedule, with the task it points to. */
struct pb_schedule {
	Cairn__V1__Schedule sc;
	Cairn__V1__TaskSpec task;
	Cairn__V1__RetryPolicy retry;
};

static void
to_pb(const struct schedule *s, struct pb_schedule *pb)
{
	cairn__v1__schedule__init(&pb->sc);
	cairn__v1__task_spec__init(&pb->task);
	cairn__v1__retry_policy__init(&pb->retry);
	pb->retry.initial_backoff_ms = s->retry.initial_ms;
	pb->retry.multiplier = s->retry.multiplier;
	pb->retry.max_backoff_ms = s->retry.max_ms;
	pb->task.queue = s->queue;
	pb->task.payload.data = s->payload;
	pb->task.payload.len = s->payload_len;
	pb->task.priority = s->priority;
	pb->task.max_attempts = s->max_attempts;
	pb->task.retry = &pb->retry;
	pb->task.heartbeat_timeout_ms = s->heartbeat_timeout_ms;
	pb->task.start_to_close_timeout_ms = s->start_to_close_ms;
	pb->sc.name = s->name;
	pb->sc.cron = s->cron;
	pb->sc.time_zone = s->zone;
	pb->sc.task = &pb->task;
	pb->sc.missed = (Cairn__V1__MissedTicks) s->missed;
	pb->sc.paused = s->paused;
	pb->sc.next_fire_at_ms
	    = s->next_fire_ms == TASK_TIME_NEVER ? 0 : s->next_fire_ms;
	pb->sc.last_fire_at_ms = s->last_fire_ms;
	pb->sc.last_task_id = s->last_task_id;
	pb->sc.created_at_ms = s->created_ms;
	pb->sc.updated_at_ms = s->updated_ms;
}

/* from_pb makes the store's schedule of a checked request; its strings
 * are borrowed from the request. */
static void
from_pb(const Cairn__V1__Schedule *in, struct schedule *out)
{
	struct task_spec spec;

	rpc_spec_from_pb(in->task, &spec);
	*out = (struct schedule) {
		.name = in->name,
		.cron = in->cron,
		.zone = in->time_zone,
		.queue = in->task->queue,
		.payload = in->task->payload.data,
		.payload_len = in->task->payload.len,
		.priority = spec.priority,
		.max_attempts = spec.max_attempts,
		.retry = spec.retry,
		.heartbeat_timeout_ms = spec.heartbeat_timeout_ms,
		.start_to_close_ms = spec.start_to_close_ms,
		.missed
		= in->missed == CAIRN__V1__MISSED_TICKS__MISSED_TICKS_SKIP
		    ? SCHED_MISSED_SKIP
		    : SCHED_MISSED_FIRE_ONCE,
		.paused = in->paused,
	};
}

/* reply_one answers an op that gives one schedule back (add, pause,
 * resume) with the response of descriptor d. AddScheduleResponse,
 * PauseScheduleResponse and ResumeScheduleResponse are alike (field 1,
 * the schedule), so one struct serves under each descriptor. */
static void
reply_one(struct engine_op *op, const ProtobufCMessageDescriptor *d)
{
	struct rpc_ctx *c = op->arg;
	struct pb_schedule pb;
	Cairn__V1__AddScheduleResponse resp
	    = CAIRN__V1__ADD_SCHEDULE_RESPONSE__INIT;

	if (rpc_done_error(c)) {
		return;
	}
	to_pb(op->out.sched.v, &pb);
	resp.schedule = &pb.sc;
	resp.base.descriptor = d;
	c->closure(&resp.base, c);
}

static void
add_done(struct engine_op *op)
{
	reply_one(op, &cairn__v1__add_schedule_response__descriptor);
}

static void
pause_done(struct engine_op *op)
{
	reply_one(op, &cairn__v1__pause_schedule_response__descriptor);
}

static void
resume_done(struct engine_op *op)
{
	reply_one(op, &cairn__v1__resume_schedule_response__descriptor);
}

void
rpc_add_schedule(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__AddScheduleRequest *in,
    Cairn__V1__AddScheduleResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	struct schedule *sc;
	int rv;

	rv = check_schedule(
	    in->schedule, c->srv->cfg.limits.max_payload, c->msg);
	if (rv != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	if ((sc = c->scratch = calloc(1, sizeof(*sc))) == NULL) {
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	from_pb(in->schedule, sc);
	c->op.kind = OP_SCHED_ADD;
	c->op.in.sched.sc = sc;
	c->op.in.sched.flag = in->replace;
	c->op.in.sched.create_queue = in->create_queue;
	rpc_submit(c, (ProtobufCClosure) closure, add_done);
}

/* by_name submits the op of kind on schedule name. */
static void
by_name(struct rpc_ctx *c, const char *name, enum engine_op_kind kind,
    bool flag, ProtobufCClosure closure, void (*done)(struct engine_op *op))
{
	int rv;

	if ((rv = check_name(name, c->msg)) != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	c->op.kind = kind;
	c->op.in.sched.name = name;
	c->op.in.sched.flag = flag;
	rpc_submit(c, closure, done);
}

void
rpc_pause_schedule(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__PauseScheduleRequest *in,
    Cairn__V1__PauseScheduleResponse_Closure closure, void *data)
{
	by_name(data, in->name, OP_SCHED_PAUSE, true,
	    (ProtobufCClosure) closure, pause_done);
}

void
rpc_resume_schedule(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__ResumeScheduleRequest *in,
    Cairn__V1__ResumeScheduleResponse_Closure closure, void *data)
{
	by_name(data, in->name, OP_SCHED_PAUSE, false,
	    (ProtobufCClosure) closure, resume_done);
}

static void
delete_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__DeleteScheduleResponse resp
	    = CAIRN__V1__DELETE_SCHEDULE_RESPONSE__INIT;

	if (rpc_done_error(c)) {
		return;
	}
	c->closure(&resp.base, c);
}

void
rpc_delete_schedule(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__DeleteScheduleRequest *in,
    Cairn__V1__DeleteScheduleResponse_Closure closure, void *data)
{
	by_name(data, in->name, OP_SCHED_DELETE, false,
	    (ProtobufCClosure) closure, delete_done);
}

static void
list_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__ListSchedulesResponse resp
	    = CAIRN__V1__LIST_SCHEDULES_RESPONSE__INIT;
	size_t n = op->out.sched.n;
	struct pb_schedule *pb = calloc(n > 0 ? n : 1, sizeof(*pb));
	Cairn__V1__Schedule **ptrs = calloc(n > 0 ? n : 1, sizeof(*ptrs));

	if (rpc_done_error(c)) {
		free(pb);
		free(ptrs);
		return;
	}
	if (pb == NULL || ptrs == NULL) {
		free(pb);
		free(ptrs);
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		to_pb(&op->out.sched.v[i], &pb[i]);
		ptrs[i] = &pb[i].sc;
	}
	resp.n_schedules = n;
	resp.schedules = ptrs;
	c->closure(&resp.base, c);
	free(ptrs);
	free(pb);
}

void
rpc_list_schedules(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__ListSchedulesRequest *in,
    Cairn__V1__ListSchedulesResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;

	(void) in;
	c->op.kind = OP_SCHED_LIST;
	rpc_submit(c, (ProtobufCClosure) closure, list_done);
}
