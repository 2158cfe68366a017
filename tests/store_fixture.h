/*
 * store_fixture.h - fixture and helpers of the storage contract suite.
 * Each helper runs one operation in its own transaction at time `now` and
 * fails the test on a storage error.
 */
#ifndef CAIRN_STORE_FIXTURE_H
#define CAIRN_STORE_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "lifecycle/lifecycle.h"
#include "lifecycle/workflow.h"
#include "store/store.h"

#define T0 1700000000000LL /* the tests' epoch */

struct fx {
	struct store *s;
	char path[256];
	char schema[64];
	char msg[LC_MSG_MAX]; /* message of the last refused operation */
};

int fx_setup(void **state);
int fx_teardown(void **state);

void fx_begin(struct fx *f);
void fx_commit(struct fx *f);
struct task_spec fx_spec(const char *queue, const char *payload);
uint64_t fx_enqueue_spec(
    struct fx *f, struct task_spec sp, int64_t now, bool *created);
uint64_t fx_enqueue(struct fx *f, const char *queue, int64_t now);
/* fx_lease_in leases inside the transaction that is open (by worker). */
size_t fx_lease_in(struct fx *f, const char *queue, uint32_t max, int64_t now,
    const char *worker, struct task ***out);
size_t fx_lease_n(struct fx *f, const char *queue, uint32_t max, int64_t now,
    struct task ***out);
struct task *fx_lease_one(struct fx *f, const char *queue, int64_t now);
struct task *fx_get(struct fx *f, uint64_t id);
int fx_complete(struct fx *f, uint64_t id, const char *token,
    const char *result, int64_t now);
int fx_heartbeat(struct fx *f, uint64_t id, const char *token,
    const char *details, int64_t now, bool *cancel, int64_t *deadline);
int fx_fail_task(struct fx *f, uint64_t id, const char *token,
    bool non_retryable, int64_t delay, int64_t now, cairn_state *state,
    int64_t *run_at);
size_t fx_expire(struct fx *f, int64_t now);
cairn_state fx_state_of(struct fx *f, uint64_t id);

/* Workflows, each in its own transaction. fx_wf_start starts a run of
 * type (a made-up workflow_id) and returns its id; fx_wf_lease leases the
 * next run of queue for 30 s and returns its id (0: none), its token in
 * token; fx_wf_advance appends cmds (finish: 0 or a final state) and
 * fails the test unless that is OK. */
uint64_t fx_wf_start(
    struct fx *f, const char *type, const char *queue, int64_t now);
uint64_t fx_wf_lease(struct fx *f, const char *queue, int64_t now,
    char token[TASK_TOKEN_LEN + 1]);
void fx_wf_advance(struct fx *f, uint64_t run, const char *token,
    uint32_t expected, struct wf_command *cmds, size_t n, int finish,
    int64_t now);

#endif /* CAIRN_STORE_FIXTURE_H */
