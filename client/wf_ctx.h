/*
 * wf_ctx.h - the context of one turn of a workflow function, shared by
 * the replay engine's core (wf_ctx.c) and its commands (wf_commands.c).
 */
#ifndef CAIRN_WF_CTX_H
#define CAIRN_WF_CTX_H

#include <stdatomic.h>

#include "wf_internal.h"

struct cairn_wf_ctx {
	const cairn_workflow_run *run;
	struct cairn__wf_log *log; /* grows when a checkpoint records */
	cairn__wf_checkpoint checkpoint;
	void *cp_arg;

	/* Positions are seqs. Commands before base match the log the turn
	 * began with; from base on they are new, kept in cmds (cmds[i] gets
	 * seq base + i), and the first nsent of them are appended already
	 * (then log->n == base - 1 + nsent). */
	uint32_t base;
	uint32_t p;             /* the seq the next command takes */
	cairn_wf_command *cmds; /* their strings and buffers are owned */
	size_t ncmds, cap, nsent;

	/* CAIRN_OK, or the code that every later call returns. */
	int poison;
	char errmsg[768];

	bool ended; /* succeed, fail or cancelled was called */
	cairn_workflow_state finish;
	uint8_t *result;
	size_t result_len;
	char *error;

	atomic_bool lost;   /* the lease is gone */
	atomic_bool cancel; /* a cancel was seen after the lease */
};

/* cairn__wf_enter checks that ctx takes commands: CAIRN_OK, or the code
 * that poisons it (already, or now: the lease is lost, or the run has
 * ended). */
int cairn__wf_enter(cairn_wf_ctx *ctx);

/*
 * cairn__wf_locate finds the place of a command. Before the end of the
 * log it compares the entry at p (kind, name, and the input's hash when
 * hashed): a match moves p on and sets *e to the entry; a difference
 * poisons ctx with CAIRN_WF_NONDETERMINISM. Past the end it sets *e to
 * NULL: the caller then adds the command with cairn__wf_push. Returns
 * CAIRN_OK or the poison.
 */
int cairn__wf_locate(cairn_wf_ctx *ctx, cairn_wf_kind kind, const char *name,
    const void *input, size_t len, bool hashed, const cairn_wf_entry **e);

/* cairn__wf_push copies cmd as the new command at p, and moves p on;
 * *seq (may be NULL) is its seq. Returns CAIRN_OK or the poison (memory
 * ran out). */
int cairn__wf_push(
    cairn_wf_ctx *ctx, const cairn_wf_command *cmd, uint32_t *seq);

/*
 * cairn__wf_resolved says whether the command at seq (issued this turn)
 * has an outcome, and fills *out (may be NULL) when it has. *order gets
 * its resolved_order (UINT64_MAX when unknown).
 */
bool cairn__wf_resolved(const cairn_wf_ctx *ctx, uint32_t seq,
    cairn_wf_outcome *out, uint64_t *order);

/* cairn__wf_describe writes "kind \"name\"" of the command at seq. */
void cairn__wf_describe(
    const cairn_wf_ctx *ctx, uint32_t seq, char *buf, size_t len);

#endif /* CAIRN_WF_CTX_H */
