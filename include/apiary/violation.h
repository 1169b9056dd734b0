/* SPDX-License-Identifier: MIT */
/*
 * A violation: a concrete, replayable counterexample. Produced by the
 * invariant checker (check and fuzz), written to the store as soon as it is
 * found, rendered by the reports. Self-contained: names, teams and spec lines
 * are copied in, so the store and the reports need no spec.
 */
#ifndef APIARY_VIOLATION_H
#define APIARY_VIOLATION_H

#include <stddef.h>
#include <stdint.h>

#include "apiary/input.h"
#include "apiary/runtime.h"

enum apiary_invariant {
	APIARY_INV_ORDERING,        /* info: a declared order matters */
	APIARY_INV_COVERAGE,        /* cover E sees P: E did not run on a matching input */
	APIARY_INV_COMMUTATIVITY,   /* undeclared order dependence */
	APIARY_INV_EXCLUSIVE,       /* state written by someone other than its owner */
	APIARY_INV_EFFECT,          /* declared effect contradicted */
	APIARY_INV_NONDETERMINISM,  /* same input and state, different outcome */
	APIARY_INV_FLOW_CONSISTENT, /* a flow handled by two versions */
	APIARY_INV_MIGRATION,       /* state lost or left unconverted by an update */
	APIARY_INV__COUNT,
};

const char *apiary_invariant_name(enum apiary_invariant inv); /* "commutativity" */
/* Name of a verdict at a hook ("XDP_DROP", "TC_ACT_SHOT"); buf holds the
 * number for values without a name. */
const char *apiary_verdict_name(int hook, int verdict, char *buf, size_t size);

enum apiary_vseverity {
	APIARY_VS_ERROR, /* fails the check (exit 1) */
	APIARY_VS_INFO,  /* reported, does not fail (e.g. ordering proof) */
};

/* An enforcer involved, as the spec declares it. */
struct apiary_party {
	char *enforcer;
	char *team;
	uint32_t version;
	int spec_line; /* line of its `enforcer` declaration */
	int spec_col;
};

/* One map entry that changed, with names resolved. before/after NULL as in
 * struct apiary_map_change. */
struct apiary_vchange {
	char *map;
	uint32_t key_size, value_size;
	uint8_t *key, *before, *after;
};

/* One side of the comparison: an ordering (or "sidecar"/"naive replace"),
 * the outcome of every event, and the state change over the sequence. */
struct apiary_vrun {
	char *label;                   /* "firewall -> lb" */
	int order[APIARY_MAX_CHAIN];   /* enforcer indexes as run */
	size_t norder;
	struct apiary_outcome *outcomes; /* one per input event */
	size_t noutcomes;
	struct apiary_vchange *changes;
	size_t nchanges;
};

struct apiary_violation {
	enum apiary_invariant invariant;
	enum apiary_vseverity severity;
	char *bundle;      /* bundle name */
	char *bundle_hash; /* hex */
	char *summary;     /* one line a reviewer reads first */
	char *detail;      /* optional longer text */
	struct apiary_party *parties;
	size_t nparties;
	char **names; /* every enforcer of the bundle by index: traces refer to them */
	size_t nnames;
	struct apiary_input input; /* replayable (apiary-check --replay HEX) */
	struct apiary_vrun runs[2]; /* side by side; nruns may be 1 */
	size_t nruns;
	char *replay;    /* full command line that reproduces it */
	char *dedup_key; /* invariant + programs + ordering class */
};

void apiary_violation_free(struct apiary_violation *v); /* frees members, not v */
/* Deep copy (the checker frees its violations after the callback). */
int apiary_violation_copy(struct apiary_violation *dst, const struct apiary_violation *src);

#endif
