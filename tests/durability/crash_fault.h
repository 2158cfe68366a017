/*
 * crash_fault.h - the faults the crash harnesses end their rounds with
 * (crash_harness.c for tasks, wf_crash_harness.c for workflows): kill -9
 * of cairnd, or a power cut of cairnd-faultfs (faultfs.h), and the
 * integrity check of the SQLite file after it.
 */
#ifndef CAIRN_CRASH_FAULT_H
#define CAIRN_CRASH_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "dur_util.h"

/* crash_write_ctl writes the faultfs control file: early_ack makes the
 * server answer before COMMIT; cut_random makes the next cut keep a
 * random part of what was not synced. */
void crash_write_ctl(
    struct dsrv *s, bool early_ack, int cut_random, unsigned seed);

/* crash_fault ends the server (cut: the power, in odd rounds keeping a
 * random part of what was not synced; else kill -9) and waits for it.
 * Returns the wall-clock time of the fault, or -1 when the cut did not
 * end the server as it should. */
int64_t crash_fault(
    struct dsrv *s, bool cut, bool early_ack, unsigned seed, int round);

/* crash_integrity_ok runs PRAGMA integrity_check on an SQLite store
 * (true on PostgreSQL, which checks its own pages). */
bool crash_integrity_ok(const struct dsrv *s);

#endif /* CAIRN_CRASH_FAULT_H */
