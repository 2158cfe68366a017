/*
 * lifecycle/replay.h - requests that may arrive twice. nng's REQ socket
 * resends a request after a reconnect, and a client cannot tell a lost
 * request from a lost reply; so the server remembers, with the changes
 * themselves and in the same transaction, what it answered to each recent
 * Enqueue and Lease by the client's request id, and answers a resend from
 * that record instead of enqueuing or leasing again.
 *
 * Heartbeat, Complete, Fail, Cancel and Retry need no record: the lease
 * token and the task's state make a repeat harmless (lifecycle.c).
 */
#ifndef CAIRN_LIFECYCLE_REPLAY_H
#define CAIRN_LIFECYCLE_REPLAY_H

#include "lifecycle/lifecycle.h"

/* How long a request id is remembered. A client resends only within the
 * time budget of its call (libcairn: 10 s by default, plus the long-poll
 * wait), so this is far more than needed, and short enough that the log
 * stays small. */
#define LC_REQUEST_KEEP_MS (10 * 60 * 1000)

/* Request ids longer than this are refused (rpc.c). */
#define LC_REQUEST_ID_MAX 128

/* The size of a record's key, its terminating NUL included. */
#define LC_REQUEST_KEY_MAX (LC_REQUEST_ID_MAX + 3)

/* lifecycle_request_key writes the key under which the request id of an
 * Enqueue (lease false) or a Lease is recorded. */
void lifecycle_request_key(
    char *key, size_t len, bool lease, const char *request_id);

/*
 * lifecycle_enqueue_once is lifecycle_enqueue that remembers request_id
 * (NULL: it is not remembered). When the id was seen, nothing changes and
 * ids and created are those of the first call; the same id with another
 * number of tasks is INVALID_ARGUMENT.
 */
int lifecycle_enqueue_once(struct store *s, const char *request_id,
    struct task_spec *specs, size_t n, int64_t now, uint64_t *ids,
    bool *created, char *msg);

/*
 * lifecycle_lease_once is lifecycle_lease that remembers request_id (NULL:
 * not remembered). When the id leased tasks before, nothing changes and
 * *out holds those tasks as they are now, each with the token it was
 * leased with; a lease that has ended since has its deadline at now, and
 * the worker learns that it is lost at its first call. A lease that found
 * nothing is not remembered: a resend may lease.
 */
int lifecycle_lease_once(struct store *s, const char *request_id,
    const struct lease_request *req, int64_t now, struct task ***out,
    size_t *n, char *msg);

/* lifecycle_forget_requests deletes up to limit request ids older than
 * LC_REQUEST_KEEP_MS. */
int lifecycle_forget_requests(
    struct store *s, int64_t now, uint32_t limit, char *msg);

#endif /* CAIRN_LIFECYCLE_REPLAY_H */
