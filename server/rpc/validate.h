/*
 * rpc/validate.h - checks on every field a client sends, made before
 * anything reaches storage.
 *
 * A check only checks: it returns CAIRN_OK, or CAIRN_INVALID_ARGUMENT with
 * a message in msg (RPC_MSG_MAX bytes) that names the field and the rule.
 * The handler answers the request once, with that status and message
 * (nng's rule: one place finishes an aio), so the checks need no socket
 * and are tested alone (tests/validate_test.c).
 */
#ifndef CAIRN_RPC_VALIDATE_H
#define CAIRN_RPC_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn.pb-c.h"
#include "cairn_wire.h"
#include "lifecycle/lifecycle.h"

#define RPC_MSG_MAX       LC_MSG_MAX
#define RPC_TOKEN_MAX     128   /* bytes of a lease token */
#define RPC_KEY_MAX       256   /* bytes of an idempotency key */
#define RPC_WORKER_ID_MAX 128   /* bytes of a worker id */
#define RPC_ERROR_MAX     65536 /* bytes of a Fail's error text */

/* rpc_invalid formats msg and returns CAIRN_INVALID_ARGUMENT: the
 * refusal of every check. */
int rpc_invalid(char *msg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* rpc_check_queue: q names a queue (1 to TASK_QUEUE_MAX characters of
 * [A-Za-z0-9_.:-]). */
int rpc_check_queue(const char *field, const char *q, char *msg);

/* rpc_check_duration: ms is from 0 to ten years. */
int rpc_check_duration(const char *field, int64_t ms, char *msg);

/* rpc_check_bytes: len is at most max (the server's --max-payload). */
int rpc_check_bytes(const char *field, size_t len, size_t max, char *msg);

/* rpc_check_text: s (NULL: absent, accepted) has at most max bytes and
 * is UTF-8. */
int rpc_check_text(const char *field, const char *s, size_t max, char *msg);

/* rpc_check_id: id is a task id (1 to INT64_MAX). */
int rpc_check_id(const char *field, uint64_t id, char *msg);

/* rpc_check_token: a lease token is there, short and UTF-8. */
int rpc_check_token(const char *field, const char *token, char *msg);

/* rpc_check_spec: task i of an Enqueue, with payloads of at most
 * max_payload bytes. */
int rpc_check_spec(
    size_t i, const Cairn__V1__TaskSpec *spec, size_t max_payload, char *msg);

/* rpc_check_item: item i of a batch of completions or heartbeats: its id,
 * its token, and its data (data_field: "result" or "details") of at most
 * max_payload bytes. */
int rpc_check_item(size_t i, uint64_t id, const char *token, size_t len,
    const char *data_field, size_t max_payload, char *msg);

/* rpc_check_queue_set: a SetQueue's settings are in range (limits
 * within store/store_queue.h's bounds, durations as a task's) and its
 * fields are known; sets *bits to the QUEUE_F_ bits they name (all when
 * none is named) (rpc/queue_validate.c). */
int rpc_check_queue_set(
    const Cairn__V1__SetQueueRequest *in, unsigned *bits, char *msg);

#endif /* CAIRN_RPC_VALIDATE_H */
