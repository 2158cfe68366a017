/*
 * store/sqlite/backup.c - the online backup of the SQLite backend.
 *
 * Which thread: the engine thread owns the write connection, and a backup
 * of a large file takes seconds to minutes, which must not stop the
 * engine. Stepping the backup inside the engine's batches would keep the
 * engine's connection and thread but make every batch pay for the copy.
 * Instead the backup runs on a thread of its own with a second, read-only
 * connection to the same file. WAL mode lets that reader and the engine's
 * writer go on side by side: the backup only shares the disk.
 *
 * Consistency: the backup connection opens a read transaction first and
 * keeps it to the end, so every step copies pages of one snapshot. Without
 * it SQLite would restart the copy each time the engine committed between
 * two steps, and under a steady load it might never finish. The price is
 * that checkpoints cannot pass that snapshot while the copy runs, so the
 * WAL file grows for that time; it shrinks back at the next checkpoint.
 *
 * The copy is written to PATH.partial-PID, stepped a few hundred pages at
 * a time with a short pause between steps, checked with PRAGMA
 * integrity_check, synced, and only then linked to PATH, which fails if
 * PATH exists: a backup never replaces a file, and a file at PATH is
 * always a complete, checked copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/sqlite/sqlite.h"

#define PAGES_PER_STEP 256
#define PAUSE_NS       (1000 * 1000) /* between steps: let the engine's I/O in */

static int
fail(int status, char *err, size_t errlen, const char *what, sqlite3 *db,
    int rc)
{
	snprintf(err, errlen, "backup: %s: %s", what,
	    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return (status);
}

/* fsync_path syncs a file or a directory. */
static int
fsync_path(const char *path, bool dir)
{
	int fd
	    = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
	int rv;

	if (fd < 0) {
		return (-1);
	}
	rv = fsync(fd);
	close(fd);
	return (rv);
}

/* copy_pages runs the backup API from src into dst. */
static int
copy_pages(sqlite3 *src, sqlite3 *dst, bool (*keep_going)(void *), void *arg,
    char *err, size_t errlen)
{
	struct timespec pause = { 0, PAUSE_NS };
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc;

	if (b == NULL) {
		return (fail(CAIRN_INTERNAL, err, errlen, "init", dst, 0));
	}
	for (;;) {
		rc = sqlite3_backup_step(b, PAGES_PER_STEP);
		if (rc == SQLITE_DONE) {
			break;
		}
		if (rc != SQLITE_OK && rc != SQLITE_BUSY
		    && rc != SQLITE_LOCKED) {
			sqlite3_backup_finish(b);
			return (
			    fail(rc == SQLITE_FULL ? CAIRN_RESOURCE_EXHAUSTED
			                           : CAIRN_INTERNAL,
			        err, errlen, "copying pages", dst, rc));
		}
		if (keep_going != NULL && !keep_going(arg)) {
			sqlite3_backup_finish(b);
			snprintf(err, errlen, "backup: stopped");
			return (CAIRN_CANCELLED);
		}
		nanosleep(&pause, NULL);
	}
	if ((rc = sqlite3_backup_finish(b)) != SQLITE_OK) {
		return (
		    fail(CAIRN_INTERNAL, err, errlen, "finishing", dst, rc));
	}
	return (CAIRN_OK);
}

/* check runs PRAGMA integrity_check on db; its only row must be "ok". */
static int
check(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc
	    = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
	const unsigned char *v;

	if (rc != SQLITE_OK) {
		return (fail(
		    CAIRN_INTERNAL, err, errlen, "integrity_check", db, rc));
	}
	rc = sqlite3_step(st);
	v = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	if (v == NULL || strcmp((const char *) v, "ok") != 0) {
		snprintf(err, errlen,
		    "backup: integrity_check of the copy failed: %s",
		    v != NULL ? (const char *) v : sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return (CAIRN_DATA_LOSS);
	}
	sqlite3_finalize(st);
	return (CAIRN_OK);
}

/* snapshot opens a read-only connection to path with a read transaction
 * that pins one snapshot of the database. */
static int
snapshot(const char *path, sqlite3 **out, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(
	    path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = sqlite3_exec(db,
		    "BEGIN; SELECT count(*) FROM sqlite_master;", NULL, NULL,
		    NULL);
	}
	if (rc != SQLITE_OK) {
		rc = fail(CAIRN_UNAVAILABLE, err, errlen, "opening the store",
		    db, rc);
		sqlite3_close(db);
		return (rc);
	}
	*out = db;
	return (CAIRN_OK);
}

static void
remove_partial(const char *tmp)
{
	static const char *const sfx[] = { "", "-journal", "-wal", "-shm" };
	char p[4200];

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", tmp, sfx[i]);
		unlink(p);
	}
}

/* publish syncs tmp and links it to path, never over an existing file. */
static int
publish(const char *tmp, const char *path, char *err, size_t errlen)
{
	char dir[4200];

	if (fsync_path(tmp, false) != 0) {
		snprintf(
		    err, errlen, "backup: sync %s: %s", tmp, strerror(errno));
		return (CAIRN_INTERNAL);
	}
	if (link(tmp, path) != 0) {
		int e = errno;
		snprintf(err, errlen, "backup: %s: %s", path, strerror(e));
		return (e == EEXIST ? CAIRN_ALREADY_EXISTS : CAIRN_INTERNAL);
	}
	unlink(tmp);
	snprintf(dir, sizeof(dir), "%s", path);
	(void) fsync_path(dirname(dir), true);
	return (CAIRN_OK);
}

int
sq_backup(const char *uri, const char *path, bool (*keep_going)(void *arg),
    void *arg, uint64_t *bytes, char *err, size_t errlen)
{
	const char *db = uri + strlen("sqlite:");
	sqlite3 *src = NULL, *dst = NULL;
	struct stat st;
	char tmp[4100];
	int fd, rc, rv;

	if (access(path, F_OK) == 0) {
		snprintf(
		    err, errlen, "backup: %s exists; choose a new name", path);
		return (CAIRN_ALREADY_EXISTS);
	}
	snprintf(tmp, sizeof(tmp), "%s.partial-%ld", path, (long) getpid());
	remove_partial(tmp); /* left by a crash during an earlier backup */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600))
	    < 0) {
		snprintf(err, errlen, "backup: cannot create %s: %s", tmp,
		    strerror(errno));
		return (errno == ENOSPC ? CAIRN_RESOURCE_EXHAUSTED
		                        : CAIRN_FAILED_PRECONDITION);
	}
	close(fd);
	if ((rv = snapshot(db, &src, err, errlen)) != CAIRN_OK) {
		goto out;
	}
	rc = sqlite3_open_v2(
	    tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rv = fail(CAIRN_INTERNAL, err, errlen, tmp, dst, rc);
		goto out;
	}
	if ((rv = copy_pages(src, dst, keep_going, arg, err, errlen))
	    != CAIRN_OK) {
		goto out;
	}
	sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(src);
	src = NULL;
	if ((rv = check(dst, err, errlen)) != CAIRN_OK) {
		goto out;
	}
	/* Closing the last connection checkpoints the copy's WAL into the
	 * file and removes it: the copy is one self-contained file. */
	if ((rc = sqlite3_close(dst)) != SQLITE_OK) {
		rv = fail(
		    CAIRN_INTERNAL, err, errlen, "closing the copy", NULL, rc);
		goto out;
	}
	dst = NULL;
	if ((rv = publish(tmp, path, err, errlen)) == CAIRN_OK) {
		*bytes = stat(path, &st) == 0 ? (uint64_t) st.st_size : 0;
	}
out:
	if (src != NULL) {
		sqlite3_exec(src, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(src);
	}
	sqlite3_close(dst);
	remove_partial(tmp);
	return (rv);
}
