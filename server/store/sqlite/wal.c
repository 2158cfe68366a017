/*
 * store/sqlite/wal.c - checkpoints of the write-ahead log.
 *
 * SQLite's own automatic checkpoint ignores its errors: a failed fsync of
 * the database file during a checkpoint would go unseen, and a later
 * checkpoint could then succeed on pages the kernel dropped after the
 * failure, and reset the log that still held them. This hook makes the
 * same checkpoints (passive, past 1000 frames, as SQLite's default) and
 * turns a failure into an error of the COMMIT that triggered it, with the
 * handle marked failed, so that the engine stops (engine/guard.c).
 *
 * With --checkpoints external the hook is not installed and cairnd never
 * checkpoints, not even when it closes: Litestream, which copies the WAL
 * to its replica, must own checkpoints. Its read transaction keeps this
 * hook from restarting the WAL while it runs, but whenever it is away a
 * checkpoint here restarts the WAL and costs it a full snapshot when it
 * comes back (docs/RELIABILITY.md, "A lost disk"). A failed fsync in its
 * checkpoints is then Litestream's to report.
 */
#include "store/sqlite/sqlite.h"

#define CHECKPOINT_FRAMES 1000

int
sq_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store_sqlite *q = arg;
	int rc;

	if (frames < CHECKPOINT_FRAMES) {
		return (SQLITE_OK);
	}
	rc = sqlite3_wal_checkpoint_v2(
	    db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (rc == SQLITE_OK || (rc & 0xff) == SQLITE_BUSY
	    || (rc & 0xff) == SQLITE_LOCKED) {
		return (SQLITE_OK); /* a reader is in the way: next time */
	}
	/* The COMMIT itself is durable; its caller is told that the
	 * outcome is unknown, and the server stops. */
	q->base.io_failed = true;
	sq_fail(q, rc, "checkpoint");
	return (rc);
}
