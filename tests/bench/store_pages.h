/*
 * store_pages.h - what store-bench's transactions write (store_pages.c).
 */
#ifndef CAIRN_STORE_PAGES_H
#define CAIRN_STORE_PAGES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* SQLite: counted by a VFS wrapped around the default one. */
struct store_pages {
	bool have;
	uint64_t wal_frames; /* pages appended to the write-ahead log */
	uint64_t wal_bytes;  /* frames with their headers, log headers */
	uint64_t db_writes;  /* pages copied into the database file */
	uint64_t db_bytes;
	uint64_t syncs; /* xSync calls: log and database alike */
};

/* store_pages_install makes the counting VFS SQLite's default; call it
 * before the store opens. -1 when it cannot. */
int store_pages_install(void);

/* store_pages_read gives the counts so far (have false: not installed). */
void store_pages_read(struct store_pages *out);

/* store_pages_owners prints, for the database at path, the pages written
 * to the log per unit (divided by per), by the table or index that holds
 * each page now (dbstat). -1 when dbstat cannot be read. */
int store_pages_owners(const char *path, double per, FILE *out);

/* store_pages_owners_raw writes the same as lines "owner NAME FRAMES",
 * most written first, for a program that reads them (pages_preload.c). */
int store_pages_owners_raw(const char *path, FILE *out);

/* PostgreSQL: the cluster's pg_stat_wal. */
struct store_pages_pg {
	bool have;
	uint64_t records, fpi, bytes, writes, syncs;
	uint64_t lsn; /* where the log's next record goes, in bytes */
};

/* store_pages_pg reads pg_stat_wal through a connection of its own to
 * uri; -1 (out->have false) when it cannot. */
int store_pages_pg(const char *uri, struct store_pages_pg *out);

#endif /* CAIRN_STORE_PAGES_H */
