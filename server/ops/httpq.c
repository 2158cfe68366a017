/*
 * ops/httpq.c - the request queue of an HTTP thread, and replies (httpq.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "ops/httpq.h"

struct job {
	nng_aio *aio; /* nng's, finished by us */
	int kind;
	struct job *next;
};

struct http_queue {
	http_serve_fn serve;
	void *arg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail; /* under mu */
	atomic_bool stopping;
};

void
http_reply(nng_aio *aio, uint16_t status, const char *type, const void *body,
    size_t len, const char *const *headers)
{
	nng_http_res *res;
	int rv;

	if ((rv = nng_http_res_alloc(&res)) != 0) {
		nng_aio_finish(aio, rv);
		return;
	}
	if ((rv = nng_http_res_set_status(res, status)) != 0
	    || (rv = nng_http_res_set_header(res, "Content-Type", type)) != 0
	    || (rv = nng_http_res_copy_data(res, body, len)) != 0) {
		goto fail;
	}
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i += 2) {
		if ((rv = nng_http_res_set_header(
		         res, headers[i], headers[i + 1]))
		    != 0) {
			goto fail;
		}
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
	return;
fail:
	nng_http_res_free(res);
	nng_aio_finish(aio, rv);
}

void
http_reply_text(nng_aio *aio, uint16_t status, const char *text)
{
	http_reply(aio, status, "text/plain; charset=utf-8", text,
	    strlen(text), NULL);
}

static void *
queue_main(void *arg)
{
	struct http_queue *q = arg;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->head == NULL && !atomic_load(&q->stopping)) {
			pthread_cond_wait(&q->cv, &q->mu);
		}
		struct job *j = q->head;
		if (j == NULL) {
			break; /* stopping, nothing left */
		}
		q->head = j->next;
		if (q->head == NULL) {
			q->tail = NULL;
		}
		pthread_mutex_unlock(&q->mu);
		if (atomic_load(&q->stopping)) {
			http_reply_text(j->aio,
			    NNG_HTTP_STATUS_SERVICE_UNAVAILABLE, "stopping\n");
		} else {
			q->serve(q->arg, j->aio, j->kind);
		}
		free(j);
		pthread_mutex_lock(&q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	return (NULL);
}

int
http_queue_start(struct http_queue **out, http_serve_fn serve, void *arg)
{
	struct http_queue *q = calloc(1, sizeof(*q));

	if (q == NULL) {
		return (-1);
	}
	q->serve = serve;
	q->arg = arg;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	if (pthread_create(&q->thread, NULL, queue_main, q) != 0) {
		pthread_cond_destroy(&q->cv);
		pthread_mutex_destroy(&q->mu);
		free(q);
		return (-1);
	}
	*out = q;
	return (0);
}

void
http_queue_put(struct http_queue *q, nng_aio *aio, int kind)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	j->aio = aio;
	j->kind = kind;
	pthread_mutex_lock(&q->mu);
	if (atomic_load(&q->stopping)) {
		pthread_mutex_unlock(&q->mu);
		free(j);
		http_reply_text(
		    aio, NNG_HTTP_STATUS_SERVICE_UNAVAILABLE, "stopping\n");
		return;
	}
	if (q->tail != NULL) {
		q->tail->next = j;
	} else {
		q->head = j;
	}
	q->tail = j;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void
http_queue_stop(struct http_queue *q)
{
	if (q == NULL) {
		return;
	}
	pthread_mutex_lock(&q->mu);
	atomic_store(&q->stopping, true);
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
}

void
http_queue_free(struct http_queue *q)
{
	if (q == NULL) {
		return;
	}
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}
