/* SPDX-License-Identifier: MIT */
/*
 * Checker internals shared by check.c (orderings, invariants) and update.c
 * (update interleavings, flow-consistent, migrations). Not a public header.
 */
#ifndef APIARY_CHECK_INT_H
#define APIARY_CHECK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "apiary/check.h"

#define MAX_OUTS (APIARY_INPUT_MAX_EVENTS * 3)

/* One execution of an input: outcome per (event, hook) and the state delta. */
struct run_result {
	struct apiary_outcome outs[MAX_OUTS];
	int out_event[MAX_OUTS];
	enum apiary_hook out_hook[MAX_OUTS];
	size_t nouts;
	struct apiary_delta delta;
	int err;
};

/* The chains of all hooks: one "ordering" of the whole bundle. */
struct ordering {
	int chain[APIARY_NHOOKS][APIARY_MAX_CHAIN];
	size_t len[APIARY_NHOOKS];
};

/* What an enforcer did alone on the current input. */
struct solo {
	bool ran;
	bool stops;       /* non-continue verdict on some event */
	bool rewrites;    /* output bytes differ from input bytes */
	bool nondet;      /* two identical runs differed (now or on an earlier input) */
	bool *writes;     /* per rt map: changed it */
	struct run_result res;
};

struct checker {
	const struct apiary_spec *spec;
	const struct apiary_build *build;
	struct apiary_rt *rt;
	const struct apiary_check_opts *opts;
	struct apiary_check_stats *stats;
	struct apiary_diags *diags;
	struct apiary_snapshot *base;
	size_t nmaps;
	size_t nenf;

	/* before[a][b]: a must run before b (declared order, closed; opaque last) */
	bool before[APIARY_MAX_ENFORCERS][APIARY_MAX_ENFORCERS];
	int hook_enf[APIARY_NHOOKS][APIARY_MAX_CHAIN];
	size_t hook_n[APIARY_NHOOKS];
	/* all allowed orderings per hook, enumerated once */
	int *perms[APIARY_NHOOKS];
	size_t nperms[APIARY_NHOOKS];
	uint64_t perms_total[APIARY_NHOOKS];

	struct solo solo[APIARY_MAX_ENFORCERS];
	bool nondet_reported[APIARY_MAX_ENFORCERS];
	bool interact[APIARY_MAX_ENFORCERS][APIARY_MAX_ENFORCERS];

	/* distinct violations seen (dedup keys) */
	char **seen;
	size_t nseen, capseen;
	bool stop;
	struct timespec t0;

	/* after an update's flip (update.c): the version slot each enforcer
	 * runs, and a phase named in the summaries of what is found then */
	int vslot[APIARY_MAX_ENFORCERS];
	const char *phase;
};

/* check.c, for update.c */
int apiary__chk_report(struct checker *c, enum apiary_invariant inv, enum apiary_vseverity sev,
		       const int *parties, size_t nparties, const struct apiary_input *in,
		       const char *key_suffix, const char *summary, const char *detail,
		       const char *label_a, const struct ordering *oa, const struct run_result *ra,
		       const char *label_b, const struct ordering *ob, const struct run_result *rb);
int apiary__chk_input(struct checker *c, const struct apiary_input *in);
int apiary__chk_set_ordering(struct checker *c, const struct ordering *o);
double apiary__chk_elapsed(const struct checker *c);

/* update.c: every update of the bundle, after the ordinary inputs. */
int apiary__chk_updates(struct checker *c, const struct apiary_input *inputs, size_t n);

#endif
