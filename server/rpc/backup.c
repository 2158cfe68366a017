/*
 * rpc/backup.c - the Backup rpc: an online copy of the store, made on a
 * thread of its own (store_backup, store/store.h) while every other
 * request is served as usual.
 *
 * The file is named by the client but written by the server, so the name
 * is only a name: it must be new, and it lands in the backup directory
 * (--backup-dir, by default the database's own directory). A client can
 * never make cairnd write anywhere else, nor replace a file.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/log.h"
#include "ops/metrics.h"
#include "rpc/handlers.h"

#define NAME_MAX_LEN 255

/* One backup at a time per process: two would only compete for the disk. */
static struct {
	pthread_mutex_t mu;
	bool running;
	bool joinable;
	pthread_t thread;
	atomic_bool cancel;
} bk = { .mu = PTHREAD_MUTEX_INITIALIZER };

struct backup_job {
	struct rpc_ctx *c;
	const char *uri;
	char path[4096];
};

static bool
keep_going(void *arg)
{
	(void) arg;
	return (!atomic_load(&bk.cancel));
}

static void *
backup_main(void *arg)
{
	struct backup_job *j = arg;
	Cairn__V1__BackupResponse resp = CAIRN__V1__BACKUP_RESPONSE__INIT;
	uint64_t t0 = metrics_clock(), bytes = 0;
	char err[512] = "";
	int rv;

	log_info("backup to %s: started", j->path);
	rv = store_backup(
	    j->uri, j->path, keep_going, NULL, &bytes, err, sizeof(err));
	resp.duration_ms = (int64_t) ((metrics_clock() - t0) / 1000000u);
	if (rv == CAIRN_OK) {
		log_info("backup to %s: %llu bytes in %lld ms, integrity ok",
		    j->path, (unsigned long long) bytes,
		    (long long) resp.duration_ms);
		resp.path = j->path;
		resp.bytes = bytes;
		rpc_reply(&resp.base, j->c);
	} else {
		log_warn("%s", err);
		rpc_refuse(j->c, rv, "%s", err);
	}
	free(j);
	pthread_mutex_lock(&bk.mu);
	bk.running = false;
	pthread_mutex_unlock(&bk.mu);
	return (NULL);
}

/* name_ok accepts a plain file name: no directories, not hidden. */
static bool
name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > NAME_MAX_LEN || name[0] == '.') {
		return (false);
	}
	return (strspn(name,
	            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	            "0123456789._-")
	    == n);
}

/* start runs j on the backup thread; false (j untouched) when one runs. */
static bool
start(struct backup_job *j)
{
	bool ok = false;

	pthread_mutex_lock(&bk.mu);
	if (!bk.running) {
		if (bk.joinable) {
			pthread_join(bk.thread, NULL); /* finished */
			bk.joinable = false;
		}
		atomic_store(&bk.cancel, false);
		if (pthread_create(&bk.thread, NULL, backup_main, j) == 0) {
			bk.running = bk.joinable = ok = true;
		}
	}
	pthread_mutex_unlock(&bk.mu);
	return (ok);
}

void
rpc_backup(Cairn__V1__Queue_Service *svc, const Cairn__V1__BackupRequest *in,
    Cairn__V1__BackupResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	const char *uri = c->srv->cfg.store_uri;
	const char *dir = c->srv->cfg.backup_dir;
	struct backup_job *j;

	if (uri == NULL || !store_can_backup(uri)) {
		rpc_refuse(c, CAIRN_UNIMPLEMENTED,
		    "this store has no online backup in cairnd; with "
		    "PostgreSQL use pg_basebackup or pg_dump");
		return;
	}
	if (dir == NULL) {
		rpc_refuse(c, CAIRN_FAILED_PRECONDITION,
		    "backups are off: start cairnd with --backup-dir DIR");
		return;
	}
	if (!name_ok(in->file)) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
		    "file: a new file name of [A-Za-z0-9._-], not starting "
		    "with '.'; it is written in the server's backup "
		    "directory");
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	j->c = c;
	j->uri = uri;
	snprintf(j->path, sizeof(j->path), "%s/%s", dir, in->file);
	if (!start(j)) {
		free(j);
		rpc_refuse(c, CAIRN_FAILED_PRECONDITION,
		    "another backup is running; try again when it is done");
	}
}

void
rpc_backup_stop(void)
{
	pthread_mutex_lock(&bk.mu);
	if (bk.joinable) {
		atomic_store(&bk.cancel, true);
		pthread_t t = bk.thread;
		bk.joinable = false;
		pthread_mutex_unlock(&bk.mu);
		pthread_join(t, NULL);
		return;
	}
	pthread_mutex_unlock(&bk.mu);
}
