/*
 * wf_crash_lines.c - the worker processes' side of the workflow crash
 * proofs: the lines they wrote (wf_crash.h) against the final logs.
 *
 *   exec TASK ATTEMPT RESULT a task worker runs an activity, and will
 *                            complete it with RESULT
 *   acked TASK RESULT        its Complete was answered OK
 *   stepexec RUN SEQ         a step's code ran
 *   stepack RUN SEQ RESULT   a new step's checkpoint was answered OK
 *   seen RUN SEQ HASH        a workflow's code got that outcome from the
 *                            log (the hash of its result)
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wf_crash_internal.h"

void
wfc_final_init(struct wfc_final *f)
{
	memset(f, 0, sizeof(*f));
}

void
wfc_final_free(struct wfc_final *f)
{
	free(f->v);
	memset(f, 0, sizeof(*f));
}

void
wfc_final_add(struct wfc_final *f, const cairn_workflow_run *run,
    const cairn_wf_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (f->n == f->cap) {
			f->cap = f->cap ? 2 * f->cap : 1024;
			f->v = realloc(f->v, f->cap * sizeof(*f->v));
			if (f->v == NULL) {
				abort();
			}
		}
		f->v[f->n++] = (struct wfc_fentry) {
			.run_id = run->run_id,
			.seq = e[i].seq,
			.kind = e[i].kind,
			.status = e[i].status,
			.task_id = e[i].task_id,
			.result_hash
			= cairn_wf_hash(e[i].result, e[i].result_len),
		};
	}
	f->sorted = false;
}

static int
cmp_ref(const void *a, const void *b)
{
	const struct wfc_fentry *x = a, *y = b;

	if (x->run_id != y->run_id) {
		return (x->run_id < y->run_id ? -1 : 1);
	}
	return (x->seq < y->seq ? -1 : x->seq > y->seq);
}

static struct wfc_fentry *
by_ref(struct wfc_final *f, uint64_t run_id, uint32_t seq)
{
	struct wfc_fentry key = { .run_id = run_id, .seq = seq };

	return (bsearch(&key, f->v, f->n, sizeof(*f->v), cmp_ref));
}

/* Tasks: an index of the activity entries by task id. */
struct task_index {
	struct wfc_fentry **v;
	size_t n;
};

static int
cmp_task(const void *a, const void *b)
{
	uint64_t x = (*(struct wfc_fentry *const *) a)->task_id;
	uint64_t y = (*(struct wfc_fentry *const *) b)->task_id;

	return (x < y ? -1 : x > y);
}

static struct wfc_fentry *
by_task(const struct task_index *t, uint64_t id)
{
	struct wfc_fentry key = { .task_id = id }, *k = &key, **hit;

	hit = bsearch(&k, t->v, t->n, sizeof(*t->v), cmp_task);
	return (hit != NULL ? *hit : NULL);
}

/* Executions of tasks that no final entry names, each counted once. */
struct orphans {
	uint64_t *v;
	size_t n, cap;
};

static void
orphan(struct orphans *o, uint64_t id)
{
	for (size_t i = 0; i < o->n; i++) {
		if (o->v[i] == id) {
			return;
		}
	}
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 64;
		if ((o->v = realloc(o->v, o->cap * sizeof(*o->v))) == NULL) {
			abort();
		}
	}
	o->v[o->n++] = id;
	fprintf(stderr,
	    "wf_crash: task %" PRIu64 " ran, and no log names it\n", id);
}

static void
one_line(struct wfc_final *f, const struct task_index *t, const char *line,
    struct orphans *o, struct wfc_counts *c)
{
	char result[256] = "";
	uint64_t id, h;
	uint32_t seq;
	struct wfc_fentry *e;

	if (sscanf(line, "exec %" SCNu64 " %*u %255s", &id, result) == 2) {
		if ((e = by_task(t, id)) != NULL) {
			e->execs++;
			e->returned |= e->result_hash
			    == cairn_wf_hash(result, strlen(result));
		} else {
			orphan(o, id);
		}
	} else if (sscanf(line, "acked %" SCNu64 " %255s", &id, result) == 2) {
		c->task_acks++;
		e = by_task(t, id);
		if (e == NULL || e->status != CAIRN_WF_ENTRY_COMPLETED
		    || e->result_hash
		        != cairn_wf_hash(result, strlen(result))) {
			fprintf(stderr,
			    "wf_crash: the completion of task %" PRIu64
			    " was acknowledged and is not in its log\n",
			    id);
			c->task_acks_lost++;
		}
	} else if (sscanf(line, "stepexec %" SCNu64 " %" SCNu32, &id, &seq)
	    == 2) {
		if ((e = by_ref(f, id, seq)) != NULL) {
			e->execs++;
		}
	} else if (sscanf(line, "seen %" SCNu64 " %" SCNu32 " %" SCNx64, &id,
	               &seq, &h)
	    == 3) {
		c->replay_seen++;
		e = by_ref(f, id, seq);
		if (e == NULL || e->result_hash != h) {
			fprintf(stderr,
			    "wf_crash: a worker saw entry %" PRIu32
			    " of run %" PRIu64 " with another outcome\n",
			    seq, id);
			c->replay_changed++;
		}
	} else if (sscanf(line, "stepack %" SCNu64 " %" SCNu32 " %255s", &id,
	               &seq, result)
	    == 3) {
		c->step_acks++;
		e = by_ref(f, id, seq);
		if (e == NULL || e->kind != CAIRN_WF_STEP
		    || e->result_hash
		        != cairn_wf_hash(result, strlen(result))) {
			fprintf(stderr,
			    "wf_crash: step %" PRIu32 " of run %" PRIu64
			    " was acknowledged as %s and is not in its log\n",
			    seq, id, result);
			c->step_acks_lost++;
		}
	}
}

static void
read_file(struct wfc_final *f, const struct task_index *t, const char *path,
    struct orphans *o, struct wfc_counts *c)
{
	char line[512];
	FILE *fp = fopen(path, "r");

	if (fp == NULL) {
		c->integrity_failures++;
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		one_line(f, t, line, o, c);
	}
	fclose(fp);
}

/* count_execs counts executions and duplicates over the final entries. */
static void
count_execs(const struct wfc_final *f, struct wfc_counts *c)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct wfc_fentry *e = &f->v[i];
		if (e->kind == CAIRN_WF_ACTIVITY) {
			c->activities++;
			c->activity_execs += e->execs;
			c->activity_dups += e->execs > 1 ? e->execs - 1 : 0;
			if (!e->returned
			    && e->status == CAIRN_WF_ENTRY_COMPLETED) {
				fprintf(stderr,
				    "wf_crash: activity %u of run %" PRIu64
				    " completed with what no execution "
				    "returned\n",
				    e->seq, e->run_id);
				c->foreign_result++;
			}
		} else if (e->kind == CAIRN_WF_STEP) {
			c->step_execs += e->execs;
			c->step_dups += e->execs > 1 ? e->execs - 1 : 0;
		}
	}
}

void
wfc_check_lines(struct wfc_final *f, const char *dir, struct wfc_counts *c)
{
	struct task_index t = { 0 };
	struct orphans o = { 0 };
	struct dirent *d;
	char path[512];
	DIR *dp;

	qsort(f->v, f->n, sizeof(*f->v), cmp_ref);
	if ((t.v = calloc(f->n + 1, sizeof(*t.v))) == NULL) {
		abort();
	}
	for (size_t i = 0; i < f->n; i++) {
		if (f->v[i].kind == CAIRN_WF_ACTIVITY
		    && f->v[i].task_id != 0) {
			t.v[t.n++] = &f->v[i];
		}
	}
	qsort(t.v, t.n, sizeof(*t.v), cmp_task);
	if ((dp = opendir(dir)) == NULL) {
		c->integrity_failures++;
		free(t.v);
		return;
	}
	while ((d = readdir(dp)) != NULL) {
		size_t len = strlen(d->d_name);
		if (len > 7 && strcmp(d->d_name + len - 7, ".events") == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			read_file(f, &t, path, &o, c);
		}
	}
	closedir(dp);
	count_execs(f, c);
	c->orphan_execs += o.n;
	free(o.v);
	free(t.v);
}
