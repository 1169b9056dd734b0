// SPDX-License-Identifier: MIT
/*
 * The per-input execution core shared by every fuzzing engine (see
 * include/apiary/fuzz.h and fuzz/README.md). An engine hands over bytes and
 * a coverage map; the harness decodes them, zeroes the in-kernel counters,
 * lets the executor run the input, and writes back the counters followed by
 * an outcome signature. Nothing here allocates after setup: an engine runs
 * this tens of thousands of times a second.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apiary/fuzz.h"

struct region {
	volatile uint8_t *p;
	uint32_t n;
};

struct apiary_harness {
	struct apiary_executor ex;
	struct region *regions;
	size_t nregions;
	size_t ncounters;
	bool sig_on;
	size_t sig_size;
	uint8_t *sig;
	uint64_t prev_verdict; /* feature of the previous event, for sequences */
	uint32_t violations;
	int first_violation;
	struct apiary_input in; /* decoded in place: ~24 KiB, so not on the stack */
};

/* A 64-bit finalizer (murmur3's): features are small tuples packed into
 * integers, and their hashes must spread over the signature region. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Pack a feature: kind in the top byte, then up to three small fields. */
static uint64_t feat(uint8_t kind, uint64_t a, uint64_t b, uint64_t c)
{
	return (uint64_t)kind << 56 ^ mix(a) ^ mix(b + 0x9e3779b97f4a7c15ULL) ^ mix(c + 0x632be59bd9b4e019ULL);
}

int apiary_harness_new(const struct apiary_executor *ex, const struct apiary_harness_opts *opts,
		       struct apiary_harness **out)
{
	struct apiary_harness *h;
	enum apiary_sig_mode mode = opts ? opts->sig : APIARY_SIG_AUTO;

	*out = NULL;
	if (!ex || !ex->run)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->ex = *ex;
	h->sig_size = opts && opts->sig_size ? opts->sig_size : APIARY_SIG_DEFAULT_SIZE;
	h->sig_on = mode == APIARY_SIG_ON || (mode == APIARY_SIG_AUTO && ex->has_uncovered);
	h->sig = calloc(1, h->sig_size);
	if (!h->sig) {
		free(h);
		return -ENOMEM;
	}
	*out = h;
	return 0;
}

void apiary_harness_free(struct apiary_harness *h)
{
	if (!h)
		return;
	free(h->regions);
	free(h->sig);
	free(h);
}

long apiary_harness_add_counters(struct apiary_harness *h, volatile uint8_t *counters, uint32_t n)
{
	struct region *nr = realloc(h->regions, (h->nregions + 1) * sizeof(*nr));
	long off = (long)h->ncounters;

	if (!nr)
		return -ENOMEM;
	h->regions = nr;
	h->regions[h->nregions++] = (struct region){ counters, n };
	h->ncounters += n;
	return off;
}

size_t apiary_harness_ncounters(const struct apiary_harness *h)
{
	return h->ncounters;
}

size_t apiary_harness_map_size(const struct apiary_harness *h)
{
	return h->ncounters + (h->sig_on ? h->sig_size : 0);
}

const struct apiary_input *apiary_harness_input(const struct apiary_harness *h)
{
	return &h->in;
}

void apiary_harness_note_feature(struct apiary_harness *h, uint64_t feature)
{
	uint8_t *b;

	if (!h->sig_on)
		return;
	b = &h->sig[mix(feature) % h->sig_size];
	if (*b != 0xff)
		(*b)++;
}

/*
 * What an engine should tell apart when no counters see inside a program:
 * the verdict (and the one before it, for sequences), who ran in which
 * position with which verdict, how the frame length changed, which bytes
 * were rewritten, and what the classifier made of the packet.
 */
void apiary_harness_note_outcome(struct apiary_harness *h, size_t idx,
				 const struct apiary_event *ev, const struct apiary_outcome *o)
{
	uint64_t v = feat(1, o->hook, (uint32_t)o->verdict, 0);
	uint32_t n = o->len < ev->len ? o->len : ev->len, nrew = 0;

	if (!h->sig_on)
		return;
	apiary_harness_note_feature(h, v);
	apiary_harness_note_feature(h, feat(2, v, idx ? h->prev_verdict : 0, 0));
	h->prev_verdict = v;
	apiary_harness_note_feature(h, feat(3, o->hook, o->ntrace, 0));
	for (uint32_t i = 0; i < o->ntrace && i < APIARY_MAX_TRACE; i++)
		apiary_harness_note_feature(h, feat(4, (uint64_t)o->hook << 8 | i,
						    o->trace[i].enforcer, (uint32_t)o->trace[i].verdict));
	apiary_harness_note_feature(h, feat(5, o->hook, o->len > ev->len ? 2 : o->len < ev->len, 0));
	apiary_harness_note_feature(h, feat(6, o->matched, o->direction, o->flow_id != 0));
	if (memcmp(o->data, ev->data, n) == 0)
		return;
	/* rewritten bytes: positions, capped so a full rewrite stays cheap */
	for (uint32_t i = 0; i < n && nrew < 32; i++) {
		if (o->data[i] != ev->data[i]) {
			apiary_harness_note_feature(h, feat(7, o->hook, i, 0));
			nrew++;
		}
	}
}

/* Bucket like AFL's hit counts, so "3 changes" and "4 changes" differ but
 * "100" and "101" do not. */
static uint32_t log_bucket(size_t n)
{
	uint32_t b = 0;

	while (n) {
		n >>= 1;
		b++;
	}
	return b;
}

/*
 * Shape of a state delta: per map, which kinds of change (added, deleted,
 * modified) and roughly how many. Values are left out: counters change
 * on every packet and would make every input look new.
 */
void apiary_harness_note_delta(struct apiary_harness *h, const struct apiary_delta *d)
{
	size_t run = 0;

	if (!h->sig_on || !d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		const struct apiary_map_change *c = &d->changes[i];
		int kind = !c->before ? 1 : !c->after ? 2 : 3;

		apiary_harness_note_feature(h, feat(8, c->map, kind, c->key_size));
		run++;
		if (i + 1 == d->n || d->changes[i + 1].map != c->map) {
			apiary_harness_note_feature(h, feat(9, c->map, log_bucket(run), 0));
			run = 0;
		}
	}
}

void apiary_harness_note_violation(struct apiary_harness *h, int kind)
{
	if (!h->violations++)
		h->first_violation = kind;
	apiary_harness_note_feature(h, feat(10, (uint32_t)kind, 0, 0));
}

int apiary_harness_exec(struct apiary_harness *h, const uint8_t *buf, size_t len, uint8_t *map,
			size_t map_size, struct apiary_exec_result *res)
{
	size_t want = apiary_harness_map_size(h), off = 0;
	int err;

	memset(res, 0, sizeof(*res));
	if (map_size < want)
		return res->err = -ENOSPC;
	memset(map, 0, want);
	if (apiary_input_decode(buf, len, &h->in) < 0)
		return 0; /* not an input: no coverage, so the engine drops it */
	res->decoded = true;
	h->violations = 0;
	h->first_violation = 0;
	h->prev_verdict = 0;
	if (h->sig_on)
		memset(h->sig, 0, h->sig_size);
	for (size_t i = 0; i < h->nregions; i++)
		memset((void *)h->regions[i].p, 0, h->regions[i].n);
	err = h->ex.reset ? h->ex.reset(h->ex.ctx) : 0;
	err = err ?: h->ex.run(h->ex.ctx, h, &h->in);
	for (size_t i = 0; i < h->nregions; i++) {
		memcpy(map + off, (const void *)h->regions[i].p, h->regions[i].n);
		off += h->regions[i].n;
	}
	if (h->sig_on)
		memcpy(map + off, h->sig, h->sig_size);
	res->err = err;
	res->nevents = (uint32_t)h->in.nevents;
	res->violations = h->violations;
	res->first_violation = h->first_violation;
	return err;
}
