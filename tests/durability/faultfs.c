/*
 * faultfs.c - the VFS of cairnd-faultfs (see faultfs.h): writes go to the
 * real file at once, so that reads need no overlay, but the old contents
 * of every byte written since the last sync are kept in an undo log; a
 * power cut writes them back and truncates each file to its synced size.
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faultfs.h"

pthread_mutex_t faultfs_mu = PTHREAD_MUTEX_INITIALIZER;
struct faultfs_ctl faultfs;
long faultfs_ios;

struct undo {
	sqlite3_int64 off;
	int len;
	unsigned char *old;
};

/* One tracked file, by path; kept after close (what it did not sync can
 * still be lost), dropped when the file is deleted. */
struct entry {
	char *path;
	sqlite3_int64 synced; /* size at the last sync */
	sqlite3_int64 size;   /* size now */
	struct undo *undo;
	size_t nundo, cap;
	struct entry *next;
};

struct ff_file {
	sqlite3_file base;
	struct entry *e; /* NULL: not tracked */
	sqlite3_file *real;
};

static sqlite3_vfs *real_vfs;
static struct entry *entries;

static int64_t
quota_used(void)
{
	int64_t n = 0;

	for (struct entry *e = entries; e != NULL; e = e->next) {
		n += e->size;
	}
	return (n);
}

static struct entry *
entry_for(const char *path)
{
	struct entry *e;

	for (e = entries; e != NULL; e = e->next) {
		if (strcmp(e->path, path) == 0) {
			return (e);
		}
	}
	if ((e = calloc(1, sizeof(*e))) == NULL
	    || (e->path = strdup(path)) == NULL) {
		abort(); /* a test binary: out of memory is fatal */
	}
	e->next = entries;
	entries = e;
	return (e);
}

static void
undo_clear(struct entry *e)
{
	for (size_t i = 0; i < e->nundo; i++) {
		free(e->undo[i].old);
	}
	e->nundo = 0;
}

/* save_old keeps the bytes of [off, off + len) that the last sync made
 * durable, before they are overwritten. */
static void
save_old(struct ff_file *f, sqlite3_int64 off, sqlite3_int64 len)
{
	struct entry *e = f->e;
	struct undo u;

	if (off >= e->synced || len <= 0) {
		return;
	}
	if (off + len > e->synced) {
		len = e->synced - off;
	}
	u.off = off;
	u.len = (int) len;
	if ((u.old = malloc((size_t) len)) == NULL) {
		abort();
	}
	/* A short read fills with zeros: what a hole reads as. */
	f->real->pMethods->xRead(f->real, u.old, u.len, off);
	if (e->nundo == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 64;
		e->undo = realloc(e->undo, e->cap * sizeof(*e->undo));
		if (e->undo == NULL) {
			abort();
		}
	}
	e->undo[e->nundo++] = u;
}

/* count_io counts one I/O and cuts the power when its number comes. */
static void
count_io(void)
{
	faultfs_ios++;
	if (faultfs.cut_at > 0 && faultfs_ios >= faultfs.cut_at) {
		faultfs_cut();
	}
}

void
faultfs_cut(void)
{
	for (struct entry *e = entries; e != NULL; e = e->next) {
		int fd = open(e->path, O_RDWR);
		if (fd < 0) {
			continue;
		}
		sqlite3_int64 keep = e->synced;
		if (faultfs.cut_random && e->size > e->synced) {
			/* Some of what was appended reached the disk. */
			keep += rand() % (e->size - e->synced + 1);
		}
		for (size_t i = e->nundo; i-- > 0;) {
			struct undo *u = &e->undo[i];
			if (faultfs.cut_random && rand() % 2 == 0) {
				continue; /* this write reached the disk */
			}
			(void) !pwrite(fd, u->old, (size_t) u->len, u->off);
		}
		(void) !ftruncate(fd, keep);
		close(fd);
	}
	_exit(FAULTFS_EXIT_CUT);
}

static int
ff_close(sqlite3_file *file)
{
	struct ff_file *f = (struct ff_file *) file;

	return (f->real->pMethods->xClose(f->real));
}

static int
ff_read(sqlite3_file *file, void *buf, int amt, sqlite3_int64 off)
{
	struct ff_file *f = (struct ff_file *) file;

	return (f->real->pMethods->xRead(f->real, buf, amt, off));
}

static int
ff_write(sqlite3_file *file, const void *buf, int amt, sqlite3_int64 off)
{
	struct ff_file *f = (struct ff_file *) file;
	int rc;

	if (f->e == NULL) {
		return (f->real->pMethods->xWrite(f->real, buf, amt, off));
	}
	pthread_mutex_lock(&faultfs_mu);
	count_io();
	if (faultfs.fail_write > 0 && --faultfs.fail_write == 0) {
		pthread_mutex_unlock(&faultfs_mu);
		return (SQLITE_IOERR_WRITE);
	}
	if (faultfs.quota > 0 && off + amt > f->e->size
	    && quota_used() + (off + amt - f->e->size) > faultfs.quota) {
		pthread_mutex_unlock(&faultfs_mu);
		return (SQLITE_FULL);
	}
	save_old(f, off, amt);
	rc = f->real->pMethods->xWrite(f->real, buf, amt, off);
	if (rc == SQLITE_OK && off + amt > f->e->size) {
		f->e->size = off + amt;
	}
	pthread_mutex_unlock(&faultfs_mu);
	return (rc);
}

static int
ff_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct ff_file *f = (struct ff_file *) file;
	int rc;

	if (f->e == NULL) {
		return (f->real->pMethods->xTruncate(f->real, size));
	}
	pthread_mutex_lock(&faultfs_mu);
	count_io();
	save_old(f, size, f->e->synced - size);
	rc = f->real->pMethods->xTruncate(f->real, size);
	if (rc == SQLITE_OK) {
		f->e->size = size;
	}
	pthread_mutex_unlock(&faultfs_mu);
	return (rc);
}

static int
ff_sync(sqlite3_file *file, int flags)
{
	struct ff_file *f = (struct ff_file *) file;
	sqlite3_int64 size;
	int rc;

	if (f->e == NULL) {
		return (f->real->pMethods->xSync(f->real, flags));
	}
	pthread_mutex_lock(&faultfs_mu);
	count_io();
	if (faultfs.fail_sync > 0 && --faultfs.fail_sync == 0) {
		/* Like Linux after a failed writeback: nothing is durable,
		 * and nothing says so later. */
		pthread_mutex_unlock(&faultfs_mu);
		return (SQLITE_IOERR_FSYNC);
	}
	rc = f->real->pMethods->xSync(f->real, flags);
	if (rc == SQLITE_OK
	    && f->real->pMethods->xFileSize(f->real, &size) == SQLITE_OK) {
		undo_clear(f->e);
		f->e->synced = f->e->size = size;
	}
	pthread_mutex_unlock(&faultfs_mu);
	return (rc);
}

/* The rest passes through. */
#define PASS(f) (((struct ff_file *) (f))->real)

static int
ff_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return (PASS(f)->pMethods->xFileSize(PASS(f), size));
}
static int
ff_lock(sqlite3_file *f, int l)
{
	return (PASS(f)->pMethods->xLock(PASS(f), l));
}
static int
ff_unlock(sqlite3_file *f, int l)
{
	return (PASS(f)->pMethods->xUnlock(PASS(f), l));
}
static int
ff_check(sqlite3_file *f, int *out)
{
	return (PASS(f)->pMethods->xCheckReservedLock(PASS(f), out));
}
static int
ff_fcntl(sqlite3_file *f, int op, void *arg)
{
	return (PASS(f)->pMethods->xFileControl(PASS(f), op, arg));
}
static int
ff_sector(sqlite3_file *f)
{
	return (PASS(f)->pMethods->xSectorSize(PASS(f)));
}
static int
ff_devchar(sqlite3_file *f)
{
	return (PASS(f)->pMethods->xDeviceCharacteristics(PASS(f)));
}
static int
ff_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
	return (PASS(f)->pMethods->xShmMap(PASS(f), pg, sz, ext, pp));
}
static int
ff_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return (PASS(f)->pMethods->xShmLock(PASS(f), off, n, flags));
}
static void
ff_shm_barrier(sqlite3_file *f)
{
	PASS(f)->pMethods->xShmBarrier(PASS(f));
}
static int
ff_shm_unmap(sqlite3_file *f, int del)
{
	return (PASS(f)->pMethods->xShmUnmap(PASS(f), del));
}

/* Version 2: no memory-mapped I/O, so that every read and write of the
 * database goes through the methods above. */
static const sqlite3_io_methods ff_io = {
	.iVersion = 2,
	.xClose = ff_close,
	.xRead = ff_read,
	.xWrite = ff_write,
	.xTruncate = ff_truncate,
	.xSync = ff_sync,
	.xFileSize = ff_size,
	.xLock = ff_lock,
	.xUnlock = ff_unlock,
	.xCheckReservedLock = ff_check,
	.xFileControl = ff_fcntl,
	.xSectorSize = ff_sector,
	.xDeviceCharacteristics = ff_devchar,
	.xShmMap = ff_shm_map,
	.xShmLock = ff_shm_lock,
	.xShmBarrier = ff_shm_barrier,
	.xShmUnmap = ff_shm_unmap,
};

#define REAL_OFFSET ((sizeof(struct ff_file) + 15) & ~(size_t) 15)

static int
ff_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
    int *out)
{
	struct ff_file *f = (struct ff_file *) file;
	int rc;

	f->real = (sqlite3_file *) ((char *) file + REAL_OFFSET);
	f->e = NULL;
	rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out);
	if (rc != SQLITE_OK || f->real->pMethods == NULL) {
		file->pMethods = NULL;
		return (rc);
	}
	file->pMethods = &ff_io;
	if (name != NULL
	    && (flags
	           & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL
	               | SQLITE_OPEN_MAIN_JOURNAL))
	        != 0) {
		sqlite3_int64 size = 0;
		f->real->pMethods->xFileSize(f->real, &size);
		pthread_mutex_lock(&faultfs_mu);
		f->e = entry_for(name);
		if (f->e->nundo == 0 && f->e->size == f->e->synced) {
			f->e->synced = f->e->size = size;
		}
		pthread_mutex_unlock(&faultfs_mu);
	}
	return (SQLITE_OK);
}

static int
ff_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	pthread_mutex_lock(&faultfs_mu);
	for (struct entry **p = &entries; *p != NULL; p = &(*p)->next) {
		if (strcmp((*p)->path, name) == 0) {
			struct entry *e = *p;
			*p = e->next;
			undo_clear(e);
			free(e->undo);
			free(e->path);
			free(e);
			break;
		}
	}
	pthread_mutex_unlock(&faultfs_mu);
	return (real_vfs->xDelete(real_vfs, name, sync_dir));
}

static int
ff_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	return (real_vfs->xAccess(real_vfs, name, flags, out));
}

static int
ff_fullpath(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return (real_vfs->xFullPathname(real_vfs, name, n, out));
}

static int
ff_random(sqlite3_vfs *vfs, int n, char *out)
{
	return (real_vfs->xRandomness(real_vfs, n, out));
}

static int
ff_sleep(sqlite3_vfs *vfs, int us)
{
	return (real_vfs->xSleep(real_vfs, us));
}

static int
ff_time(sqlite3_vfs *vfs, double *out)
{
	return (real_vfs->xCurrentTime(real_vfs, out));
}

static int
ff_lasterr(sqlite3_vfs *vfs, int n, char *out)
{
	return (real_vfs->xGetLastError(real_vfs, n, out));
}

static sqlite3_vfs ff_vfs = {
	.iVersion = 1,
	.zName = "faultfs",
	.xOpen = ff_open,
	.xDelete = ff_delete,
	.xAccess = ff_access,
	.xFullPathname = ff_fullpath,
	.xRandomness = ff_random,
	.xSleep = ff_sleep,
	.xCurrentTime = ff_time,
	.xGetLastError = ff_lasterr,
};

void
faultfs_install(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	ff_vfs.szOsFile = (int) REAL_OFFSET + real_vfs->szOsFile;
	ff_vfs.mxPathname = real_vfs->mxPathname;
	/* No dlopen: loadable extensions need xDlOpen, which is left out. */
	sqlite3_vfs_register(&ff_vfs, 1);
}
