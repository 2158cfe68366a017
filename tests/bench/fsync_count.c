/*
 * fsync_count.c - libcairn-fsync-count.so, loaded into a cairnd with
 * LD_PRELOAD by cairn-bench: it counts the server's fsync and fdatasync
 * calls into an 8-byte counter shared with the bench through a file (the
 * path in $CAIRN_FSYNC_COUNT), then makes the real call.
 *
 * Why a preload and not strace: strace stops the process at every system
 * call, which changes the very throughput being measured; an atomic add
 * on a shared page costs nothing next to an fsync. cairnd exports no
 * fsync count of its own, and /proc/PID/io counts writes, not syncs.
 * SQLite calls fsync/fdatasync through the dynamic linker, so they pass
 * here; a call made as a raw system call would not (none is today).
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t *counter; /* NULL: no file given, or it could not be mapped */

__attribute__((constructor)) static void
fsync_count_init(void)
{
	const char *path = getenv("CAIRN_FSYNC_COUNT");
	int fd;
	void *p;

	if (path == NULL || (fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		return;
	}
	p = mmap(
	    NULL, sizeof(*counter), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p != MAP_FAILED) {
		counter = p;
	}
}

/* The two calls this library replaces are exported whatever the build's
 * default visibility: that is how they take the place of libc's. */
#define FSYNC_EXPORT __attribute__((visibility("default")))

static void
count(void)
{
	if (counter != NULL) {
		__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
	}
}

FSYNC_EXPORT int
fsync(int fd)
{
	static int (*real)(int);

	if (real == NULL) {
		real = (int (*)(int)) dlsym(RTLD_NEXT, "fsync");
	}
	count();
	return (real(fd));
}

FSYNC_EXPORT int
fdatasync(int fd)
{
	static int (*real)(int);

	if (real == NULL) {
		real = (int (*)(int)) dlsym(RTLD_NEXT, "fdatasync");
	}
	count();
	return (real(fd));
}
