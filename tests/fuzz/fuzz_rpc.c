/*
 * fuzz_rpc.c - a libFuzzer target over the whole request path of cairnd:
 * the bytes are a received message, served as the socket would serve them
 * (rpc_serve: envelope, auth, body, validation, dispatch), through the real
 * engine thread and the SQLite store on a temporary database. The reply
 * must be a well-formed Response, and with OK a well-formed reply of the
 * method; no crash, no leak (AddressSanitizer), no hang.
 *
 * Built with clang (-fsanitize=fuzzer) by run_fuzz.sh, and with any
 * compiler as fuzz_replay (fuzz_main.c), which runs the seeds and every
 * input that once failed (regressions/) in the normal test suites.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/log.h"
#include "rpc/internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	struct store *store;
	struct engine *engine;
	struct rpc_server srv;
	struct rpc_ctx ctx;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	nng_msg *reply;
	bool done;
	char dir[64];
} fz;

static void
deliver(struct rpc_ctx *c, nng_msg *reply)
{
	(void) c;
	pthread_mutex_lock(&fz.mu);
	fz.reply = reply;
	fz.done = true;
	pthread_cond_signal(&fz.cv);
	pthread_mutex_unlock(&fz.mu);
}

static void
cleanup(void)
{
	char cmd[128];

	engine_free(fz.engine);
	store_close(fz.store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fz.dir);
	(void) !system(cmd);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct store_options so = { .sync = STORE_SYNC_NORMAL_UNSAFE };
	struct engine_config ec = { .max_wait_ms = 5, .max_parked = 4 };
	char uri[96], err[256];

	(void) argc;
	(void) argv;
	log_setup("error", "text");
	snprintf(fz.dir, sizeof(fz.dir), "/tmp/cairn-fuzz-XXXXXX");
	if (mkdtemp(fz.dir) == NULL) {
		abort();
	}
	snprintf(uri, sizeof(uri), "sqlite:%s/fuzz.db", fz.dir);
	if (store_open(uri, &so, &fz.store, err, sizeof(err)) != CAIRN_OK) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
	ec.store = fz.store;
	if (engine_start(&fz.engine, &ec) != CAIRN_OK) {
		abort();
	}
	/* Small limits, so that the fuzzer reaches them. */
	fz.srv.cfg.limits = (struct rpc_limits) { .max_message = 65536,
		.max_payload = 4096,
		.max_batch_tasks = 16,
		.max_wait_ms = 5 };
	fz.srv.cfg.version = "fuzz";
	fz.srv.engine = fz.engine;
	fz.ctx.srv = &fz.srv;
	fz.ctx.deliver = deliver;
	pthread_mutex_init(&fz.mu, NULL);
	pthread_cond_init(&fz.cv, NULL);
	atexit(cleanup);
	return (0);
}

/* check_reply aborts unless reply is a Response, and, when OK, a reply of
 * the method that the request named. */
static void
check_reply(const uint8_t *data, size_t size, nng_msg *reply)
{
	Cairn__V1__Response *r;
	Cairn__V1__Request *req;

	if (reply == NULL) {
		return; /* out of memory: the request is dropped */
	}
	r = cairn__v1__response__unpack(
	    NULL, nng_msg_len(reply), nng_msg_body(reply));
	if (r == NULL || (int) r->code < 0
	    || (int) r->code > CAIRN_UNAUTHENTICATED) {
		fprintf(stderr, "fuzz: malformed reply\n");
		abort();
	}
	if (r->code == 0
	    && (req = cairn__v1__request__unpack(NULL, size, data)) != NULL) {
		const ProtobufCMethodDescriptor *m
		    = protobuf_c_service_descriptor_get_method_by_name(
		        &cairn__v1__queue__descriptor, req->method);
		ProtobufCMessage *out = m == NULL
		    ? NULL
		    : protobuf_c_message_unpack(
		        m->output, NULL, r->body.len, r->body.data);
		if (out == NULL) {
			fprintf(stderr, "fuzz: OK without a valid body\n");
			abort();
		}
		protobuf_c_message_free_unpacked(out, NULL);
		cairn__v1__request__free_unpacked(req, NULL);
	}
	cairn__v1__response__free_unpacked(r, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nng_msg *m;

	if (fz.engine == NULL) {
		LLVMFuzzerInitialize(NULL, NULL);
	}
	if (nng_msg_alloc(&m, size) != 0) {
		return (0);
	}
	if (size > 0) {
		memcpy(nng_msg_body(m), data, size);
	}
	pthread_mutex_lock(&fz.mu);
	fz.done = false;
	fz.reply = NULL;
	pthread_mutex_unlock(&fz.mu);
	rpc_serve(&fz.ctx, m);
	pthread_mutex_lock(&fz.mu);
	while (!fz.done) {
		pthread_cond_wait(&fz.cv, &fz.mu);
	}
	pthread_mutex_unlock(&fz.mu);
	check_reply(data, size, fz.reply);
	nng_msg_free(fz.reply);
	return (0);
}
