/*
 * conn.c - the client handle: one nng REQ socket, its dialer, and a pool
 * of REQ contexts so that threads sharing the handle each have a request
 * of their own in flight.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* Redial backoff after a lost connection: fast enough that a restarted
 * server is found within a few seconds, slow enough not to spin. */
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 2000

/* Handle ids start at 1; 0 marks a free errmsg slot. */
static atomic_uint_fast64_t next_handle_id = 1;

int
cairn__status_from_nng(int rv)
{
	switch (rv) {
	case 0:
		return (CAIRN_OK);
	case NNG_ETIMEDOUT:
		return (CAIRN_DEADLINE_EXCEEDED);
	case NNG_ECONNREFUSED:
	case NNG_ECLOSED:
	case NNG_ECONNRESET:
	case NNG_ECONNSHUT:
	case NNG_ECONNABORTED:
	case NNG_EUNREACHABLE:
	case NNG_EPEERAUTH:
	case NNG_ECRYPTO:
	case NNG_EPROTO:
	case NNG_ETRANERR:
	case NNG_ESYSERR:
		return (CAIRN_UNAVAILABLE);
	case NNG_ENOMEM:
	case NNG_EMSGSIZE:
		return (CAIRN_RESOURCE_EXHAUSTED);
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
		return (CAIRN_INVALID_ARGUMENT);
	case NNG_ECANCELED:
		return (CAIRN_CANCELLED);
	default:
		return (CAIRN_INTERNAL);
	}
}

/*
 * A synchronous nng_dialer_start has no time limit of its own: against an
 * address that drops packets it waits for the kernel's connect timeout
 * (minutes), and against a peer that accepts TCP but never speaks SP it
 * waits for the handshake. So the dial runs on a short-lived thread and
 * the opener waits for it no longer than the handle's timeout; closing the
 * dialer then aborts the dial and lets the thread finish.
 */
struct dial_wait {
	nng_dialer dialer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int rv;
};

static void *
dial_thread(void *arg)
{
	struct dial_wait *w = arg;
	int rv = nng_dialer_start(w->dialer, 0);

	pthread_mutex_lock(&w->mu);
	w->rv = rv;
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return (NULL);
}

static void
deadline_after(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t) (ms / 1000);
	ts->tv_nsec += (long) (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* dial_bounded starts the dialer and waits for its first connection for at
 * most timeout_ms: 0, an nng error, or NNG_ETIMEDOUT (and then the dialer
 * is closed). */
static int
dial_bounded(nng_dialer d, int64_t timeout_ms)
{
	struct dial_wait w = { .dialer = d };
	pthread_condattr_t attr;
	pthread_t thr;
	struct timespec until;
	bool timed_out = false;
	int rv;

	/* Should any of this fail, dial without a time limit. */
	if (pthread_condattr_init(&attr) != 0) {
		return (nng_dialer_start(d, 0));
	}
	if ((rv = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)) == 0) {
		rv = pthread_cond_init(&w.cv, &attr);
	}
	pthread_condattr_destroy(&attr);
	if (rv != 0) {
		return (nng_dialer_start(d, 0));
	}
	pthread_mutex_init(&w.mu, NULL);
	if (pthread_create(&thr, NULL, dial_thread, &w) != 0) {
		rv = nng_dialer_start(d, 0);
		goto out;
	}

	deadline_after(&until, timeout_ms);
	pthread_mutex_lock(&w.mu);
	while (!w.done) {
		if (pthread_cond_timedwait(&w.cv, &w.mu, &until)
		    == ETIMEDOUT) {
			timed_out = !w.done;
			break;
		}
	}
	pthread_mutex_unlock(&w.mu);
	if (timed_out) {
		nng_dialer_close(d);
	}
	pthread_join(thr, NULL);
	rv = timed_out ? NNG_ETIMEDOUT : w.rv;
out:
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	return (rv);
}

static int open_fail(int status, char *errbuf, size_t errlen, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static int
open_fail(int status, char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return (status);
}

/* client_free releases what cairn_client_open set up; each step copes with
 * the earlier ones never having happened. */
static void
client_free(cairn_client *c, bool sock_open)
{
	for (size_t i = 0; i < c->npool; i++) {
		nng_aio_free(c->pool[i].aio);
		nng_ctx_close(c->pool[i].ctx);
	}
	if (sock_open) {
		nng_close(c->sock); /* closes the dialer too */
	}
	pthread_mutex_destroy(&c->pool_mu);
	cairn__errmsg_drop(c->id);
	free(c->token);
	free(c->url);
	free(c);
}

/* dialer_setup creates the dialer and sets its options. */
static int
dialer_setup(cairn_client *c, const char *url, char *errbuf, size_t errlen)
{
	int rv;

	if ((rv = nng_dialer_create(&c->dialer, c->sock, url)) != 0) {
		return (open_fail(cairn__status_from_nng(rv), errbuf, errlen,
		    "invalid server url '%s': %s", url, nng_strerror(rv)));
	}
	/* nng refuses incoming messages over 1 MiB by default, which a task
	 * with a large payload or a page of tasks exceeds. The server's
	 * limits decide the size of its replies, so take what it sends. */
	if ((rv = nng_dialer_set_ms(
	         c->dialer, NNG_OPT_RECONNMINT, RECONNECT_MIN_MS))
	        != 0
	    || (rv = nng_dialer_set_ms(
	            c->dialer, NNG_OPT_RECONNMAXT, RECONNECT_MAX_MS))
	        != 0
	    || (rv = nng_dialer_set_size(c->dialer, NNG_OPT_RECVMAXSZ, 0))
	        != 0) {
		return (open_fail(cairn__status_from_nng(rv), errbuf, errlen,
		    "cannot set up dialer for %s: %s", url, nng_strerror(rv)));
	}
	return (CAIRN_OK);
}

int
cairn_client_open(cairn_client **out, const char *url,
    const cairn_client_options *opts, char *errbuf, size_t errlen)
{
	static const cairn_client_options defaults = { 0 };
	cairn_client *c;
	int64_t timeout;
	int rv;

	if (opts == NULL) {
		opts = &defaults;
	}
	if (out == NULL || url == NULL) {
		return (open_fail(CAIRN_INVALID_ARGUMENT, errbuf, errlen,
		    "cairn_client_open: %s is NULL",
		    out == NULL ? "out" : "url"));
	}
	if (opts->timeout_ms < 0) {
		return (open_fail(CAIRN_INVALID_ARGUMENT, errbuf, errlen,
		    "timeout_ms is negative (%lld)",
		    (long long) opts->timeout_ms));
	}
	timeout = opts->timeout_ms > 0 ? opts->timeout_ms
	                               : CAIRN__DEFAULT_TIMEOUT_MS;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		return (open_fail(CAIRN_RESOURCE_EXHAUSTED, errbuf, errlen,
		    "out of memory"));
	}
	pthread_mutex_init(&c->pool_mu, NULL);
	c->id = atomic_fetch_add(&next_handle_id, 1);
	atomic_init(&c->timeout_ms, timeout);
	if ((c->url = strdup(url)) == NULL
	    || (opts->token != NULL && opts->token[0] != '\0'
	        && (c->token = strdup(opts->token)) == NULL)) {
		client_free(c, false);
		return (open_fail(CAIRN_RESOURCE_EXHAUSTED, errbuf, errlen,
		    "out of memory"));
	}
	if ((rv = nng_req0_open(&c->sock)) != 0) {
		client_free(c, false);
		return (open_fail(cairn__status_from_nng(rv), errbuf, errlen,
		    "cannot open socket: %s", nng_strerror(rv)));
	}
	if ((rv = dialer_setup(c, url, errbuf, errlen)) != CAIRN_OK
	    || (rv = cairn__tls_setup(c->dialer, url, opts, errbuf, errlen))
	        != CAIRN_OK) {
		client_free(c, true);
		return (rv);
	}

	if (opts->lazy_connect) {
		/* Non-blocking: nng keeps retrying in the background. */
		rv = nng_dialer_start(c->dialer, NNG_FLAG_NONBLOCK);
	} else {
		rv = dial_bounded(c->dialer, timeout);
	}
	if (rv == NNG_ETIMEDOUT) {
		client_free(c, true);
		return (open_fail(CAIRN_UNAVAILABLE, errbuf, errlen,
		    "cannot connect to %s: no connection within %lld ms", url,
		    (long long) timeout));
	}
	if (rv != 0) {
		int status = cairn__status_from_nng(rv);
		client_free(c, true);
		/* Whatever stopped the first dial, the server is out of
		 * reach; a bad address was caught by nng_dialer_create. */
		if (status != CAIRN_RESOURCE_EXHAUSTED) {
			status = CAIRN_UNAVAILABLE;
		}
		return (open_fail(status, errbuf, errlen,
		    "cannot connect to %s: %s", url, nng_strerror(rv)));
	}
	*out = c;
	return (CAIRN_OK);
}

void
cairn_client_close(cairn_client *c)
{
	if (c != NULL) {
		client_free(c, true);
	}
}

void
cairn_client_set_timeout(cairn_client *c, int64_t timeout_ms)
{
	if (c == NULL) {
		return;
	}
	atomic_store(&c->timeout_ms,
	    timeout_ms > 0 ? timeout_ms : CAIRN__DEFAULT_TIMEOUT_MS);
}

int
cairn__slot_get(cairn_client *c, struct cairn__slot *out)
{
	struct cairn__slot s;
	int rv;

	pthread_mutex_lock(&c->pool_mu);
	if (c->npool > 0) {
		*out = c->pool[--c->npool];
		pthread_mutex_unlock(&c->pool_mu);
		return (CAIRN_OK);
	}
	pthread_mutex_unlock(&c->pool_mu);

	if ((rv = nng_ctx_open(&s.ctx, c->sock)) != 0) {
		return (cairn__fail(c, cairn__status_from_nng(rv),
		    "cannot open a request context: %s", nng_strerror(rv)));
	}
	if ((rv = nng_aio_alloc(&s.aio, NULL, NULL)) != 0) {
		nng_ctx_close(s.ctx);
		return (cairn__fail(c, cairn__status_from_nng(rv),
		    "cannot allocate an aio: %s", nng_strerror(rv)));
	}
	*out = s;
	return (CAIRN_OK);
}

void
cairn__slot_put(cairn_client *c, struct cairn__slot *slot)
{
	pthread_mutex_lock(&c->pool_mu);
	if (c->npool < CAIRN__POOL_MAX) {
		c->pool[c->npool++] = *slot;
		pthread_mutex_unlock(&c->pool_mu);
		return;
	}
	pthread_mutex_unlock(&c->pool_mu);
	nng_aio_free(slot->aio);
	nng_ctx_close(slot->ctx);
}
