/*
 * engine/bind.c - leases bound to the connection that took them
 * (LeaseRequest.release_on_disconnect). When the connection closes, its
 * leases are released after a grace period through an ordinary fenced
 * op (OP_RELEASE), so that a worker that was killed or redeployed does not
 * hold its tasks until their heartbeat timeout; a heartbeat with the
 * lease's token, from any connection, binds it again in time, and so does
 * a Lease (or a Complete that leases the next task) with the same worker
 * id from a new connection: a worker that reconnects after a blip long-polls
 * at once (nng resends its request), long before its next heartbeat. The
 * table
 * is this server's memory only: with several servers on one database each
 * releases the leases taken through its own connections, and after a
 * restart the leases fall back to their heartbeat timeout. The leases of
 * workflow runs (LeaseWorkflowRequest.release_on_disconnect) are bound
 * alike and released as their expiry would (OP_WF_RELEASE). Engine thread
 * only.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

#define MIN_CAP 64

/* The key of a task's lease and of a run's: one table holds both. */
#define TASK(id) ((id) << 1)
#define RUN(id)  ((id) << 1 | 1)

/* hash spreads task ids, which are consecutive, over the slots. */
static size_t
hash(uint64_t id, size_t cap)
{
	return ((size_t) ((id * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1));
}

/* find returns the slot of id, or NULL. */
static struct engine_bound *
find(const struct engine_binds *bs, uint64_t id)
{
	if (bs->cap == 0) {
		return (NULL);
	}
	for (size_t i = hash(id, bs->cap);; i = (i + 1) & (bs->cap - 1)) {
		if (bs->slot[i].id == id) {
			return (&bs->slot[i]);
		}
		if (bs->slot[i].id == 0) {
			return (NULL);
		}
	}
}

/* put stores b in a table known to have room for it. */
static void
put(struct engine_bound *slot, size_t cap, const struct engine_bound *b)
{
	size_t i = hash(b->id, cap);

	while (slot[i].id != 0 && slot[i].id != b->id) {
		i = (i + 1) & (cap - 1);
	}
	slot[i] = *b;
}

/* grow doubles the table (or makes it); false when out of memory. */
static bool
grow(struct engine_binds *bs)
{
	size_t cap = bs->cap == 0 ? MIN_CAP : bs->cap * 2;
	struct engine_bound *slot = calloc(cap, sizeof(*slot));

	if (slot == NULL) {
		return (false);
	}
	for (size_t i = 0; i < bs->cap; i++) {
		if (bs->slot[i].id != 0) {
			put(slot, cap, &bs->slot[i]);
		}
	}
	free(bs->slot);
	bs->slot = slot;
	bs->cap = cap;
	return (true);
}

/* erase empties slot b and moves up the entries after it that probing
 * would no longer reach (deletion without tombstones). */
static void
erase(struct engine_binds *bs, struct engine_bound *b)
{
	size_t mask = bs->cap - 1;
	size_t hole = (size_t) (b - bs->slot);

	bs->pending -= b->release_at != 0 && bs->pending > 0;
	for (size_t i = (hole + 1) & mask; bs->slot[i].id != 0;
	     i = (i + 1) & mask) {
		size_t home = hash(bs->slot[i].id, bs->cap);
		/* Move it when its home is not in (hole, i]. */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			bs->slot[hole] = bs->slot[i];
			hole = i;
		}
	}
	memset(&bs->slot[hole], 0, sizeof(bs->slot[hole]));
	bs->n--;
}

void
engine_binds_free(struct engine_binds *bs)
{
	free(bs->slot);
	bs->slot = NULL;
	bs->cap = bs->n = 0;
}

bool
engine_binds_closed(const struct engine_binds *bs, uint32_t conn)
{
	size_t n = bs->nclosed < ENGINE_CLOSED_RING ? bs->nclosed
	                                            : ENGINE_CLOSED_RING;

	for (size_t i = 0; conn != 0 && i < n; i++) {
		if (bs->closed[i] == conn) {
			return (true);
		}
	}
	return (false);
}

static void
due_at(struct engine_binds *bs, struct engine_bound *b, int64_t at)
{
	bs->pending += b->release_at == 0;
	b->release_at = at;
	if (at < bs->next_release) {
		bs->next_release = at;
	}
}

void
engine_binds_close(struct engine_binds *bs, uint32_t conn, int64_t now)
{
	if (conn == 0) {
		return;
	}
	bs->closed[bs->nclosed++ % ENGINE_CLOSED_RING] = conn;
	for (size_t i = 0; i < bs->cap; i++) {
		struct engine_bound *b = &bs->slot[i];
		if (b->id != 0 && b->conn == conn && b->release_at == 0) {
			due_at(bs, b, now + bs->grace_ms);
		}
	}
}

/* release_done and wf_release_done free a release the engine made,
 * once answered. */
static void
release_done(struct engine_op *op)
{
	free((char *) op->in.release.token);
	free(op);
}

static void
wf_release_done(struct engine_op *op)
{
	free((char *) op->in.wf.token);
	free(op);
}

void
engine_binds_due(struct engine_binds *bs, int64_t now, struct engine_list *l)
{
	if (bs->next_release > now) {
		return;
	}
	bs->next_release = TASK_TIME_NEVER;
	for (size_t i = 0; i < bs->cap;) {
		struct engine_bound *b = &bs->slot[i];
		if (b->id == 0 || b->release_at == 0 || b->release_at > now) {
			if (b->id != 0 && b->release_at != 0
			    && b->release_at < bs->next_release) {
				bs->next_release = b->release_at;
			}
			i++;
			continue;
		}
		struct engine_op *op = calloc(1, sizeof(*op));
		char *token = strdup(b->token);
		if (op == NULL || token == NULL) {
			/* Its heartbeat timeout will end it instead. */
			free(op);
			free(token);
		} else if (b->id & 1) {
			op->kind = OP_WF_RELEASE;
			op->in.wf.run_id = b->id >> 1;
			op->in.wf.token = token;
			op->done = wf_release_done;
			engine_list_push(l, op);
		} else {
			op->kind = OP_RELEASE;
			op->in.release = (struct release_request) {
				.id = b->id >> 1,
				.token = token,
				.disconnected = true,
			};
			op->done = release_done;
			engine_list_push(l, op);
		}
		/* The slot now holds the next entry, if one moved up. */
		erase(bs, b);
	}
}

/* bind_lease binds lease (key, token) of worker to conn. */
static void
bind_lease(struct engine_binds *bs, uint64_t id, const char *token,
    const char *worker, uint32_t conn, int64_t now)
{
	struct engine_bound b = { .id = id, .conn = conn };

	if (id == 0 || conn == 0
	    || (bs->n + 1 > bs->cap / 2 && find(bs, id) == NULL
	        && !grow(bs))) {
		return; /* out of memory: the heartbeat timeout ends it */
	}
	snprintf(b.token, sizeof(b.token), "%s", token);
	snprintf(
	    b.worker, sizeof(b.worker), "%s", worker != NULL ? worker : "");
	struct engine_bound *old = find(bs, id);
	if (old == NULL) {
		bs->n++;
	} else if (old->release_at != 0) {
		bs->pending -= bs->pending > 0;
	}
	put(bs->slot, bs->cap, &b);
	if (engine_binds_closed(bs, conn)) {
		/* It closed while the lease was being committed. */
		due_at(bs, find(bs, id), now + bs->grace_ms);
	}
}

/* unbind forgets lease (id, token); another token's binding stays. */
static void
unbind(struct engine_binds *bs, uint64_t id, const char *token)
{
	struct engine_bound *b = find(bs, id);

	if (b != NULL && strcmp(b->token, token) == 0) {
		erase(bs, b);
	}
}

/* touch: a heartbeat with the lease's token came on conn; a lease whose
 * connection closed is bound to this one instead. */
static void
touch(struct engine_binds *bs, uint64_t id, const char *token, uint32_t conn,
    int64_t now)
{
	struct engine_bound *b = find(bs, id);

	if (b == NULL || b->release_at == 0 || strcmp(b->token, token) != 0
	    || conn == 0) {
		return;
	}
	b->conn = conn;
	b->release_at = 0;
	bs->pending -= bs->pending > 0;
	if (engine_binds_closed(bs, conn)) {
		due_at(bs, b, now + bs->grace_ms);
	}
}

/* rescue: worker leases again on conn, a new connection; the leases of
 * its that wait for release are bound to conn instead. */
static void
rescue(struct engine_binds *bs, const char *worker, uint32_t conn)
{
	if (bs->pending == 0 || worker == NULL || worker[0] == 0 || conn == 0
	    || engine_binds_closed(bs, conn)) {
		return;
	}
	for (size_t i = 0; i < bs->cap; i++) {
		struct engine_bound *b = &bs->slot[i];
		if (b->id != 0 && b->release_at != 0
		    && strncmp(b->worker, worker, ENGINE_WORKER_MAX) == 0) {
			b->conn = conn;
			b->release_at = 0;
			bs->pending -= bs->pending > 0;
		}
	}
}

void
engine_binds_note(
    struct engine_binds *bs, const struct engine_op *op, int64_t now)
{
	const struct engine_op_class *k = engine_op_class(op->kind);

	if (k->bind != NULL && op->status == CAIRN_OK
	    && (bs->n > 0 || op->bind_conn)) {
		k->bind(bs, op, now);
	}
}

void
engine_bind_lease(
    struct engine_binds *bs, const struct engine_op *op, int64_t now)
{
	const char *worker = op->in.lease.req.worker_id;

	if (op->bind_conn) {
		rescue(bs, worker, op->conn);
	}
	for (size_t i = 0; op->bind_conn && i < op->out.tasks.n; i++) {
		const struct task *t = op->out.tasks.tasks[i];
		bind_lease(
		    bs, TASK(t->id), t->lease_token, worker, op->conn, now);
	}
}

void
engine_bind_heartbeat(
    struct engine_binds *bs, const struct engine_op *op, int64_t now)
{
	touch(bs, TASK(op->in.touch.id), op->in.touch.token, op->conn, now);
}

/* A Complete unbinds its task; the next task it leased is bound as the
 * completed one was, so that a worker's loop of Completes keeps its
 * tasks bound. */
void
engine_bind_complete(
    struct engine_binds *bs, const struct engine_op *op, int64_t now)
{
	struct engine_bound *b = find(bs, TASK(op->in.touch.id));
	bool bound = b != NULL && strcmp(b->token, op->in.touch.token) == 0;

	if (bound) {
		erase(bs, b);
	}
	if (bound && op->in.touch.lease_next) {
		rescue(bs, op->in.touch.worker_id, op->conn);
	}
	if (bound && op->out.tasks.n > 0) {
		const struct task *t = op->out.tasks.tasks[0];
		bind_lease(bs, TASK(t->id), t->lease_token,
		    op->in.touch.worker_id, op->conn, now);
	}
}

void
engine_bind_fail(
    struct engine_binds *bs, const struct engine_op *op, int64_t now)
{
	(void) now;
	unbind(bs, TASK(op->in.fail.id), op->in.fail.token);
}

void
engine_bind_release(
    struct engine_binds *bs, const struct engine_op *op, int64_t now)
{
	(void) now;
	unbind(bs, TASK(op->in.release.id), op->in.release.token);
}

/* A batch of completions unbinds, one of heartbeats touches, each item
 * that took effect. */
void
engine_bind_complete_batch(
    struct engine_binds *bs, const struct engine_op *op, int64_t now)
{
	(void) now;
	for (size_t i = 0; i < op->in.batch.n; i++) {
		const struct touch_item *it = &op->in.batch.items[i];
		if (it->status == CAIRN_OK) {
			unbind(bs, TASK(it->id), it->token);
		}
	}
}

void
engine_bind_heartbeat_batch(
    struct engine_binds *bs, const struct engine_op *op, int64_t now)
{
	for (size_t i = 0; i < op->in.batch.n; i++) {
		const struct touch_item *it = &op->in.batch.items[i];
		if (it->status == CAIRN_OK) {
			touch(bs, TASK(it->id), it->token, op->conn, now);
		}
	}
}

/* Runs: a workflow lease binds its run; a heartbeat touches it; an
 * advance that gives the lease up, a failed workflow task and a release
 * unbind it. Ops that named the run by workflow id only (run_id 0) are
 * not a worker's and bind nothing. */
void
engine_bind_wf_lease(
    struct engine_binds *bs, const struct engine_op *op, int64_t now)
{
	const struct wf_run *r = &op->out.wf_leased.run;

	if (op->bind_conn) {
		rescue(bs, op->in.wf_lease.req.worker_id, op->conn);
	}
	if (op->bind_conn && r->id != 0) {
		bind_lease(bs, RUN(r->id), r->lease_token,
		    op->in.wf_lease.req.worker_id, op->conn, now);
	}
}

void
engine_bind_wf_heartbeat(
    struct engine_binds *bs, const struct engine_op *op, int64_t now)
{
	if (op->in.wf.run_id != 0 && op->in.wf.token != NULL) {
		touch(
		    bs, RUN(op->in.wf.run_id), op->in.wf.token, op->conn, now);
	}
}

void
engine_bind_wf_advance(
    struct engine_binds *bs, const struct engine_op *op, int64_t now)
{
	(void) now;
	if (!op->in.wf_advance.keep_lease) {
		unbind(bs, RUN(op->in.wf_advance.run_id),
		    op->in.wf_advance.token);
	}
}

void
engine_bind_wf_end(
    struct engine_binds *bs, const struct engine_op *op, int64_t now)
{
	(void) now;
	if (op->in.wf.run_id != 0 && op->in.wf.token != NULL) {
		unbind(bs, RUN(op->in.wf.run_id), op->in.wf.token);
	}
}
