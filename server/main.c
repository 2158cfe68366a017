/*
 * main.c - cairnd: options, start-up, and an orderly stop on SIGINT or
 * SIGTERM (stop taking requests, finish the batch in flight and answer it,
 * close the store, exit 0).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "log.h"
#include "options.h"
#include "rpc.h"
#include "store.h"

#ifndef CAIRN_VERSION
#define CAIRN_VERSION "0.0.0"
#endif

static int
serve(const struct options *o, sigset_t *sigs)
{
	struct store_options so = {
		.sync = strcmp(o->durability, "full") == 0
		    ? STORE_SYNC_FULL
		    : STORE_SYNC_NORMAL_UNSAFE,
	};
	struct engine_config ec = {
		.retention_ms = o->retention_ms,
		.max_wait_ms = o->max_wait_ms,
	};
	struct rpc_config rc = {
		.listen = o->listen,
		.nlisten = o->nlisten,
		.contexts = (unsigned) o->contexts,
		.version = CAIRN_VERSION,
		.limits = {
		    .max_message = o->max_message > 0 ? (size_t) o->max_message
		                                      : 4 << 20,
		    .max_payload = o->max_payload > 0 ? (size_t) o->max_payload
		                                      : 1 << 20,
		    .max_batch = o->max_batch > 0 ? (uint32_t) o->max_batch
		                                  : 1000,
		    .max_wait_ms = o->max_wait_ms > 0 ? o->max_wait_ms : 60000,
		},
	};
	struct store *store;
	struct engine *engine;
	struct rpc_server *srv;
	char err[512];
	int sig;

	if (store_open(o->store, &so, &store, err, sizeof(err)) != CAIRN_OK) {
		log_error("cannot open store %s: %s", o->store, err);
		return (1);
	}
	ec.store = store;
	if (engine_start(&engine, &ec) != CAIRN_OK) {
		log_error("cannot start the engine");
		goto fail_store;
	}
	if (rpc_start(&srv, &rc, engine, err, sizeof(err)) != CAIRN_OK) {
		log_error("%s", err);
		goto fail_engine;
	}
	log_info("cairnd %s serving; store %s; durability %s", CAIRN_VERSION,
	    o->store,
	    so.sync == STORE_SYNC_FULL
	        ? "full (fsync before every reply)"
	        : "normal-unsafe (a power loss may lose acknowledged work)");
	for (size_t i = 0; i < o->nlisten; i++) {
		log_info("listening on %s", o->listen[i]);
	}
	sigwait(sigs, &sig);
	log_info("%s: stopping", strsignal(sig));
	rpc_stop(srv);
	engine_free(engine);
	store_close(store);
	log_info("stopped");
	return (0);

fail_engine:
	engine_free(engine);
fail_store:
	store_close(store);
	return (1);
}

int
main(int argc, char **argv)
{
	struct options o;
	sigset_t sigs;
	char err[512];

	if (options_parse(&o, argc, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "cairnd: %s\n", err);
		return (2);
	}
	if (o.help) {
		options_usage(stdout);
		return (0);
	}
	if (o.version) {
		printf("cairnd %s\n", CAIRN_VERSION);
		return (0);
	}
	if (log_setup(o.log_level, o.log_format) != 0) {
		fprintf(stderr,
		    "cairnd: --log-level is debug|info|warn|error and "
		    "--log-format text|json\n");
		return (2);
	}
	/* Block the stop signals in every thread; main waits for them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	return (serve(&o, &sigs));
}
