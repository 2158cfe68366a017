/*
 * fuzz_main.c - fuzz_replay: runs fuzz_rpc.c's target over files without
 * libFuzzer (so that any compiler and the normal test suites run the
 * seeds and the regressions), and writes the seed corpus: one real
 * request of every rpc, built with the generated protobuf code.
 *
 *   fuzz_replay --seeds DIR     write the seeds into DIR
 *   fuzz_replay PATH...         run every file (directories: their files)
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cairn.pb-c.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
write_seed(const char *dir, const char *name, const char *method,
    const ProtobufCMessage *body, const char *rid)
{
	Cairn__V1__Request env = CAIRN__V1__REQUEST__INIT;
	uint8_t b[4096], out[8192];
	char path[512];
	FILE *f;

	env.method = (char *) method;
	env.body.len = body != NULL ? protobuf_c_message_pack(body, b) : 0;
	env.body.data = b;
	env.request_id = (char *) (rid != NULL ? rid : "");
	env.deadline_ms = 10000;
	size_t len = cairn__v1__request__pack(&env, out);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL) {
		return (-1);
	}
	fwrite(out, 1, len, f);
	fclose(f);
	return (0);
}

static int
seeds(const char *dir)
{
	Cairn__V1__TaskSpec spec = CAIRN__V1__TASK_SPEC__INIT, *specs[2];
	Cairn__V1__RetryPolicy retry = CAIRN__V1__RETRY_POLICY__INIT;
	Cairn__V1__EnqueueRequest enq = CAIRN__V1__ENQUEUE_REQUEST__INIT;
	Cairn__V1__LeaseRequest lease = CAIRN__V1__LEASE_REQUEST__INIT;
	Cairn__V1__HeartbeatRequest hb = CAIRN__V1__HEARTBEAT_REQUEST__INIT;
	Cairn__V1__CompleteRequest done = CAIRN__V1__COMPLETE_REQUEST__INIT;
	Cairn__V1__FailRequest fail = CAIRN__V1__FAIL_REQUEST__INIT;
	Cairn__V1__CancelRequest cancel = CAIRN__V1__CANCEL_REQUEST__INIT;
	Cairn__V1__RetryRequest again = CAIRN__V1__RETRY_REQUEST__INIT;
	Cairn__V1__GetRequest get = CAIRN__V1__GET_REQUEST__INIT;
	Cairn__V1__ListRequest list = CAIRN__V1__LIST_REQUEST__INIT;
	Cairn__V1__StatsRequest stats = CAIRN__V1__STATS_REQUEST__INIT;
	Cairn__V1__AwaitRequest await = CAIRN__V1__AWAIT_REQUEST__INIT;
	Cairn__V1__HistoryRequest hist = CAIRN__V1__HISTORY_REQUEST__INIT;
	Cairn__V1__PingRequest ping = CAIRN__V1__PING_REQUEST__INIT;
	char *queues[] = { "q", "other.q" };
	const char *token = "0123456789abcdef0123456789abcdef";

	mkdir(dir, 0755);
	spec.queue = "q";
	spec.payload.data = (uint8_t *) "payload";
	spec.payload.len = 7;
	spec.priority = 5;
	spec.max_attempts = 3;
	spec.idempotency_key = "key-1";
	retry.initial_backoff_ms = 10;
	retry.multiplier = 2;
	retry.max_backoff_ms = 100;
	spec.retry = &retry;
	specs[0] = specs[1] = &spec;
	enq.tasks = specs;
	enq.n_tasks = 2;
	lease.queues = queues;
	lease.n_queues = 2;
	lease.max_tasks = 2;
	lease.wait_ms = 3;
	lease.worker_id = "w1";
	hb.id = done.id = fail.id = cancel.id = again.id = get.id = 1;
	await.id = hist.id = 1;
	hb.lease_token = done.lease_token = fail.lease_token = (char *) token;
	hb.details.data = done.result.data = (uint8_t *) "r";
	hb.details.len = done.result.len = 1;
	fail.error = "boom";
	list.queue = "q";
	list.limit = 10;
	stats.queue = "q";
	await.wait_ms = 2;
	if (write_seed(dir, "enqueue", "Enqueue", &enq.base, "rid-1")
	    || write_seed(dir, "lease", "Lease", &lease.base, "rid-2")
	    || write_seed(dir, "heartbeat", "Heartbeat", &hb.base, "rid-3")
	    || write_seed(dir, "complete", "Complete", &done.base, NULL)
	    || write_seed(dir, "fail", "Fail", &fail.base, NULL)
	    || write_seed(dir, "cancel", "Cancel", &cancel.base, NULL)
	    || write_seed(dir, "retry", "Retry", &again.base, NULL)
	    || write_seed(dir, "get", "Get", &get.base, NULL)
	    || write_seed(dir, "list", "List", &list.base, NULL)
	    || write_seed(dir, "stats", "Stats", &stats.base, NULL)
	    || write_seed(dir, "await", "Await", &await.base, NULL)
	    || write_seed(dir, "history", "History", &hist.base, NULL)
	    || write_seed(dir, "ping", "Ping", &ping.base, NULL)) {
		perror(dir);
		return (1);
	}
	return (0);
}

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	static uint8_t buf[1 << 20];
	size_t n;

	if (f == NULL) {
		perror(path);
		return (1);
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return (0);
}

static int
run_path(const char *path, int *count)
{
	struct stat st;
	struct dirent *d;
	char sub[1024];
	DIR *dir;
	int rv = 0;

	if (stat(path, &st) != 0) {
		perror(path);
		return (1);
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return (run_file(path));
	}
	if ((dir = opendir(path)) == NULL) {
		return (1);
	}
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.' || strcmp(d->d_name, "README") == 0) {
			continue;
		}
		snprintf(sub, sizeof(sub), "%s/%s", path, d->d_name);
		rv |= run_path(sub, count);
	}
	closedir(dir);
	return (rv);
}

int
main(int argc, char **argv)
{
	int rv = 0, count = 0;

	if (argc == 3 && strcmp(argv[1], "--seeds") == 0) {
		return (seeds(argv[2]));
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		rv |= run_path(argv[i], &count);
	}
	printf("fuzz_replay: %d inputs, no failure\n", count);
	return (rv);
}
