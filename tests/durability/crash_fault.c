/*
 * crash_fault.c - the faults of the crash harnesses (crash_fault.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash_fault.h"
#include "faultfs.h"

void
crash_write_ctl(struct dsrv *s, bool early_ack, int cut_random, unsigned seed)
{
	FILE *f = fopen(s->ctl, "w");

	if (f != NULL) {
		fprintf(f, "early_ack %d\ncut_random %d\nseed %u\n", early_ack,
		    cut_random, seed);
		fclose(f);
	}
}

int64_t
crash_fault(struct dsrv *s, bool cut, bool early_ack, unsigned seed, int round)
{
	int64_t t;
	int code;

	if (!cut) {
		t = wall_ms();
		dsrv_kill(s, SIGKILL);
		return (t);
	}
	crash_write_ctl(s, early_ack, round % 2, seed);
	kill(s->pid, SIGUSR1);
	sleep_ms(20);
	t = wall_ms();
	kill(s->pid, SIGUSR2);
	if ((code = dsrv_wait_exit(s, 10000)) != FAULTFS_EXIT_CUT) {
		fprintf(stderr, "crash_fault: cut ended with %d\n", code);
		return (-1);
	}
	return (t);
}

bool
crash_integrity_ok(const struct dsrv *s)
{
	if (strncmp(s->store, "postgres", 8) == 0) {
		return (true);
	}
	char *v = dsrv_sql(s, "PRAGMA integrity_check");
	bool ok = v != NULL && strcmp(v, "ok") == 0;

	if (!ok) {
		fprintf(stderr, "crash_fault: integrity_check: %s\n",
		    v != NULL ? v : "(cannot open)");
	}
	free(v);
	return (ok);
}
