/*
 * faultfs.h - the fault injection of cairnd-faultfs, a test-only build of
 * cairnd (server/main.c and the same server library) with:
 *
 *  - an SQLite VFS over the default one that remembers what was written
 *    since the last sync of each database, WAL and journal file, and on a
 *    "power cut" puts back the synced contents (all of what was not
 *    synced is lost, or a random part of it) and ends the process;
 *  - failed writes and fsyncs, and a disk that is full past a quota;
 *  - a kill right after a COMMIT that changed something, before the
 *    reply can leave (a request that took effect, its answer lost);
 *  - a build that answers before COMMIT (the COMMIT is put off until the
 *    next transaction): a negative control that must lose data;
 *  - an offset added to the server's clock.
 *
 * It is driven by a control file (FAULTFS_CTL), read at start and again on
 * SIGUSR1; SIGUSR2 cuts the power at once. Production code has none of
 * this: it is linked in with -Wl,--wrap (sqlite3_step, engine_start).
 */
#ifndef CAIRN_FAULTFS_H
#define CAIRN_FAULTFS_H

#include <pthread.h>
#include <stdint.h>

/* Exit codes, so that the test knows what ended the server. */
#define FAULTFS_EXIT_CUT    97 /* power cut */
#define FAULTFS_EXIT_COMMIT 98 /* killed after a COMMIT */

struct faultfs_ctl {
	long cut_at;     /* cut at this I/O (write, sync, truncate); 0: no */
	int cut_random;  /* keep a random part of what was not synced */
	long fail_sync;  /* the n-th sync from now fails; 0: none */
	long fail_write; /* the n-th write from now fails; 0: none */
	int64_t quota;   /* bytes of database files at most; 0: none */
	int crash_after_commit; /* kill after the next COMMIT */
	int early_ack;          /* answer before COMMIT */
	int64_t clock_offset_ms;
	unsigned seed;
};

/* The control, under faultfs_mu with the VFS's state. */
extern pthread_mutex_t faultfs_mu;
extern struct faultfs_ctl faultfs;
extern long faultfs_ios; /* I/Os counted since the control was read */

/* faultfs_cut restores the synced contents of every file and ends the
 * process with FAULTFS_EXIT_CUT. Called with faultfs_mu held. */
void faultfs_cut(void) __attribute__((noreturn));

/* faultfs_install registers the VFS as the default one. */
void faultfs_install(void);

#endif /* CAIRN_FAULTFS_H */
