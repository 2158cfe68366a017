/*
 * rpc_schedule.c - the calls of cron schedules (cairn_schedule_*):
 * AddSchedule, ListSchedules, PauseSchedule / ResumeSchedule and
 * DeleteSchedule.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void
cairn_schedule_free(cairn_schedule *s)
{
	if (s == NULL) {
		return;
	}
	free(s->name);
	free(s->cron);
	free(s->time_zone);
	free(s->queue);
	free(s->payload);
	free(s);
}

void
cairn_schedules_free(cairn_schedule **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++) {
		cairn_schedule_free(v[i]);
	}
	free(v);
}

/* from_pb makes a cairn_schedule of pb, or NULL when out of memory. */
static cairn_schedule *
from_pb(const Cairn__V1__Schedule *pb)
{
	cairn_schedule *s = calloc(1, sizeof(*s));
	const Cairn__V1__TaskSpec *t = pb->task;

	if (s == NULL) {
		return (NULL);
	}
	s->name = cairn__str_dup(pb->name);
	s->cron = cairn__str_dup(pb->cron);
	s->time_zone = cairn__str_dup(pb->time_zone);
	s->queue = cairn__str_dup(t != NULL ? t->queue : "");
	if (t != NULL && t->payload.len > 0) {
		s->payload = cairn__bytes_dup(&t->payload, &s->payload_len);
	}
	if (s->name == NULL || s->cron == NULL || s->time_zone == NULL
	    || s->queue == NULL
	    || (t != NULL && t->payload.len > 0 && s->payload == NULL)) {
		cairn_schedule_free(s);
		return (NULL);
	}
	s->priority = t != NULL ? t->priority : 0;
	s->max_attempts = t != NULL ? t->max_attempts : 0;
	s->skip_missed
	    = pb->missed == CAIRN__V1__MISSED_TICKS__MISSED_TICKS_SKIP;
	s->paused = pb->paused;
	s->next_fire_at_ms = pb->next_fire_at_ms;
	s->last_fire_at_ms = pb->last_fire_at_ms;
	s->last_task_id = pb->last_task_id;
	s->created_at_ms = pb->created_at_ms;
	s->updated_at_ms = pb->updated_at_ms;
	return (s);
}

/* one hands out the schedule of a response whose field 1 it is. */
static int
one(cairn_client *c, ProtobufCMessage *m, const Cairn__V1__Schedule *pb,
    cairn_schedule **out)
{
	int rv = CAIRN_OK;

	if (out != NULL) {
		*out = pb != NULL ? from_pb(pb) : NULL;
		if (*out == NULL) {
			rv = cairn__fail(c, CAIRN_RESOURCE_EXHAUSTED,
			    "out of memory reading a schedule");
		}
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (rv);
}

int
cairn_schedule_add(
    cairn_client *c, const cairn_schedule_spec *spec, cairn_schedule **out)
{
	Cairn__V1__AddScheduleRequest req
	    = CAIRN__V1__ADD_SCHEDULE_REQUEST__INIT;
	Cairn__V1__Schedule sc = CAIRN__V1__SCHEDULE__INIT;
	Cairn__V1__TaskSpec task;
	Cairn__V1__RetryPolicy retry;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (spec == NULL || spec->name == NULL || spec->cron == NULL
	    || spec->task.queue == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_schedule_add: name, cron and task.queue are "
		    "required"));
	}
	cairn__spec_to_pb(&spec->task, &task, &retry);
	sc.name = (char *) spec->name;
	sc.cron = (char *) spec->cron;
	if (spec->time_zone != NULL) {
		sc.time_zone = (char *) spec->time_zone;
	}
	sc.task = &task;
	sc.missed = spec->skip_missed
	    ? CAIRN__V1__MISSED_TICKS__MISSED_TICKS_SKIP
	    : CAIRN__V1__MISSED_TICKS__MISSED_TICKS_FIRE_ONCE;
	sc.paused = spec->paused;
	req.schedule = &sc;
	req.replace = spec->replace;
	req.create_queue = spec->create_queue;
	if ((rv = cairn__call(
	         c, "AddSchedule", &req.base, 0, CAIRN__MUTATING, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	return (
	    one(c, m, ((Cairn__V1__AddScheduleResponse *) m)->schedule, out));
}

int
cairn_schedule_list(cairn_client *c, cairn_schedule ***out, size_t *n)
{
	Cairn__V1__ListSchedulesRequest req
	    = CAIRN__V1__LIST_SCHEDULES_REQUEST__INIT;
	Cairn__V1__ListSchedulesResponse *resp;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL || out == NULL || n == NULL) {
		return (c == NULL ? CAIRN_INVALID_ARGUMENT
		                  : cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		                      "cairn_schedule_list: out and n are "
		                      "required"));
	}
	if ((rv = cairn__call(c, "ListSchedules", &req.base, 0, 0, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__ListSchedulesResponse *) m;
	cairn_schedule **v = calloc(
	    resp->n_schedules > 0 ? resp->n_schedules : 1, sizeof(*v));
	size_t got = 0;
	while (v != NULL && got < resp->n_schedules
	    && (v[got] = from_pb(resp->schedules[got])) != NULL) {
		got++;
	}
	if (v == NULL || got < resp->n_schedules) {
		cairn_schedules_free(v, got);
		protobuf_c_message_free_unpacked(m, NULL);
		return (cairn__fail(c, CAIRN_RESOURCE_EXHAUSTED,
		    "out of memory reading schedules"));
	}
	*out = v;
	*n = got;
	protobuf_c_message_free_unpacked(m, NULL);
	return (CAIRN_OK);
}

int
cairn_schedule_pause(
    cairn_client *c, const char *name, bool paused, cairn_schedule **out)
{
	Cairn__V1__PauseScheduleRequest preq
	    = CAIRN__V1__PAUSE_SCHEDULE_REQUEST__INIT;
	Cairn__V1__ResumeScheduleRequest rreq
	    = CAIRN__V1__RESUME_SCHEDULE_REQUEST__INIT;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (name == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_schedule_pause: no name"));
	}
	preq.name = rreq.name = (char *) name;
	rv = paused ? cairn__call(
	         c, "PauseSchedule", &preq.base, 0, CAIRN__MUTATING, &m)
	            : cairn__call(c, "ResumeSchedule", &rreq.base, 0,
	                CAIRN__MUTATING, &m);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	/* The two responses are alike: field 1, the schedule. */
	return (one(
	    c, m, ((Cairn__V1__PauseScheduleResponse *) m)->schedule, out));
}

int
cairn_schedule_delete(cairn_client *c, const char *name)
{
	Cairn__V1__DeleteScheduleRequest req
	    = CAIRN__V1__DELETE_SCHEDULE_REQUEST__INIT;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (name == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_schedule_delete: no name"));
	}
	req.name = (char *) name;
	if ((rv = cairn__call(
	         c, "DeleteSchedule", &req.base, 0, CAIRN__MUTATING, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (CAIRN_OK);
}
