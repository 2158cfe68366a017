/*
 * lifecycle/wf_internal.h - what the workflow rule files share; not for
 * other modules.
 */
#ifndef CAIRN_LIFECYCLE_WF_INTERNAL_H
#define CAIRN_LIFECYCLE_WF_INTERNAL_H

#include "lifecycle/util.h"
#include "lifecycle/workflow.h"

/* How the last lease of a run ended (wf_run.lease_outcome). */
enum wf_lease_outcome {
	WF_LEASE_NONE = 0, /* never leased, or leased now */
	WF_LEASE_ADVANCED = 1,
	WF_LEASE_FAILED = 2,
	WF_LEASE_EXPIRED = 3,
	WF_LEASE_ENDED = 4, /* the run finished or was terminated */
};

/* wf_load_run loads run id; NOT_FOUND with a message when it is not. */
int wf_load_run(struct store *s, uint64_t id, struct wf_run *run, char *msg);

/* wf_check_lease checks that token holds run's lease at now. A lease
 * whose deadline passed is expired here (saved) and refused. When the
 * token's lease ended with repeat_ok, *repeated is set and OK returned. */
int wf_check_lease(struct store *s, struct wf_run *run, const char *token,
    int64_t now, int repeat_ok, bool *repeated, char *msg);

/* wf_make_runnable makes a RUNNING run that is waiting runnable from now
 * (a leased run stays leased; its advance will look at resolved_count). */
void wf_make_runnable(struct store *s, struct wf_run *run, int64_t now);

/* wf_set_outcome gives entry e of the loaded run its outcome in memory
 * and makes the run runnable; wf_resolve also saves e. The caller saves
 * the run. by_worker: the worker recorded the outcome itself (a step), so
 * it needs no new turn to learn it. */
int wf_set_outcome(struct store *s, struct wf_run *run, struct wf_entry *e,
    int status, const uint8_t *result, size_t len, const char *error,
    int64_t now, bool by_worker);

/* wf_resolve gives entry e of the loaded run its outcome, saves e, and
 * makes the run runnable; the caller saves the run. by_worker: the
 * worker recorded the outcome itself (a step), so it needs no new turn to
 * learn it. */
int wf_resolve(struct store *s, struct wf_run *run, struct wf_entry *e,
    int status, const uint8_t *result, size_t len, const char *error,
    int64_t now, bool by_worker);

/* wf_resolve_ref resolves entry seq of run run_id unless the run has
 * finished or the entry has an outcome already (then nothing changes). */
int wf_resolve_ref(struct store *s, uint64_t run_id, uint32_t seq, int status,
    const uint8_t *result, size_t len, const char *error, int64_t now);

/* wf_finish ends a RUNNING run (loaded, then saved by it) in state with
 * result or error: its pending entries are canceled with their tasks, its
 * children canceled (terminated when state is WF_TERMINATED), and its
 * parent's entry resolved. */
int wf_finish(struct store *s, struct wf_run *run, int state,
    const uint8_t *result, size_t len, const char *error, int64_t now,
    char *msg);

/* wf_recall looks up the record of a request of rpc (a letter) by its
 * request_id: *rec (free) is NULL when it was not seen (or request_id is
 * NULL or empty). wf_remember records rec for it, in the open
 * transaction (lifecycle/replay.h). */
int wf_recall(
    struct store *s, char rpc, const char *request_id, char **rec, char *msg);
int wf_remember(struct store *s, char rpc, const char *request_id, int64_t now,
    const char *rec, char *msg);

#endif /* CAIRN_LIFECYCLE_WF_INTERNAL_H */
