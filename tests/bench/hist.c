/*
 * hist.c - a latency histogram with logarithmic buckets, after
 * HdrHistogram: constant memory and constant-time recording at any scale,
 * with a bounded relative error, which is what percentiles of latencies
 * spanning microseconds to seconds need.
 */
#include <string.h>
#include <time.h>

#include "bench.h"

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec);
}

/* bucket_of maps a value to its bucket: exact below HIST_SUB, then
 * HIST_SUB buckets per power of two. */
static size_t
bucket_of(uint64_t v)
{
	if (v < HIST_SUB) {
		return ((size_t) v);
	}
	int e = 63 - __builtin_clzll(v); /* v >= 2^e */
	if (e >= HIST_MAX_EXP) {
		return (HIST_BUCKETS - 1);
	}
	int shift = e - HIST_SUB_BITS;
	uint64_t top = v >> shift; /* in [HIST_SUB, 2 * HIST_SUB) */
	return (
	    HIST_SUB + (size_t) shift * HIST_SUB + (size_t) (top - HIST_SUB));
}

/* bucket_mid returns the middle of bucket i's range. */
static uint64_t
bucket_mid(size_t i)
{
	if (i < HIST_SUB) {
		return (i);
	}
	size_t shift = (i - HIST_SUB) / HIST_SUB;
	uint64_t top = HIST_SUB + (i - HIST_SUB) % HIST_SUB;
	uint64_t lo = top << shift;

	return (lo + ((1ull << shift) >> 1));
}

void
hist_record(struct hist *h, uint64_t ns)
{
	h->bucket[bucket_of(ns)]++;
	h->count++;
	h->sum_ns += ns;
	if (ns > h->max_ns) {
		h->max_ns = ns;
	}
}

void
hist_merge(struct hist *into, const struct hist *from)
{
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		into->bucket[i] += from->bucket[i];
	}
	into->count += from->count;
	into->sum_ns += from->sum_ns;
	if (from->max_ns > into->max_ns) {
		into->max_ns = from->max_ns;
	}
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->count == 0) {
		return (0);
	}
	/* The smallest value with at least q of the values at or below. */
	rank = (uint64_t) (q * (double) h->count + 0.999999);
	rank = rank == 0 ? 1 : rank > h->count ? h->count : rank;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t v = bucket_mid(i);
			return (v > h->max_ns ? h->max_ns : v);
		}
	}
	return (h->max_ns);
}
