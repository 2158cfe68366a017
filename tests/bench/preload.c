/*
 * preload.c - the libraries that cairn-bench loads into the cairnd it
 * starts, to count what the server's code does not report:
 *
 *   libcairn-fsync-count.so (fsync_count.c)  its fsync/fdatasync calls,
 *       into a counter shared through a file, read during the run;
 *   libcairn-pages.so (pages_preload.c)      with --pages, on SQLite: the
 *       pages its commits wrote, by table and index, written to a file
 *       when the server exits.
 *
 * Neither exists in a sanitizer build (its runtime must be the first
 * library a program loads): there the counts are missing, not wrong.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* find_lib picks a library: $env when set ("" turns it off), else the
 * first of candidates that exists; "" when none. */
static void
find_lib(
    const char *env_name, const char *const *candidates, char *out, size_t len)
{
	const char *env = getenv(env_name);

	out[0] = 0;
	if (env != NULL) {
		if (env[0] != 0 && access(env, R_OK) == 0) {
			snprintf(out, len, "%s", env);
		}
		return;
	}
	for (size_t i = 0; candidates[i] != NULL; i++) {
		if (access(candidates[i], R_OK) == 0) {
			snprintf(out, len, "%s", candidates[i]);
			return;
		}
	}
}

static const char *const fsync_libs[] = {
#ifdef CAIRN_FSYNC_LIB_BUILD
	CAIRN_FSYNC_LIB_BUILD,
#endif
#ifdef CAIRN_FSYNC_LIB_INSTALL
	CAIRN_FSYNC_LIB_INSTALL,
#endif
	NULL,
};

static const char *const pages_libs[] = {
#ifdef CAIRN_PAGES_LIB_BUILD
	CAIRN_PAGES_LIB_BUILD,
#endif
#ifdef CAIRN_PAGES_LIB_INSTALL
	CAIRN_PAGES_LIB_INSTALL,
#endif
	NULL,
};

/* add appends lib to the colon-separated list ld. */
static void
add(char *ld, size_t len, const char *lib)
{
	size_t used = strlen(ld);

	snprintf(ld + used, len - used, "%s%s", used > 0 ? ":" : "", lib);
}

void
bench_preload_setup(struct bench_server *s, const struct bench_options *opt,
    struct bench_preload *p)
{
	char lib[PATH_MAX];

	memset(p, 0, sizeof(*p));
	find_lib("CAIRN_FSYNC_LIB", fsync_libs, lib, sizeof(lib));
	snprintf(p->counter, sizeof(p->counter), "%s/fsyncs", s->dir);
	if (lib[0] != 0
	    && bench_fsyncs_open(&s->fsyncs, p->counter, true) == 0) {
		add(p->ld, sizeof(p->ld), lib);
	} else {
		p->counter[0] = 0;
	}
	if (!opt->pages || strncmp(s->store, "sqlite:", 7) != 0) {
		return;
	}
	find_lib("CAIRN_PAGES_LIB", pages_libs, lib, sizeof(lib));
	if (lib[0] != 0) {
		add(p->ld, sizeof(p->ld), lib);
		snprintf(
		    s->pages_out, sizeof(s->pages_out), "%s/pages", s->dir);
		snprintf(p->pages_db, sizeof(p->pages_db), "%s",
		    s->store + strlen("sqlite:"));
	}
}

void
bench_preload_apply(
    const struct bench_server *s, const struct bench_preload *p)
{
	char env[sizeof(p->ld) + PATH_MAX];
	const char *old = getenv("LD_PRELOAD");

	if (p->ld[0] == 0) {
		return;
	}
	snprintf(env, sizeof(env), "%s%s%s", p->ld, old != NULL ? ":" : "",
	    old != NULL ? old : "");
	setenv("LD_PRELOAD", env, 1);
	if (p->counter[0] != 0) {
		setenv("CAIRN_FSYNC_COUNT", p->counter, 1);
	}
	if (s->pages_out[0] != 0) {
		setenv("CAIRN_PAGES_OUT", s->pages_out, 1);
		setenv("CAIRN_PAGES_DB", p->pages_db, 1);
	}
}

void
bench_pages_read(const char *path, struct bench_pages *out)
{
	char line[256], name[64];
	unsigned long long v;
	FILE *f;

	memset(out, 0, sizeof(*out));
	if (path[0] == 0 || (f = fopen(path, "r")) == NULL) {
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "frames %llu", &v) == 1) {
			out->frames = v;
			out->have = true;
		} else if (sscanf(line, "db_writes %llu", &v) == 1) {
			out->db_writes = v;
		} else if (sscanf(line, "syncs %llu", &v) == 1) {
			out->syncs = v;
		} else if (sscanf(line, "owner %63s %llu", name, &v) == 2
		    && out->owners < BENCH_PAGE_OWNERS) {
			snprintf(out->owner[out->owners],
			    sizeof(out->owner[0]), "%s", name);
			out->owner_frames[out->owners++] = v;
		}
	}
	fclose(f);
}
