/*
 * lifecycle/replay.c - answering a resent Enqueue or Lease as the first
 * one was answered (see lifecycle/replay.h). Records are text: for
 * Enqueue "ID:C ..." (C is 1 when the task was created), for Lease
 * "ID:TOKEN ...".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle/replay.h"
#include "lifecycle/util.h"

void
lifecycle_request_key(
    char *key, size_t len, bool lease, const char *request_id)
{
	/* The method's letter first, so that ids of different rpcs never
	 * meet. */
	snprintf(key, len, "%c:%s", lease ? 'L' : 'E', request_id);
}

/* recall looks the key up; *rec (free) is NULL when it was not seen. */
static int
recall(struct store *s, const char *key, char **rec, char *msg)
{
	uint8_t *res = NULL;
	size_t len = 0;
	bool found = false;
	int rv = store_request_get(s, key, &found, &res, &len);

	if (rv != CAIRN_OK) {
		return (lc_fault(s, rv, msg));
	}
	*rec = found ? (char *) res : NULL;
	return (CAIRN_OK);
}

static int
remember(
    struct store *s, const char *key, int64_t now, const char *rec, char *msg)
{
	int rv = store_request_put(
	    s, key, now, (const uint8_t *) rec, strlen(rec));

	return (rv != CAIRN_OK ? lc_fault(s, rv, msg) : CAIRN_OK);
}

/* replay_enqueue parses an Enqueue record into ids and created. */
static int
replay_enqueue(const char *rec, size_t n, uint64_t *ids, bool *created,
    const char *request_id, char *msg)
{
	const char *p = rec;
	size_t i = 0;

	while (*p != 0 && i < n) {
		uint64_t id;
		unsigned c;
		int used;
		if (sscanf(p, "%" SCNu64 ":%u %n", &id, &c, &used) != 2) {
			break;
		}
		ids[i] = id;
		created[i++] = c != 0;
		p += used;
	}
	if (i != n || *p != 0) {
		snprintf(msg, LC_MSG_MAX,
		    "request_id %.64s was used before for another request",
		    request_id);
		return (CAIRN_INVALID_ARGUMENT);
	}
	return (CAIRN_OK);
}

int
lifecycle_enqueue_once(struct store *s, const char *request_id,
    struct task_spec *specs, size_t n, int64_t now, uint64_t *ids,
    bool *created, char *msg)
{
	char key[LC_REQUEST_KEY_MAX], *rec = NULL;
	size_t cap = n * 24 + 1, used = 0;
	int rv;

	if (request_id == NULL) {
		return (
		    lifecycle_enqueue(s, specs, n, now, ids, created, msg));
	}
	lifecycle_request_key(key, sizeof(key), false, request_id);
	if ((rv = recall(s, key, &rec, msg)) != CAIRN_OK) {
		return (rv);
	}
	if (rec != NULL) {
		rv = replay_enqueue(rec, n, ids, created, request_id, msg);
		free(rec);
		return (rv);
	}
	rv = lifecycle_enqueue(s, specs, n, now, ids, created, msg);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	if ((rec = malloc(cap)) == NULL) {
		snprintf(msg, LC_MSG_MAX, "out of memory");
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	rec[0] = 0;
	for (size_t i = 0; i < n; i++) {
		used += (size_t) snprintf(rec + used, cap - used,
		    "%s%" PRIu64 ":%d", i > 0 ? " " : "", ids[i],
		    created[i] ? 1 : 0);
	}
	rv = remember(s, key, now, rec, msg);
	free(rec);
	return (rv);
}

/* replay_one loads task id as a lease reply entry with token. Returns
 * NOT_FOUND when the task is gone (pruned). */
static int
replay_one(struct store *s, uint64_t id, const char *token, int64_t now,
    struct task **out)
{
	struct task *t;
	int rv = store_get(s, id, &t);

	if (rv != CAIRN_OK) {
		return (rv);
	}
	if (t->state != CAIRN_ACTIVE || strcmp(t->lease_token, token) != 0) {
		/* That lease ended: its deadline is past. */
		t->lease_deadline_ms = now;
	}
	snprintf(t->lease_token, sizeof(t->lease_token), "%s", token);
	*out = t;
	return (CAIRN_OK);
}

/* replay_lease rebuilds the tasks of a Lease record. */
static int
replay_lease(struct store *s, const char *rec, int64_t now, struct task ***out,
    size_t *n, char *msg)
{
	size_t cap = 1, k = 0;
	struct task **tasks;
	const char *p;
	int rv = CAIRN_OK;

	for (p = rec; *p != 0; p++) {
		cap += *p == ' ';
	}
	if ((tasks = calloc(cap, sizeof(*tasks))) == NULL) {
		snprintf(msg, LC_MSG_MAX, "out of memory");
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	for (p = rec; *p != 0 && k < cap;) {
		char token[TASK_TOKEN_LEN + 1];
		uint64_t id;
		int used;
		if (sscanf(p, "%" SCNu64 ":%32[0-9a-f] %n", &id, token, &used)
		    != 2) {
			break;
		}
		p += used;
		rv = replay_one(s, id, token, now, &tasks[k]);
		if (rv == CAIRN_NOT_FOUND) {
			continue;
		}
		if (rv != CAIRN_OK) {
			task_array_free(tasks, k);
			return (lc_fault(s, rv, msg));
		}
		k++;
	}
	*out = tasks;
	*n = k;
	return (CAIRN_OK);
}

int
lifecycle_lease_once(struct store *s, const char *request_id,
    const struct lease_request *req, int64_t now, struct task ***out,
    size_t *n, char *msg)
{
	char key[LC_REQUEST_KEY_MAX], *rec = NULL;
	struct task **tasks = NULL;
	size_t got = 0, cap, used = 0;
	int rv;

	if (request_id == NULL) {
		return (lifecycle_lease(s, req, now, out, n, msg));
	}
	lifecycle_request_key(key, sizeof(key), true, request_id);
	if ((rv = recall(s, key, &rec, msg)) != CAIRN_OK) {
		return (rv);
	}
	if (rec != NULL) {
		rv = replay_lease(s, rec, now, out, n, msg);
		free(rec);
		return (rv);
	}
	if ((rv = lifecycle_lease(s, req, now, &tasks, &got, msg)) != 0) {
		return (rv);
	}
	if (got > 0) {
		cap = got * (24 + TASK_TOKEN_LEN) + 1;
		if ((rec = malloc(cap)) == NULL) {
			task_array_free(tasks, got);
			snprintf(msg, LC_MSG_MAX, "out of memory");
			return (CAIRN_RESOURCE_EXHAUSTED);
		}
		rec[0] = 0;
		for (size_t i = 0; i < got; i++) {
			used += (size_t) snprintf(rec + used, cap - used,
			    "%s%" PRIu64 ":%s", i > 0 ? " " : "", tasks[i]->id,
			    tasks[i]->lease_token);
		}
		rv = remember(s, key, now, rec, msg);
		free(rec);
		if (rv != CAIRN_OK) {
			task_array_free(tasks, got);
			return (rv);
		}
	}
	*out = tasks;
	*n = got;
	return (CAIRN_OK);
}

int
lifecycle_forget_requests(
    struct store *s, int64_t now, uint32_t limit, char *msg)
{
	size_t n;
	int rv = store_request_prune(s, now - LC_REQUEST_KEEP_MS, limit, &n);

	return (rv != CAIRN_OK ? lc_fault(s, rv, msg) : CAIRN_OK);
}
