/*
 * store/task.c - freeing the server's own structs of tasks (task.h). The
 * rules about tasks are the lifecycle's (lifecycle/rules.c).
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_sched.h"
#include "store/task.h"

void
task_clear(struct task *t)
{
	free(t->queue);
	free(t->payload);
	free(t->idempotency_key);
	free(t->details);
	free(t->result);
	free(t->last_error);
	free(t->worker_id);
	memset(t, 0, sizeof(*t));
}

void
task_free(struct task *t)
{
	if (t == NULL) {
		return;
	}
	task_clear(t);
	free(t);
}

void
task_array_free(struct task **tasks, size_t n)
{
	if (tasks == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		task_free(tasks[i]);
	}
	free(tasks);
}

void
task_events_free(struct task_event *ev, size_t n)
{
	if (ev == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		free(ev[i].kind);
		free(ev[i].worker_id);
		free(ev[i].message);
	}
	free(ev);
}

void
queue_stats_free(struct queue_stats *st, size_t n)
{
	if (st == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		free(st[i].queue);
	}
	free(st);
}

void
schedule_clear(struct schedule *sc)
{
	free(sc->name);
	free(sc->cron);
	free(sc->zone);
	free(sc->queue);
	free(sc->payload);
	memset(sc, 0, sizeof(*sc));
}

void
schedules_free(struct schedule *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++) {
		schedule_clear(&v[i]);
	}
	free(v);
}

void
names_free(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++) {
		free(v[i]);
	}
	free(v);
}
