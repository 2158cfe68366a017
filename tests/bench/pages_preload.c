/*
 * pages_preload.c - libcairn-pages.so, loaded into a cairnd with
 * LD_PRELOAD by `cairn-bench --pages`: it puts store_pages.c's counting
 * VFS in front of SQLite's default one before the store opens, and when
 * the server exits it writes what was counted to $CAIRN_PAGES_OUT: the
 * frames appended to the write-ahead log, the pages checkpoints copied,
 * the syncs, and the frames by the table or index that owns each page of
 * the database at $CAIRN_PAGES_DB. The server's code is unchanged; its
 * whole life is counted (the schema's creation is a few dozen pages).
 */
#include <stdio.h>
#include <stdlib.h>

#include "store_pages.h"

#define PAGES_EXPORT __attribute__((visibility("default")))

__attribute__((constructor)) static void
pages_init(void)
{
	if (getenv("CAIRN_PAGES_OUT") != NULL) {
		store_pages_install();
	}
}

__attribute__((destructor)) static void
pages_fini(void)
{
	const char *out = getenv("CAIRN_PAGES_OUT");
	const char *db = getenv("CAIRN_PAGES_DB");
	struct store_pages p;
	FILE *f;

	store_pages_read(&p);
	if (!p.have || out == NULL || (f = fopen(out, "w")) == NULL) {
		return;
	}
	fprintf(f, "frames %llu\ndb_writes %llu\nsyncs %llu\n",
	    (unsigned long long) p.wal_frames,
	    (unsigned long long) p.db_writes, (unsigned long long) p.syncs);
	if (db != NULL) {
		store_pages_owners_raw(db, f);
	}
	fclose(f);
}

/* Something exported, so that the library is a well-formed module. */
PAGES_EXPORT int cairn_pages_preloaded = 1;
