/*
 * procio.c - what a server wrote and synced, from outside it: the
 * counters of /proc/PID/io, and the fsync counter that
 * libcairn-fsync-count.so (fsync_count.c) keeps for a cairnd started
 * with it.
 *
 * wchar counts every byte passed to write-like calls (the write-ahead log
 * and the checkpoint's copies into the database alike, whether or not
 * they reach the disk yet); write_bytes counts what the process caused to
 * be sent to the block device, which lags (the kernel writes back dirty
 * pages later, and a page rewritten before it is written back counts
 * once); syscw counts the write calls.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

void
bench_io_of(pid_t pid, struct bench_io *io)
{
	char path[64], line[128];
	unsigned long long v;
	char key[32];
	FILE *f;

	memset(io, 0, sizeof(*io));
	if (pid <= 0) {
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/io", (int) pid);
	if ((f = fopen(path, "r")) == NULL) {
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%31[a-z_]: %llu", key, &v) != 2) {
			continue;
		}
		if (strcmp(key, "wchar") == 0) {
			io->wchar = v;
			io->have = true;
		} else if (strcmp(key, "syscw") == 0) {
			io->syscw = v;
		} else if (strcmp(key, "write_bytes") == 0) {
			io->write_bytes = v;
		}
	}
	fclose(f);
}

int
bench_fsyncs_open(struct bench_fsyncs *c, const char *path, bool create)
{
	uint64_t zero = 0;
	int fd;
	void *p;

	c->count = NULL;
	fd = open(path, create ? O_RDWR | O_CREAT | O_TRUNC : O_RDWR, 0600);
	if (fd < 0) {
		return (-1);
	}
	if (create && write(fd, &zero, sizeof(zero)) != sizeof(zero)) {
		close(fd);
		return (-1);
	}
	p = mmap(NULL, sizeof(uint64_t), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		return (-1);
	}
	c->count = p;
	return (0);
}

bool
bench_fsyncs_read(const struct bench_fsyncs *c, uint64_t *out)
{
	if (c == NULL || c->count == NULL) {
		return (false);
	}
	*out = __atomic_load_n(c->count, __ATOMIC_RELAXED);
	return (true);
}

void
bench_fsyncs_close(struct bench_fsyncs *c)
{
	if (c->count != NULL) {
		munmap((void *) c->count, sizeof(uint64_t));
		c->count = NULL;
	}
}
