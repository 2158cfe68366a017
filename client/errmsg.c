/*
 * errmsg.c - the text of each thread's last failed call, per handle.
 *
 * cairn.h promises that cairn_client_errmsg(c) gives the calling thread's
 * last failure on c, so that threads sharing one handle never see each
 * other's messages. Each thread keeps a small table keyed by the handle's
 * id, which is never reused, so a message left behind by a closed handle
 * can never be mistaken for one of a new handle at the same address. The
 * table lives on the heap behind a pthread key whose destructor frees it
 * when the thread exits; __thread holds only a pointer, which keeps the
 * library's static TLS tiny (it may be dlopen()ed by a binding).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Handles one thread uses at once, in practice one or two. When a thread
 * uses more, the oldest entry is reused. */
#define ERR_SLOTS 8

struct err_slot {
	uint64_t id; /* 0: free */
	char *msg;
};

struct err_table {
	struct err_slot slot[ERR_SLOTS];
	unsigned next; /* round-robin victim */
};

static pthread_key_t err_key;
static pthread_once_t err_once = PTHREAD_ONCE_INIT;
static int err_key_rv;

static void
err_table_free(void *arg)
{
	struct err_table *t = arg;

	for (int i = 0; i < ERR_SLOTS; i++) {
		free(t->slot[i].msg);
	}
	free(t);
}

static void
err_key_init(void)
{
	err_key_rv = pthread_key_create(&err_key, err_table_free);
}

/* err_table returns the calling thread's table, creating it when create
 * is set; NULL when there is none or memory ran out. */
static struct err_table *
err_table(bool create)
{
	struct err_table *t;

	if (pthread_once(&err_once, err_key_init) != 0 || err_key_rv != 0) {
		return (NULL);
	}
	t = pthread_getspecific(err_key);
	if (t != NULL || !create) {
		return (t);
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		return (NULL);
	}
	if (pthread_setspecific(err_key, t) != 0) {
		free(t);
		return (NULL);
	}
	return (t);
}

static struct err_slot *
err_find(struct err_table *t, uint64_t id)
{
	for (int i = 0; i < ERR_SLOTS; i++) {
		if (t->slot[i].id == id) {
			return (&t->slot[i]);
		}
	}
	return (NULL);
}

void
cairn__errmsg_set(uint64_t id, const char *text)
{
	struct err_table *t;
	struct err_slot *s;
	char *copy;

	/* Out of memory here loses only the message, never the status. */
	if ((t = err_table(true)) == NULL
	    || (copy = strdup(text != NULL ? text : "")) == NULL) {
		return;
	}
	if ((s = err_find(t, id)) == NULL && (s = err_find(t, 0)) == NULL) {
		s = &t->slot[t->next];
		t->next = (t->next + 1) % ERR_SLOTS;
	}
	free(s->msg);
	s->id = id;
	s->msg = copy;
}

const char *
cairn__errmsg_get(uint64_t id)
{
	struct err_table *t;
	struct err_slot *s;

	if ((t = err_table(false)) == NULL || (s = err_find(t, id)) == NULL) {
		return ("");
	}
	return (s->msg);
}

void
cairn__errmsg_drop(uint64_t id)
{
	struct err_table *t;
	struct err_slot *s;

	if ((t = err_table(false)) == NULL || (s = err_find(t, id)) == NULL) {
		return;
	}
	free(s->msg);
	s->msg = NULL;
	s->id = 0;
}

int
cairn__fail(cairn_client *c, int status, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cairn__errmsg_set(c->id, buf);
	return (status);
}

const char *
cairn_client_errmsg(const cairn_client *c)
{
	if (c == NULL) {
		return ("");
	}
	return (cairn__errmsg_get(c->id));
}
