// SPDX-License-Identifier: MIT
/* Names and lifetime of struct apiary_violation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "apiary/abi.h"
#include "apiary/violation.h"

const char *apiary_invariant_name(enum apiary_invariant inv)
{
	static const char *const names[APIARY_INV__COUNT] = {
		[APIARY_INV_ORDERING] = "ordering",
		[APIARY_INV_COVERAGE] = "coverage",
		[APIARY_INV_COMMUTATIVITY] = "commutativity",
		[APIARY_INV_EXCLUSIVE] = "exclusive",
		[APIARY_INV_EFFECT] = "effect",
		[APIARY_INV_NONDETERMINISM] = "nondeterminism",
		[APIARY_INV_FLOW_CONSISTENT] = "flow-consistent",
		[APIARY_INV_MIGRATION] = "migration",
	};

	return (unsigned)inv < APIARY_INV__COUNT ? names[inv] : "unknown";
}

void apiary_violation_free(struct apiary_violation *v)
{
	if (!v)
		return;
	free(v->bundle);
	free(v->bundle_hash);
	free(v->summary);
	free(v->detail);
	free(v->replay);
	free(v->dedup_key);
	for (size_t i = 0; i < v->nparties; i++) {
		free(v->parties[i].enforcer);
		free(v->parties[i].team);
	}
	free(v->parties);
	for (size_t i = 0; i < v->nnames; i++)
		free(v->names[i]);
	free(v->names);
	for (size_t r = 0; r < v->nruns && r < 2; r++) {
		struct apiary_vrun *run = &v->runs[r];

		free(run->label);
		free(run->outcomes);
		for (size_t i = 0; i < run->nchanges; i++) {
			free(run->changes[i].map);
			free(run->changes[i].key);
			free(run->changes[i].before);
			free(run->changes[i].after);
		}
		free(run->changes);
	}
}

static void *dup_bytes(const void *p, size_t n)
{
	void *q;

	if (!p)
		return NULL;
	q = malloc(n ? n : 1);
	if (q && n)
		memcpy(q, p, n);
	return q;
}

static char *dup_str(const char *s)
{
	return s ? strdup(s) : NULL;
}

int apiary_violation_copy(struct apiary_violation *dst, const struct apiary_violation *src)
{
	*dst = *src;
	dst->bundle = dup_str(src->bundle);
	dst->bundle_hash = dup_str(src->bundle_hash);
	dst->summary = dup_str(src->summary);
	dst->detail = dup_str(src->detail);
	dst->replay = dup_str(src->replay);
	dst->dedup_key = dup_str(src->dedup_key);
	dst->parties = dup_bytes(src->parties, src->nparties * sizeof(*src->parties));
	for (size_t i = 0; dst->parties && i < src->nparties; i++) {
		dst->parties[i].enforcer = dup_str(src->parties[i].enforcer);
		dst->parties[i].team = dup_str(src->parties[i].team);
	}
	dst->names = dup_bytes(src->names, src->nnames * sizeof(*src->names));
	for (size_t i = 0; dst->names && i < src->nnames; i++)
		dst->names[i] = dup_str(src->names[i]);
	if (!dst->names)
		dst->nnames = 0;
	for (size_t r = 0; r < src->nruns && r < 2; r++) {
		const struct apiary_vrun *s = &src->runs[r];
		struct apiary_vrun *d = &dst->runs[r];

		d->label = dup_str(s->label);
		d->outcomes = dup_bytes(s->outcomes, s->noutcomes * sizeof(*s->outcomes));
		d->changes = dup_bytes(s->changes, s->nchanges * sizeof(*s->changes));
		for (size_t i = 0; d->changes && i < s->nchanges; i++) {
			d->changes[i].map = dup_str(s->changes[i].map);
			d->changes[i].key = dup_bytes(s->changes[i].key, s->changes[i].key_size);
			d->changes[i].before =
				dup_bytes(s->changes[i].before, s->changes[i].value_size);
			d->changes[i].after =
				dup_bytes(s->changes[i].after, s->changes[i].value_size);
		}
		if (!d->changes)
			d->nchanges = 0;
		if (!d->outcomes)
			d->noutcomes = 0;
	}
	if (!dst->parties)
		dst->nparties = 0;
	if (!dst->summary || !dst->bundle || (src->nparties && !dst->parties)) {
		apiary_violation_free(dst);
		return -ENOMEM;
	}
	return 0;
}

/* Name of a verdict at a hook; buf holds the number for unknown values. */
const char *apiary_verdict_name(int hook, int verdict, char *buf, size_t size)
{
	static const char *const xdp[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					   "XDP_REDIRECT" };
	static const char *const tc[] = { "TC_ACT_OK",	   "TC_ACT_RECLASSIFY", "TC_ACT_SHOT",
					  "TC_ACT_PIPE",   "TC_ACT_STOLEN",	"TC_ACT_QUEUED",
					  "TC_ACT_REPEAT", "TC_ACT_REDIRECT" };

	if (verdict == APIARY_VERDICT_UNKNOWN)
		return "unknown";
	if (hook == APIARY_HOOK_ID_XDP && verdict >= 0 && verdict < 5)
		return xdp[verdict];
	if ((hook == APIARY_HOOK_ID_TC_INGRESS || hook == APIARY_HOOK_ID_TC_EGRESS)) {
		if (verdict == -1)
			return "TC_ACT_UNSPEC";
		if (verdict >= 0 && verdict < 8)
			return tc[verdict];
	}
	snprintf(buf, size, "%d", verdict);
	return buf;
}
