/*
 * cmd_shellwork.c - `cairn work QUEUE -- COMMAND [ARGS...]`: the worker
 * helper of libcairn (cairn_worker_run) with a handler that runs COMMAND
 * once per task.
 *
 * The command gets the payload on stdin and CAIRN_TASK_ID, CAIRN_ATTEMPT
 * and CAIRN_QUEUE in its environment; its stdout is the result of exit 0,
 * and any other end fails the attempt with the status and the tail of its
 * stderr. It runs in a process group of its own, so that a stop kills
 * what it started too, and so that a Ctrl-C meant for `cairn work` does
 * not reach it: the first SIGINT or SIGTERM lets running commands finish,
 * the second kills them and gives their tasks back.
 *
 * fork in a threaded program: the child may only make async-signal-safe
 * calls until it execs (nng's threads do not exist there, and their locks
 * may be held), so everything it needs (the path, argv, the environment)
 * is built before the fork, and the child only moves file descriptors,
 * resets signals and calls execve.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "shellwork.h"

extern char **environ;

#define TAIL_MAX 2048 /* bytes of stderr kept for the error */

/* run is one command's run: its pipes, what it wrote, how it ended. */
struct run {
	pid_t pid;
	int in, out, err; /* our ends; -1 once closed */
	const uint8_t *payload;
	size_t payload_len, written;
	uint8_t *output;
	size_t output_len, output_cap;
	bool output_over;
	char tail[TAIL_MAX * 2];
	size_t tail_len;
	int status; /* from waitpid */
	bool exited;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* make_env returns environ with the task's variables set, for execve. */
static char **
make_env(const cairn_task *t, char *vars[3])
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n] != NULL) {
		n++;
	}
	if ((env = calloc(n + 4, sizeof(*env))) == NULL
	    || asprintf(&vars[0], "CAIRN_TASK_ID=%" PRIu64, t->id) < 0
	    || asprintf(&vars[1], "CAIRN_ATTEMPT=%" PRIu32, t->attempt) < 0
	    || asprintf(&vars[2], "CAIRN_QUEUE=%s", t->queue) < 0) {
		free(env);
		return (NULL);
	}
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], "CAIRN_TASK_ID=", 14) != 0
		    && strncmp(environ[i], "CAIRN_ATTEMPT=", 14) != 0
		    && strncmp(environ[i], "CAIRN_QUEUE=", 12) != 0) {
			env[k++] = environ[i];
		}
	}
	env[k++] = vars[0];
	env[k++] = vars[1];
	env[k++] = vars[2];
	env[k] = NULL;
	return (env);
}

/* child runs in the forked process: async-signal-safe calls only. */
static void __attribute__((noreturn))
child(const struct shell *sh, char **env, int in, int out, int err)
{
	static const char msg[] = "cairn work: cannot execute the command\n";
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	setpgid(0, 0);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
		_exit(126);
	}
	/* Nothing else of ours leaks into the command: nng's sockets, the
	 * other commands' pipes. */
	syscall(SYS_close_range, 3U, ~0U, 0U);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	sigaction(SIGPIPE, &dfl, NULL);
	sigaction(SIGINT, &dfl, NULL);
	sigaction(SIGTERM, &dfl, NULL);
	execve(sh->path, sh->argv, env);
	(void) !write(2, msg, sizeof(msg) - 1);
	_exit(127);
}

static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* start forks the command with three pipes. */
static bool
start(const struct shell *sh, char **env, struct run *r)
{
	int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };

	for (int i = 0; i < 3; i++) {
		if (pipe2(p[i], O_CLOEXEC) != 0) {
			goto fail;
		}
	}
	if ((r->pid = fork()) < 0) {
		goto fail;
	}
	if (r->pid == 0) {
		child(sh, env, p[0][0], p[1][1], p[2][1]);
	}
	/* Also here, so that a kill of the group cannot come before the
	 * child made it. */
	setpgid(r->pid, r->pid);
	close(p[0][0]);
	close(p[1][1]);
	close(p[2][1]);
	r->in = p[0][1];
	r->out = p[1][0];
	r->err = p[2][0];
	fcntl(r->in, F_SETFL, O_NONBLOCK);
	if (r->payload_len == 0) {
		close_fd(&r->in);
	}
	return (true);
fail:
	for (int i = 0; i < 3; i++) {
		close_fd(&p[i][0]);
		close_fd(&p[i][1]);
	}
	return (false);
}

static void
keep_output(struct run *r, const uint8_t *b, size_t n, size_t max)
{
	if (r->output_len + n > max) {
		r->output_over = true;
		return;
	}
	if (r->output_len + n > r->output_cap) {
		size_t cap = (r->output_len + n) * 2;
		uint8_t *p = realloc(r->output, cap);
		if (p == NULL) {
			r->output_over = true;
			return;
		}
		r->output = p;
		r->output_cap = cap;
	}
	memcpy(r->output + r->output_len, b, n);
	r->output_len += n;
}

static void
keep_tail(struct run *r, const char *b, size_t n)
{
	if (n > TAIL_MAX) {
		b += n - TAIL_MAX;
		n = TAIL_MAX;
	}
	if (r->tail_len + n > sizeof(r->tail)) {
		size_t drop = r->tail_len + n - TAIL_MAX;
		memmove(r->tail, r->tail + drop, r->tail_len - drop);
		r->tail_len -= drop;
	}
	memcpy(r->tail + r->tail_len, b, n);
	r->tail_len += n;
}

/* pump moves bytes between us and the command for up to ms. */
static void
pump(struct run *r, size_t max_output, int ms)
{
	struct pollfd fds[3] = { { r->in, POLLOUT, 0 }, { r->out, POLLIN, 0 },
		{ r->err, POLLIN, 0 } };
	uint8_t buf[16384];
	ssize_t n;

	if (poll(fds, 3, ms) <= 0) {
		return;
	}
	if (r->in >= 0 && (fds[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
		n = write(r->in, r->payload + r->written,
		    r->payload_len - r->written);
		if (n > 0) {
			r->written += (size_t) n;
		}
		if ((n < 0 && errno != EAGAIN)
		    || r->written == r->payload_len) {
			close_fd(&r->in); /* done, or the command stopped
			                     reading: EOF either way */
		}
	}
	if (r->out >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
		if ((n = read(r->out, buf, sizeof(buf))) > 0) {
			keep_output(r, buf, (size_t) n, max_output);
		} else if (n == 0 || errno != EINTR) {
			close_fd(&r->out);
		}
	}
	if (r->err >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
		if ((n = read(r->err, buf, sizeof(buf))) > 0) {
			keep_tail(r, (const char *) buf, (size_t) n);
		} else if (n == 0 || errno != EINTR) {
			close_fd(&r->err);
		}
	}
}

/* supervise runs the command to its end, killing it when the job must
 * stop: SIGTERM to its group, then SIGKILL after kill_after_ms. */
static void
supervise(const struct shell *sh, cairn_job *job, struct run *r)
{
	int64_t kill_at = 0;
	bool killed = false;

	while (!r->exited || r->out >= 0 || r->err >= 0) {
		pump(r, sh->max_output, 50);
		if (!r->exited
		    && waitpid(r->pid, &r->status, WNOHANG) == r->pid) {
			r->exited = true;
			close_fd(&r->in);
			/* What the command left in the pipes is read next;
			 * a background child that keeps them open is not
			 * waited for beyond a second. */
			kill_at = mono_ms() + 1000;
		}
		if (r->exited) {
			if (mono_ms() > kill_at) {
				break;
			}
			continue;
		}
		if (kill_at == 0
		    && cairn_job_stop_reason(job) != CAIRN_JOB_RUN) {
			kill(-r->pid, SIGTERM);
			kill_at = mono_ms() + sh->kill_after_ms;
		} else if (kill_at != 0 && !killed && mono_ms() > kill_at) {
			kill(-r->pid, SIGKILL);
			killed = true;
		}
	}
	close_fd(&r->in);
	close_fd(&r->out);
	close_fd(&r->err);
}

/* describe writes how the command ended and its stderr's tail. */
static void
describe(const struct run *r, char *buf, size_t len)
{
	int n;

	if (WIFEXITED(r->status)) {
		n = snprintf(
		    buf, len, "exit status %d", WEXITSTATUS(r->status));
	} else {
		n = snprintf(buf, len, "killed by signal %d (%s)",
		    WTERMSIG(r->status), strsignal(WTERMSIG(r->status)));
	}
	if (r->tail_len > 0 && n > 0 && (size_t) n < len) {
		snprintf(buf + n, len - (size_t) n, ": %.*s",
		    (int) r->tail_len, r->tail);
	}
}

void
shellwork_handler(cairn_job *job, const cairn_task *t, void *arg)
{
	const struct shell *sh = arg;
	struct run r = { .in = -1,
		.out = -1,
		.err = -1,
		.payload = t->payload,
		.payload_len = t->payload_len };
	char *vars[3] = { NULL, NULL, NULL }, **env = make_env(t, vars);
	char why[TAIL_MAX + 128];
	int64_t t0 = mono_ms();
	cairn_stop_reason stop;

	if (env == NULL || !start(sh, env, &r)) {
		fprintf(stderr,
		    "cairn work: task %" PRIu64 ": cannot start "
		    "the command: %s\n",
		    t->id, strerror(errno));
		(void) cairn_job_fail(job,
		    "cairn work: cannot start the "
		    "command",
		    true);
		goto out;
	}
	supervise(sh, job, &r);
	stop = cairn_job_stop_reason(job);
	describe(&r, why, sizeof(why));
	if (stop != CAIRN_JOB_RUN) {
		/* The library fails or lets go of the task as the reason
		 * says; the command's end is only reported. */
		fprintf(stderr,
		    "cairn work: task %" PRIu64 ": stopped (%s); "
		    "command %s\n",
		    t->id,
		    stop == CAIRN_JOB_CANCELED         ? "canceled"
		        : stop == CAIRN_JOB_LEASE_LOST ? "lease lost"
		                                       : "worker stopping",
		    why);
	} else if (WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0
	    && !r.output_over) {
		int rv = cairn_job_complete(job, r.output, r.output_len);
		fprintf(stderr,
		    "cairn work: task %" PRIu64 " attempt %" PRIu32
		    ": succeeded in %lld ms%s%s\n",
		    t->id, t->attempt, (long long) (mono_ms() - t0),
		    rv == CAIRN_OK ? "" : "; ",
		    rv == CAIRN_OK ? "" : cairn_strerror(rv));
	} else if (r.output_over) {
		snprintf(why, sizeof(why), "output larger than %zu bytes",
		    sh->max_output);
		(void) cairn_job_fail(job, why, false);
		fprintf(
		    stderr, "cairn work: task %" PRIu64 ": %s\n", t->id, why);
	} else {
		(void) cairn_job_fail(job, why, true);
		fprintf(stderr,
		    "cairn work: task %" PRIu64 " attempt %" PRIu32
		    ": failed: %s\n",
		    t->id, t->attempt, why);
	}
out:
	free(r.output);
	free(env);
	for (int i = 0; i < 3; i++) {
		free(vars[i]);
	}
}

char *
shellwork_resolve(const char *cmd)
{
	const char *path = getenv("PATH");
	char *buf;

	if (strchr(cmd, '/') != NULL) {
		return (access(cmd, X_OK) == 0 ? strdup(cmd) : NULL);
	}
	path = path != NULL ? path : "/usr/local/bin:/usr/bin:/bin";
	while (*path != 0) {
		size_t n = strcspn(path, ":");
		if (asprintf(&buf, "%.*s/%s", (int) n, n > 0 ? path : ".", cmd)
		    < 0) {
			return (NULL);
		}
		if (access(buf, X_OK) == 0) {
			return (buf);
		}
		free(buf);
		path += n + (path[n] == ':' ? 1 : 0);
	}
	return (NULL);
}
