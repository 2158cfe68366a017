/*
 * wf_scale.h - the long workflows of the scale proofs (wf_scale_test.c),
 * run by wf_crash_worker's workflow worker:
 *
 *   wfs_steps  input "N": N steps in sequence, each checkpointed; the
 *              result "steps:N:" and the fold of their results
 *   wfs_fan    input "N": N activities on queue "wfs_t" started at once,
 *              then a wait for all; the result "fan:N:" and the fold
 *   wfs_seq    input "N": N activities on "wfs_t" one after the other,
 *              each a wait, so that turn k replays k commands
 *
 * Every command the code issues while it replays its log is counted
 * (wfs_replayed_commands), the client-side cost of a turn.
 */
#ifndef CAIRN_WF_SCALE_H
#define CAIRN_WF_SCALE_H

#include <stdint.h>

#include "cairn.h"

#define WFS_TASK_QUEUE "wfs_t"

int wfs_register(cairn_wf_worker *w);

/* wfs_replayed_commands is how many commands the scale flows issued
 * while replaying, in this process. */
uint64_t wfs_replayed_commands(void);

/* wfs_expected writes the result a scale flow must end with for n. */
void wfs_expected(const char *type, int n, char *out, size_t len);

#endif /* CAIRN_WF_SCALE_H */
