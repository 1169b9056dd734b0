/* SPDX-License-Identifier: MIT */
/*
 * The bounded checker behind apiary-check (and, per candidate, apiary-fuzz):
 * runs inputs through every ordering the spec allows (after partial-order
 * reduction), twice each, and evaluates the invariants on the outcomes.
 *
 * Host model: a frame entering at xdp that gets a continue verdict goes on to
 * tc.ingress, and from there is forwarded out through tc.egress (a
 * forwarding host); a frame entering at tc.egress leaves after it.
 */
#ifndef APIARY_CHECK_H
#define APIARY_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "apiary/compiler.h"
#include "apiary/input.h"
#include "apiary/runtime.h"
#include "apiary/spec.h"
#include "apiary/violation.h"

/* Called for every new violation as soon as it is found (print it, store
 * it). Returning nonzero stops the check. */
typedef int (*apiary_violation_cb)(void *arg, const struct apiary_violation *v);

struct apiary_check_opts {
	size_t sz;               /* sizeof(struct apiary_check_opts) */
	double budget_s;         /* 0: no limit; else stop taking new inputs after it */
	const char *spec_path;   /* for replay commands */
	const char *argv0;       /* for replay commands; default "apiary-check" */
	apiary_violation_cb on_violation;
	void *arg;
	FILE *progress;          /* progress lines, or NULL */
	const struct apiary_input *only; /* replay: check this input alone */
	size_t max_orderings;    /* per hook; 0 = 40320 (8!); beyond it orderings are sampled */
};

struct apiary_check_stats {
	size_t inputs;            /* inputs checked */
	size_t inputs_planned;    /* inputs generated (z3 + seeds) */
	size_t inputs_z3;         /* of which from z3 */
	size_t inputs_baseline;   /* default frames per shape and classic field values */
	size_t inputs_seeds;      /* from the pcap files in <spec dir>/seeds */
	size_t z3_unsat;          /* z3 queries with no packet (e.g. disjoint predicates) */
	uint64_t orderings_total; /* sum over inputs of allowed orderings */
	uint64_t orderings_run;   /* sum over inputs of orderings actually run */
	uint64_t runs;            /* test_run executions */
	uint64_t tc_refused;      /* frames the kernel would not run at tc (malformed IP) */
	bool sampled;             /* orderings were sampled (too many to enumerate) */
	uint64_t hook_allowed[APIARY_NHOOKS]; /* orderings the spec allows per hook */
	uint64_t hook_perms[APIARY_NHOOKS];   /* all permutations per hook (n!) */
	size_t hook_enforcers[APIARY_NHOOKS];
	bool budget_hit;
	size_t violations[APIARY_INV__COUNT]; /* distinct violations per invariant */
	size_t errors;            /* distinct violations that fail the check */
	size_t infos;             /* distinct findings reported as information */
	size_t occurrences;       /* all occurrences, duplicates included */
	size_t nondeterministic;  /* enforcers found nondeterministic */

	/* updates (update.c): per updated enforcer, event sequences of
	 * interleaved flows with the update at every position, each run through
	 * the sidecar and through a naive replace */
	size_t updates;            /* updated enforcers explored */
	size_t update_sequences;   /* sequences x update positions */
	size_t update_flows;       /* flow incarnations checked (sidecar path) */
	size_t sidecar_mixed;      /* of which handled by two versions on the sidecar path */
	size_t naive_mixed;        /* ... on the naive-replace path */
	size_t naive_differs;      /* naive mixed flows whose outcome differs from the sidecar's */
	size_t refused;            /* packets refused: flow table full */
	size_t repinned;           /* flows pinned anew after FIN/RST or idle */
	size_t migrated;           /* entries converted by migrations */
	size_t migration_lost;     /* entries the new map did not keep */
	size_t migration_bad;      /* entries with an unconverted or unfaithful field */
	size_t after_inputs;       /* inputs re-checked with every update flipped */
};

int apiary_check_run(const struct apiary_spec *spec, const struct apiary_build *build,
		     struct apiary_rt *rt, const struct apiary_check_opts *opts,
		     struct apiary_check_stats *stats, struct apiary_diags *diags);

/* Does this verdict hand the packet to the next enforcer / next hook? */
bool apiary_verdict_continues(enum apiary_hook hook, int verdict);

#endif
