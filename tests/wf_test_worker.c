/*
 * wf_test_worker.c - a workflow worker of the test flows (wf_flows.h) in a
 * process of its own, so that tests can kill it with SIGKILL.
 *
 * Usage: wf_test_worker URL [--v2] [--step-log FILE] [--step-sleep MS]
 *                           [--timer MS] [--lease-timeout MS]
 *
 * Runs until SIGTERM or SIGINT (then stops after the turns in progress).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wf_flows.h"

static cairn_wf_worker *worker;

static void
on_signal(int sig)
{
	(void) sig;
	cairn_wf_worker_stop(worker);
}

int
main(int argc, char **argv)
{
	struct wf_flows_config cfg = { .version = 1, .timer_ms = 1000 };
	cairn_wf_worker_options o
	    = { .poll_wait_ms = 500, .lease_timeout_ms = 3000 };
	cairn_client *c;
	char err[256];
	int rv;

	if (argc < 2) {
		fprintf(stderr, "usage: wf_test_worker URL [options]\n");
		return (2);
	}
	for (int i = 2; i < argc; i++) {
		const char *next = i + 1 < argc ? argv[i + 1] : "0";
		if (strcmp(argv[i], "--v2") == 0) {
			cfg.version = 2;
		} else if (strcmp(argv[i], "--step-log") == 0) {
			cfg.step_log = next;
			i++;
		} else if (strcmp(argv[i], "--step-sleep") == 0) {
			cfg.step_sleep_ms = atoll(next);
			i++;
		} else if (strcmp(argv[i], "--timer") == 0) {
			cfg.timer_ms = atoll(next);
			i++;
		} else if (strcmp(argv[i], "--lease-timeout") == 0) {
			o.lease_timeout_ms = atoll(next);
			i++;
		} else {
			fprintf(
			    stderr, "wf_test_worker: unknown %s\n", argv[i]);
			return (2);
		}
	}
	if ((rv = cairn_client_open(&c, argv[1], NULL, err, sizeof(err)))
	    != CAIRN_OK) {
		fprintf(stderr, "wf_test_worker: %s\n", err);
		return (1);
	}
	if ((rv = cairn_wf_worker_new(&worker, c, &o)) != CAIRN_OK
	    || (rv = wf_flows_register(worker, &cfg)) != CAIRN_OK) {
		fprintf(
		    stderr, "wf_test_worker: %s\n", cairn_client_errmsg(c));
		return (1);
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	rv = cairn_wf_worker_run(worker);
	if (rv != CAIRN_OK) {
		fprintf(stderr, "wf_test_worker: %s: %s\n", cairn_strerror(rv),
		    cairn_client_errmsg(c));
	}
	cairn_wf_worker_free(worker);
	cairn_client_close(c);
	return (rv == CAIRN_OK ? 0 : 1);
}
