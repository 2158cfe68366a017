/*
 * fsync.c - the fsync workload: how long the disk takes to make a small
 * write durable. A durable rpc cannot answer sooner than this, so it is
 * the floor against which the latency of one client is judged.
 *
 * It overwrites 4 KiB blocks of a preallocated 4 MiB file in turn and
 * calls fdatasync after each, as SQLite does with its write-ahead log in
 * steady state (the log is reused from its start after each checkpoint, so
 * its size rarely changes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define BLOCK       4096
#define FILE_BLOCKS 1024

int
bench_fsync(const struct bench_options *opt, struct bench_result *r, char *err,
    size_t errlen)
{
	const char *dir = opt->fsync_dir != NULL ? opt->fsync_dir
	    : getenv("TMPDIR") != NULL           ? getenv("TMPDIR")
	                                         : "/tmp";
	char path[512], block[BLOCK];
	uint64_t start, end, n = 0;
	int fd, rv = -1;

	snprintf(path, sizeof(path), "%s/cairn-bench-fsync-XXXXXX", dir);
	if ((fd = mkstemp(path)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	memset(block, 'x', sizeof(block));
	for (int i = 0; i < FILE_BLOCKS; i++) {
		if (write(fd, block, BLOCK) != BLOCK) {
			snprintf(err, errlen, "write: %s", strerror(errno));
			goto out;
		}
	}
	if (fsync(fd) != 0) {
		snprintf(err, errlen, "fsync: %s", strerror(errno));
		goto out;
	}
	start = bench_now_ns();
	end = start + (uint64_t) (opt->duration_s * 1e9);
	for (uint64_t now = start; now < end; now = bench_now_ns()) {
		off_t off = (off_t) (n % FILE_BLOCKS) * BLOCK;
		if (pwrite(fd, block, BLOCK, off) != BLOCK
		    || fdatasync(fd) != 0) {
			snprintf(err, errlen, "write: %s", strerror(errno));
			goto out;
		}
		hist_record(&r->h[RPC_FSYNC], bench_now_ns() - now);
		n++;
	}
	r->elapsed_s = (double) (bench_now_ns() - start) / 1e9;
	r->requests = n;
	r->tasks = n;
	rv = 0;
out:
	close(fd);
	unlink(path);
	return (rv);
}
