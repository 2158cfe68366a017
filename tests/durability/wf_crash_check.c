/*
 * wf_crash_check.c - the checker of the workflow crash proofs
 * (wf_crash.h): snapshots compared as they come and with the final logs,
 * and every acknowledged run recomputed from its final log as its code
 * computes it. The worker processes' lines are checked in
 * wf_crash_lines.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wf_crash_internal.h"

static uint64_t
bytes_hash(const void *p, size_t n)
{
	return (cairn_wf_hash(p, n));
}

static void
seen_of(const cairn_wf_entry *e, struct wfc_seen *s)
{
	memset(s, 0, sizeof(*s));
	s->seq = e->seq;
	s->kind = e->kind;
	s->name_hash = bytes_hash(e->name, strlen(e->name));
	s->input_hash = e->input_hash;
	s->created_ms = e->created_at_ms;
	s->fire_at_ms = e->fire_at_ms;
	s->task_id = e->task_id;
	s->child_run_id = e->child_run_id;
	s->status = e->status;
	if (e->status != CAIRN_WF_ENTRY_PENDING) {
		s->outcome_hash
		    = wfc_fold(bytes_hash(e->result, e->result_len), e->error,
		        strlen(e->error));
		s->resolved_order = e->resolved_order;
	}
}

static bool
same_identity(const struct wfc_seen *a, const struct wfc_seen *b)
{
	return (a->seq == b->seq && a->kind == b->kind
	    && a->name_hash == b->name_hash && a->input_hash == b->input_hash
	    && a->created_ms == b->created_ms && a->fire_at_ms == b->fire_at_ms
	    && a->task_id == b->task_id && a->child_run_id == b->child_run_id);
}

static bool
same_outcome(const struct wfc_seen *a, const struct wfc_seen *b)
{
	return (a->status == b->status && a->outcome_hash == b->outcome_hash
	    && a->resolved_order == b->resolved_order);
}

static bool
finished(int state)
{
	return (state >= (int) CAIRN_WF_SUCCEEDED);
}

/* compare holds a snapshot against what was seen of the run; with keep,
 * what is new is kept. */
static void
compare(struct wfc_run *r, const cairn_workflow_run *run,
    const cairn_wf_entry *e, size_t n, bool keep, struct wfc_counts *c)
{
	uint64_t rh = wfc_fold(bytes_hash(run->result, run->result_len),
	    run->error, strlen(run->error));

	if (finished(r->state)
	    && ((int) run->state != r->state || rh != r->result_hash)) {
		fprintf(stderr, "wf_crash: run %s was seen %s and is now %s\n",
		    r->wfid, cairn_workflow_state_name(r->state),
		    cairn_workflow_state_name(run->state));
		c->changed++;
	} else if (keep) {
		r->state = run->state;
		r->result_hash = rh;
	}
	if (n < r->nseen) {
		fprintf(stderr,
		    "wf_crash: the log of %s had %u entries, now %zu\n",
		    r->wfid, r->nseen, n);
		c->shortened++;
	}
	for (size_t i = 0; i < n && i < WFC_MAX_ENTRIES; i++) {
		struct wfc_seen s, *old = &r->seen[i];
		seen_of(&e[i], &s);
		if (i >= r->nseen) {
			if (keep) {
				*old = s;
				r->nseen = (uint32_t) i + 1;
				c->entries_observed++;
			}
			continue;
		}
		if (!same_identity(old, &s)
		    || (old->status != CAIRN_WF_ENTRY_PENDING
		        && !same_outcome(old, &s))) {
			fprintf(stderr,
			    "wf_crash: entry %u of %s changed (kind %d -> "
			    "%d, status %d -> %d, task %" PRIu64 " -> %" PRIu64
			    ")\n",
			    old->seq, r->wfid, old->kind, s.kind, old->status,
			    s.status, old->task_id, s.task_id);
			c->changed++;
		} else if (keep && old->status == CAIRN_WF_ENTRY_PENDING) {
			*old = s;
		}
	}
}

void
wfc_observe(struct wfc_run *r, const cairn_workflow_run *run,
    const cairn_wf_entry *e, size_t n, struct wfc_counts *c)
{
	c->observations++;
	compare(r, run, e, n, true, c);
}

uint64_t
wfc_violations(const struct wfc_counts *c)
{
	return (c->missing + c->unfinished + c->wrong_result + c->extra_runs
	    + c->changed + c->shortened + c->step_acks_lost + c->task_acks_lost
	    + c->orphan_execs + c->foreign_result + c->replay_changed
	    + c->integrity_failures);
}

int
wfc_read_log(cairn_client *c, uint64_t run_id, cairn_workflow_run **run,
    cairn_wf_entry **out, size_t *n)
{
	cairn_wf_entry *all = NULL;
	uint32_t after = 0;
	size_t total = 0;
	int rv;

	*run = NULL;
	do {
		cairn_wf_entry *v;
		size_t k;
		cairn_workflow_run_free(*run);
		*run = NULL;
		rv = cairn_workflow_history(
		    c, run_id, NULL, after, 0, run, &v, &k, &after);
		if (rv != CAIRN_OK) {
			cairn_wf_entries_free(all, total);
			cairn_workflow_run_free(*run);
			*run = NULL;
			return (rv);
		}
		cairn_wf_entry *grown
		    = realloc(all, (total + k + 1) * sizeof(*all));
		if (grown == NULL) {
			abort(); /* a test program: out of memory is fatal */
		}
		all = grown;
		memcpy(all + total, v, k * sizeof(*v));
		total += k;
		free(v); /* the entries' buffers moved to all */
	} while (after != 0);
	*out = all;
	*n = total;
	return (CAIRN_OK);
}

/* expect compares one entry with what the code records there. */
static bool
expect(const cairn_wf_entry *e, cairn_wf_kind kind, const char *name,
    const char *input, const char *result)
{
	if (e->kind != kind || strcmp(e->name, name) != 0
	    || e->status != CAIRN_WF_ENTRY_COMPLETED) {
		return (false);
	}
	if (input != NULL
	    && (e->input_len != strlen(input)
	        || memcmp(e->input, input, e->input_len) != 0)) {
		return (false);
	}
	return (result == NULL
	    || (e->result_len == strlen(result)
	        && memcmp(e->result, result, e->result_len) == 0));
}

/* expect_activity: the activity with its input, completed with what an
 * execution of it returns (wfc_activity_result, ":", its name). */
static bool
expect_activity(const cairn_wf_entry *e, const char *name, const char *input)
{
	char want[19];

	wfc_activity_result(input, strlen(input), want);
	return (expect(e, CAIRN_WF_ACTIVITY, name, input, NULL)
	    && e->task_id != 0 && e->result_len > 19
	    && memcmp(e->result, want, 18) == 0 && e->result[18] == ':');
}

/* check_child reads the child run of a CHILD entry and checks it, and
 * that the parent's entry has its result. */
static bool
check_child(cairn_client *c, const char *parent, const cairn_wf_entry *ce,
    struct wfc_final *fin, struct wfc_counts *cnt)
{
	cairn_workflow_run *run;
	cairn_wf_entry *e;
	char in[128], want[160], res[80];
	size_t n;
	bool ok;

	if (ce->child_run_id == 0
	    || wfc_read_log(c, ce->child_run_id, &run, &e, &n) != CAIRN_OK) {
		return (false);
	}
	cnt->child_runs++;
	cnt->entries_recorded += n;
	wfc_final_add(fin, run, e, n);
	snprintf(in, sizeof(in), "child|%s", parent);
	ok = n == 2 && expect_activity(&e[0], "wfc_a", in);
	if (ok) {
		snprintf(res, sizeof(res), "%.*s", (int) e[0].result_len,
		    e[0].result);
		snprintf(want, sizeof(want), "S:%s", res);
		ok = expect(&e[1], CAIRN_WF_STEP, "c", res, want);
		snprintf(want, sizeof(want), "child(%s)", res);
	}
	ok = ok && run->state == CAIRN_WF_SUCCEEDED
	    && run->result_len == strlen(want)
	    && memcmp(run->result, want, run->result_len) == 0
	    && run->parent_run_id != 0
	    && expect(ce, CAIRN_WF_CHILD, WFC_CHILD_TYPE, parent, want);
	cairn_wf_entries_free(e, n);
	cairn_workflow_run_free(run);
	return (ok);
}

/* recompute checks a finished run's log against its code: the commands
 * in order with the inputs the code derives from earlier outcomes, the
 * activities' results, and the run's result, the fold of every outcome. */
static bool
recompute(cairn_client *c, const struct wfc_run *r,
    const cairn_workflow_run *run, const cairn_wf_entry *e, size_t n,
    struct wfc_final *fin, struct wfc_counts *cnt)
{
	struct wfc_shape sh;
	char buf[200], hex[17], want[200];
	uint64_t h = WFC_FOLD_INIT;
	size_t i = 0, len;

	wfc_shape_of(r->wfid, &sh);
	len = 7 + (size_t) sh.nparallel + (sh.child ? 1 : 0);
	if (n != len || !expect(&e[0], CAIRN_WF_STEP, "plan", "", NULL)
	    || !expect(&e[1], CAIRN_WF_MARKER, "random", NULL, NULL)) {
		return (false);
	}
	for (; i < 2; i++) {
		h = wfc_fold(h, e[i].result, e[i].result_len);
	}
	snprintf(
	    buf, sizeof(buf), "%.*s|a", (int) e[0].result_len, e[0].result);
	if (!expect_activity(&e[i], "wfc_a", buf)) {
		return (false);
	}
	const cairn_wf_entry *a = &e[i];
	h = wfc_fold(h, e[i].result, e[i].result_len), i++;
	for (int k = 0; k < sh.nparallel; k++, i++) {
		snprintf(buf, sizeof(buf), "%s|b%d|%.*s", r->wfid, k,
		    (int) a->result_len, a->result);
		if (!expect_activity(&e[i], "wfc_b", buf)) {
			return (false);
		}
		h = wfc_fold(h, e[i].result, e[i].result_len);
	}
	snprintf(want, sizeof(want), "go:%s", r->wfid);
	if (!expect(&e[i], CAIRN_WF_TIMER, "", NULL, NULL)
	    || e[i].fire_at_ms < e[i].created_at_ms + sh.timer_ms
	    || !expect(&e[i + 1], CAIRN_WF_SIGNAL, WFC_SIGNAL, NULL, want)) {
		return (false);
	}
	for (int k = 0; k < 2; k++, i++) {
		h = wfc_fold(h, e[i].result, e[i].result_len);
	}
	if (sh.child) {
		if (!check_child(c, r->wfid, &e[i], fin, cnt)) {
			return (false);
		}
		h = wfc_fold(h, e[i].result, e[i].result_len), i++;
	}
	wfc_hex(h, hex);
	snprintf(want, sizeof(want), "S:%s", hex);
	if (!expect(&e[i], CAIRN_WF_STEP, "sum", hex, want)
	    || !expect_activity(&e[i + 1], "wfc_c", want)) {
		return (false);
	}
	for (int k = 0; k < 2; k++, i++) {
		h = wfc_fold(h, e[i].result, e[i].result_len);
	}
	wfc_hex(h, hex);
	snprintf(want, sizeof(want), "ok:%s", hex);
	return (run->state == CAIRN_WF_SUCCEEDED
	    && run->result_len == strlen(want)
	    && memcmp(run->result, want, run->result_len) == 0);
}

/* check_run checks one acknowledged run against the final state. */
static void
check_run(cairn_client *c, struct wfc_run *r, struct wfc_final *fin,
    struct wfc_counts *cnt)
{
	cairn_workflow_run *run;
	cairn_wf_entry *e;
	size_t n;
	int rv = wfc_read_log(c, r->run_id, &run, &e, &n);

	if (rv != CAIRN_OK || strcmp(run->workflow_id, r->wfid) != 0) {
		fprintf(stderr, "wf_crash: run %s (%" PRIu64 ") is gone: %s\n",
		    r->wfid, r->run_id, cairn_strerror(rv));
		cnt->missing++;
		if (rv == CAIRN_OK) {
			cairn_wf_entries_free(e, n);
			cairn_workflow_run_free(run);
		}
		return;
	}
	compare(r, run, e, n, false, cnt);
	cnt->entries_recorded += n;
	wfc_final_add(fin, run, e, n);
	if (run->state == CAIRN_WF_RUNNING) {
		fprintf(stderr,
		    "wf_crash: run %s is still running (%u entries%s)\n",
		    r->wfid, run->log_length, run->stuck ? ", stuck" : "");
		cnt->unfinished++;
	} else if (!recompute(c, r, run, e, n, fin, cnt)) {
		fprintf(stderr,
		    "wf_crash: run %s is %s (%s), not what its code "
		    "computes from its log\n",
		    r->wfid, cairn_workflow_state_name(run->state),
		    run->error);
		cnt->wrong_result++;
	} else {
		cnt->finished_ok++;
	}
	cairn_wf_entries_free(e, n);
	cairn_workflow_run_free(run);
}

static int
cmp_wfid(const void *a, const void *b)
{
	return (strcmp((*(struct wfc_run *const *) a)->wfid,
	    (*(struct wfc_run *const *) b)->wfid));
}

/* add_unacked adds the log of a run whose start was never answered but
 * made it, so that the tasks it ran are known. */
static void
add_unacked(cairn_client *c, uint64_t run_id, struct wfc_final *fin)
{
	cairn_workflow_run *run;
	cairn_wf_entry *e;
	size_t n;

	if (wfc_read_log(c, run_id, &run, &e, &n) == CAIRN_OK) {
		wfc_final_add(fin, run, e, n);
		for (size_t i = 0; i < n; i++) {
			if (e[i].kind == CAIRN_WF_CHILD && e[i].child_run_id) {
				add_unacked(c, e[i].child_run_id, fin);
			}
		}
		cairn_wf_entries_free(e, n);
		cairn_workflow_run_free(run);
	}
}

/* count_extra counts the runs of the flow that no start asked for. A
 * start left without an answer may have made one: its log joins the
 * final ones. */
static void
count_extra(cairn_client *c, struct wfc_run *runs, size_t n,
    struct wfc_final *fin, struct wfc_counts *cnt)
{
	cairn_workflow_filter f = { .type = WFC_TYPE };
	struct wfc_run **ids = calloc(n + 1, sizeof(*ids)), key, *k = &key;
	uint64_t after = 0;

	for (size_t i = 0; i < n; i++) {
		ids[i] = &runs[i];
	}
	qsort(ids, n, sizeof(*ids), cmp_wfid);
	do {
		cairn_workflow_run **v;
		size_t m;
		if (cairn_workflow_list(c, &f, 1000, after, &v, &m, &after)
		    != CAIRN_OK) {
			cnt->integrity_failures++;
			break;
		}
		for (size_t i = 0; i < m; i++) {
			snprintf(key.wfid, sizeof(key.wfid), "%s",
			    v[i]->workflow_id);
			struct wfc_run **hit
			    = bsearch(&k, ids, n, sizeof(*ids), cmp_wfid);
			if (hit == NULL) {
				fprintf(stderr,
				    "wf_crash: run %s was never started\n",
				    key.wfid);
				cnt->extra_runs++;
			} else if ((*hit)->run_id == 0) {
				add_unacked(c, v[i]->run_id, fin);
			}
		}
		cairn_workflow_runs_free(v, m);
	} while (after != 0);
	free(ids);
}

void
wfc_check_final(cairn_client *c, struct wfc_run *runs, size_t n,
    const char *dir, struct wfc_counts *cnt)
{
	struct wfc_final fin;

	wfc_final_init(&fin);
	for (size_t i = 0; i < n; i++) {
		cnt->signaled += runs[i].signaled;
		if (runs[i].run_id != 0) {
			cnt->started++;
			check_run(c, &runs[i], &fin, cnt);
		}
	}
	count_extra(c, runs, n, &fin, cnt);
	wfc_check_lines(&fin, dir, cnt);
	wfc_final_free(&fin);
}
