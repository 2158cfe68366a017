/*
 * store_pages.c - what store-bench's transactions write, counted where it
 * happens rather than guessed:
 *
 * - SQLite: a VFS that wraps the default one (made the default before the
 *   store opens, so that the store's code is unchanged) and counts the
 *   frames appended to the write-ahead log (each frame is one page of one
 *   commit; its header names the page), the pages that checkpoints copy
 *   into the database, and the syncs. The pages named are then mapped to
 *   the table or index that holds them now, with SQLite's dbstat table.
 * - PostgreSQL: the cluster's pg_stat_wal (records, full-page images,
 *   bytes, syncs) before and after; pages as such are not counted by
 *   PostgreSQL 15 per statement, and the cluster is the bench's alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#ifdef CAIRN_WITH_POSTGRES
#include <libpq-fe.h>
#endif

#include "store_pages.h"

#define WAL_FRAME_HDR 24

enum file_kind { FILE_OTHER, FILE_DB, FILE_WAL };

/* A file of the counting VFS: the real one follows it in memory. */
struct cfile {
	sqlite3_file base;
	enum file_kind kind;
	sqlite3_file *real;
};

static sqlite3_vfs *real_vfs;
static struct store_pages counts;
static uint64_t *by_page; /* WAL frames per page number */
static size_t by_page_len;

static void
note_page(uint32_t pgno)
{
	if (pgno >= by_page_len) {
		size_t n = by_page_len > 0 ? by_page_len : 1024;
		while (n <= pgno) {
			n *= 2;
		}
		uint64_t *p = realloc(by_page, n * sizeof(*p));
		if (p == NULL) {
			return; /* the totals still count it */
		}
		memset(p + by_page_len, 0, (n - by_page_len) * sizeof(*p));
		by_page = p;
		by_page_len = n;
	}
	by_page[pgno]++;
}

#define REAL(f) (((struct cfile *) (f))->real)

static int
c_close(sqlite3_file *f)
{
	return (REAL(f)->pMethods->xClose(REAL(f)));
}

static int
c_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	return (REAL(f)->pMethods->xRead(REAL(f), buf, n, off));
}

/* c_write counts: a frame header of the log (24 bytes, the page number
 * first, big-endian), or a page written into the database. */
static int
c_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	struct cfile *c = (struct cfile *) f;

	if (c->kind == FILE_WAL) {
		counts.wal_bytes += (uint64_t) n;
		if (n == WAL_FRAME_HDR) {
			const unsigned char *h = buf;
			counts.wal_frames++;
			note_page((uint32_t) h[0] << 24 | (uint32_t) h[1] << 16
			    | (uint32_t) h[2] << 8 | h[3]);
		}
	} else if (c->kind == FILE_DB) {
		counts.db_bytes += (uint64_t) n;
		counts.db_writes++;
	}
	return (REAL(f)->pMethods->xWrite(REAL(f), buf, n, off));
}

static int
c_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return (REAL(f)->pMethods->xTruncate(REAL(f), size));
}

static int
c_sync(sqlite3_file *f, int flags)
{
	counts.syncs++;
	return (REAL(f)->pMethods->xSync(REAL(f), flags));
}

static int
c_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return (REAL(f)->pMethods->xFileSize(REAL(f), size));
}

static int
c_lock(sqlite3_file *f, int lock)
{
	return (REAL(f)->pMethods->xLock(REAL(f), lock));
}

static int
c_unlock(sqlite3_file *f, int lock)
{
	return (REAL(f)->pMethods->xUnlock(REAL(f), lock));
}

static int
c_check(sqlite3_file *f, int *out)
{
	return (REAL(f)->pMethods->xCheckReservedLock(REAL(f), out));
}

static int
c_fcntl(sqlite3_file *f, int op, void *arg)
{
	return (REAL(f)->pMethods->xFileControl(REAL(f), op, arg));
}

static int
c_sector(sqlite3_file *f)
{
	return (REAL(f)->pMethods->xSectorSize(REAL(f)));
}

static int
c_devchar(sqlite3_file *f)
{
	return (REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)));
}

static int
c_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **pp)
{
	return (REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, pp));
}

static int
c_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return (REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags));
}

static void
c_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int
c_shm_unmap(sqlite3_file *f, int del)
{
	return (REAL(f)->pMethods->xShmUnmap(REAL(f), del));
}

static int
c_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return (REAL(f)->pMethods->xFetch(REAL(f), off, n, pp));
}

static int
c_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return (REAL(f)->pMethods->xUnfetch(REAL(f), off, p));
}

/* Version 3, as the unix VFS: the log needs the shared-memory calls. */
static const sqlite3_io_methods counting_io = {
	.iVersion = 3,
	.xClose = c_close,
	.xRead = c_read,
	.xWrite = c_write,
	.xTruncate = c_truncate,
	.xSync = c_sync,
	.xFileSize = c_size,
	.xLock = c_lock,
	.xUnlock = c_unlock,
	.xCheckReservedLock = c_check,
	.xFileControl = c_fcntl,
	.xSectorSize = c_sector,
	.xDeviceCharacteristics = c_devchar,
	.xShmMap = c_shm_map,
	.xShmLock = c_shm_lock,
	.xShmBarrier = c_shm_barrier,
	.xShmUnmap = c_shm_unmap,
	.xFetch = c_fetch,
	.xUnfetch = c_unfetch,
};

static int
c_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
    int *out_flags)
{
	struct cfile *c = (struct cfile *) f;
	int rc;

	(void) vfs;
	c->real = (sqlite3_file *) (c + 1);
	c->kind = flags & SQLITE_OPEN_MAIN_DB ? FILE_DB
	    : flags & SQLITE_OPEN_WAL         ? FILE_WAL
	                                      : FILE_OTHER;
	rc = real_vfs->xOpen(real_vfs, name, c->real, flags, out_flags);
	/* Without methods the real file was not opened: neither is ours. */
	c->base.pMethods = c->real->pMethods != NULL ? &counting_io : NULL;
	return (rc);
}

int
store_pages_install(void)
{
	static sqlite3_vfs vfs;

	/* What the store sets once per process must come before the first
	 * use of SQLite, which registering a VFS is. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if ((real_vfs = sqlite3_vfs_find(NULL)) == NULL
	    || real_vfs->iVersion < 1) {
		return (-1);
	}
	vfs = *real_vfs;
	vfs.zName = "cairn-counting";
	vfs.szOsFile = (int) sizeof(struct cfile) + real_vfs->szOsFile;
	vfs.xOpen = c_open;
	return (sqlite3_vfs_register(&vfs, 1) == SQLITE_OK ? 0 : -1);
}

void
store_pages_read(struct store_pages *out)
{
	*out = counts;
	out->have = real_vfs != NULL;
}

/* The objects that the log's pages belong to, most written first. */
struct owner {
	char name[64];
	uint64_t frames;
};

static int
by_frames(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	return (x->frames < y->frames ? 1 : x->frames > y->frames ? -1 : 0);
}

static size_t
owner_index(struct owner *o, size_t *n, size_t max, const char *name)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(o[i].name, name) == 0) {
			return (i);
		}
	}
	if (*n == max) {
		return (max - 1); /* the last slot takes the rest */
	}
	snprintf(o[*n].name, sizeof(o[*n].name), "%s", name);
	o[*n].frames = 0;
	return ((*n)++);
}

/* collect adds up the frames of the log by the object that owns each page
 * of the database at path now; *known is their sum. */
static int
collect(
    const char *path, struct owner *o, size_t *n, uint64_t *known, FILE *out)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	*n = 0;
	*known = 0;
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, "unix");
	if (rc == SQLITE_OK) {
		rc = sqlite3_prepare_v2(db,
		    "SELECT name, pageno FROM dbstat ORDER BY pageno", -1, &st,
		    NULL);
	}
	if (rc != SQLITE_OK) {
		fprintf(out, "store-bench: no page owners: %s\n",
		    sqlite3_errmsg(db));
		sqlite3_close(db);
		return (-1);
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *) sqlite3_column_text(st, 0);
		int64_t pg = sqlite3_column_int64(st, 1);
		if (pg > 0 && (size_t) pg < by_page_len && by_page[pg] > 0) {
			size_t i = owner_index(o, n, 64, name ? name : "?");
			o[i].frames += by_page[pg];
			*known += by_page[pg];
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	qsort(o, *n, sizeof(o[0]), by_frames);
	return (0);
}

int
store_pages_owners(const char *path, double per, FILE *out)
{
	struct owner o[64];
	size_t n;
	uint64_t known;

	if (collect(path, o, &n, &known, out) != 0) {
		return (-1);
	}
	fprintf(out, "  %-36s %12s\n", "pages written to the log, by owner",
	    "per lifecycle");
	uint64_t rest = counts.wal_frames - known;
	for (size_t i = 0; i < n; i++) {
		/* Pages written once or twice in the whole run (a page
		 * that changed owner, the first use of a table) are noise. */
		if ((double) o[i].frames / per < 0.005) {
			rest += o[i].frames;
			continue;
		}
		fprintf(out, "  %-36s %12.3f\n", o[i].name,
		    (double) o[i].frames / per);
	}
	fprintf(out, "  %-36s %12.3f\n", "(header, freelist, the rest)",
	    (double) rest / per);
	return (0);
}

int
store_pages_owners_raw(const char *path, FILE *out)
{
	struct owner o[64];
	size_t n;
	uint64_t known;

	if (collect(path, o, &n, &known, out) != 0) {
		return (-1);
	}
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "owner %s %llu\n", o[i].name,
		    (unsigned long long) o[i].frames);
	}
	return (0);
}

#ifdef CAIRN_WITH_POSTGRES
int
store_pages_pg(const char *uri, struct store_pages_pg *out)
{
	PGconn *c = PQconnectdb(uri);
	PGresult *r = NULL;
	int rv = -1;

	memset(out, 0, sizeof(*out));
	if (PQstatus(c) != CONNECTION_OK) {
		goto done;
	}
	r = PQexec(c,
	    "SELECT wal_records, wal_fpi, wal_bytes, wal_write, wal_sync, "
	    "pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0') "
	    "FROM pg_stat_wal");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		goto done;
	}
	out->records = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	out->fpi = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	out->bytes = strtoull(PQgetvalue(r, 0, 2), NULL, 10);
	out->writes = strtoull(PQgetvalue(r, 0, 3), NULL, 10);
	out->syncs = strtoull(PQgetvalue(r, 0, 4), NULL, 10);
	out->lsn = strtoull(PQgetvalue(r, 0, 5), NULL, 10);
	out->have = true;
	rv = 0;
done:
	PQclear(r);
	PQfinish(c);
	return (rv);
}
#else
int
store_pages_pg(const char *uri, struct store_pages_pg *out)
{
	(void) uri;
	memset(out, 0, sizeof(*out));
	return (-1);
}
#endif
