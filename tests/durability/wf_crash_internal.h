/*
 * wf_crash_internal.h - what the checker's files share (wf_crash.h): the
 * final logs, indexed for the worker processes' lines.
 */
#ifndef CAIRN_WF_CRASH_INTERNAL_H
#define CAIRN_WF_CRASH_INTERNAL_H

#include "wf_crash.h"

/* One entry of a final log. */
struct wfc_fentry {
	uint64_t run_id;
	uint32_t seq;
	int kind, status;
	uint64_t task_id;
	uint64_t result_hash;
	uint32_t execs; /* activity: executions; step: runs of its code */
	bool returned;  /* activity: an execution returned its result */
};

struct wfc_final {
	struct wfc_fentry *v;
	size_t n, cap;
	bool sorted;
};

void wfc_final_init(struct wfc_final *f);
void wfc_final_free(struct wfc_final *f);
/* wfc_final_add adds the entries of run's final log. */
void wfc_final_add(struct wfc_final *f, const cairn_workflow_run *run,
    const cairn_wf_entry *e, size_t n);

/*
 * wfc_check_lines reads the lines of the worker processes (every
 * *.events file of dir) and checks them against the final logs: every
 * acknowledged step checkpoint and task completion is in its entry,
 * every executed task belongs to an entry, every completed activity ran;
 * executions and their duplicates are counted.
 */
void wfc_check_lines(
    struct wfc_final *f, const char *dir, struct wfc_counts *c);

/* wfc_read_log reads a run and its whole log (with inputs), page by
 * page. *run and *out are freed with cairn_workflow_run_free and
 * cairn_wf_entries_free(*out, *n). */
int wfc_read_log(cairn_client *c, uint64_t run_id, cairn_workflow_run **run,
    cairn_wf_entry **out, size_t *n);

#endif /* CAIRN_WF_CRASH_INTERNAL_H */
