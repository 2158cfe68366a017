/*
 * main.c - cairnd: options, start-up, and an orderly stop on SIGINT or
 * SIGTERM (stop taking requests, finish the batch in flight and answer it,
 * close the store, exit 0).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ops/auth.h"
#include "ops/config.h"
#include "engine/engine.h"
#include "migrate/migrate.h"
#include "ops/http.h"
#include "ops/log.h"
#include "ops/options.h"
#include "rpc/rpc.h"
#include "store/store.h"

#ifndef CAIRN_VERSION
#define CAIRN_VERSION "0.0.0"
#endif

/* on_fatal: the engine found the store unsafe after an I/O error. Stop
 * as on SIGTERM, and exit non-zero so that a supervisor restarts cairnd
 * and the restart recovers from what is really on disk. */
static pthread_t main_thread;

static void
on_fatal(void *arg)
{
	(void) arg;
	/* To the main thread, which waits for it in sigwait. A signal to the
	 * process could land on a thread that does not block it (a
	 * sanitizer's, say) and kill cairnd with SIGTERM's default action. */
	pthread_kill(main_thread, SIGTERM);
}

/* on_due: the store's watch saw tasks become due through another process
 * sharing the database; parked leases of that queue try again. */
static void
on_due(void *arg, const char *queue)
{
	engine_notify_due(arg, queue);
}

static int
serve(const struct options *o, sigset_t *sigs)
{
	struct store_options so = {
		.sync = strcmp(o->durability, "full") == 0
		    ? STORE_SYNC_FULL
		    : STORE_SYNC_NORMAL_UNSAFE,
		.schema = o->pg_schema,
		.external_checkpoints
		= strcmp(o->checkpoints, "external") == 0,
		.read_only = o->read_only,
	};
	/* Every option has its value (options_parse applied the
	 * defaults). */
	struct engine_config ec = {
		.retention_ms = o->retention_ms,
		.max_wait_ms = o->max_wait_ms,
		.disconnect_grace_ms = o->disconnect_grace_ms,
		.max_parked = (uint32_t) o->max_parked,
		.on_fatal = on_fatal,
		.read_only = o->read_only,
	};
	struct rpc_config rc = {
		.listen = o->listen,
		.nlisten = o->nlisten,
		.contexts = (unsigned) o->contexts,
		.version = CAIRN_VERSION,
		.tls = { o->tls_cert, o->tls_key, o->tls_ca },
		.send_timeout_ms = o->send_timeout_ms,
		.limits = {
		    .max_message = (size_t) o->max_message,
		    .max_payload = (size_t) o->max_payload,
		    .max_batch_tasks = (uint32_t) o->max_batch,
		    .max_wait_ms = o->max_wait_ms,
		    .max_log = (uint32_t) o->max_log_entries,
		},
	};
	struct store *store;
	struct engine *engine;
	struct rpc_server *srv;
	struct http_server *http = NULL;
	struct http_config hc = {
		.addr = o->http,
		.version = CAIRN_VERSION,
		.ui = strcmp(o->ui, "off") == 0       ? HTTP_UI_OFF
		    : strcmp(o->ui, "read-only") == 0 ? HTTP_UI_READ_ONLY
		                                      : HTTP_UI_ON,
		.max_payload = (size_t) o->max_payload,
		.store_read_only = o->read_only,
	};
	char bdir[4096], haddr[64];
	struct auth *auth = NULL;
	char err[512];
	int sig, code;

	if (o->token_file != NULL
	    && auth_load(o->token_file, &auth, err, sizeof(err)) != CAIRN_OK) {
		log_error("%s", err);
		return (1);
	}
	rc.auth = auth;
	hc.auth = auth;
	if (store_open(o->store, &so, &store, err, sizeof(err)) != CAIRN_OK) {
		log_error("cannot open store %s: %s", o->store, err);
		auth_free(auth);
		return (1);
	}
	ec.store = store;
	hc.store = store_name(store);
	rc.store_uri = o->store;
	rc.backup_dir = config_backup_dir(o, bdir, sizeof(bdir));
	if (engine_start(&engine, &ec) != CAIRN_OK) {
		log_error("cannot start the engine");
		goto fail_store;
	}
	hc.engine = engine;
	if (o->http != NULL
	    && http_start(&http, &hc, err, sizeof(err)) != CAIRN_OK) {
		log_error("%s", err);
		goto fail_engine;
	}
	if (http != NULL) {
		http_bound_addr(http, haddr, sizeof(haddr));
	}
	if (rpc_start(&srv, &rc, engine, err, sizeof(err)) != CAIRN_OK) {
		log_error("%s", err);
		goto fail_engine;
	}
	/* Wake parked leases on other servers' commits (PostgreSQL). */
	struct store_watch *watch = store_watch(store, on_due, engine);
	config_log_start(o, CAIRN_VERSION, http != NULL ? haddr : NULL);
	if (auth != NULL) {
		log_info(
		    "token authentication on (%zu tokens)", auth_count(auth));
	}
	if (o->read_only) {
		log_info("read-only: serving %s for inspection; writes are "
		         "refused and nothing runs on a timer",
		    o->store);
	}
	sigwait(sigs, &sig);
	if (engine_failed(engine)) {
		/* Fail-stop: give the last answers ("the outcome is
		 * unknown") a moment to leave, and exit without closing the
		 * store, whose close would checkpoint on a handle that had an
		 * I/O error. The restart recovers from what is on disk. */
		struct timespec grace = { 0, 200 * 1000 * 1000 };
		nanosleep(&grace, NULL);
		log_error("stopped after a storage failure; restart cairnd");
		_exit(1);
	}
	log_info("%s: stopping", strsignal(sig));
	http_stop(http);
	rpc_stop(srv);
	store_unwatch(store, watch);
	code = engine_failed(engine) ? 1 : 0; /* failed during the stop */
	engine_free(engine);
	store_close(store);
	auth_free(auth);
	log_info("stopped");
	return (code);

fail_engine:
	http_stop(http);
	engine_free(engine);
fail_store:
	store_close(store);
	auth_free(auth);
	return (1);
}

int
main(int argc, char **argv)
{
	struct options o;
	sigset_t sigs;
	char err[512];

	if (argc > 1 && strcmp(argv[1], "migrate") == 0) {
		return (migrate_main(argc - 1, argv + 1));
	}
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
	if (o.check_config) {
		return (config_check_main(&o));
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
	main_thread = pthread_self();
	signal(SIGPIPE, SIG_IGN);
	return (serve(&o, &sigs));
}
