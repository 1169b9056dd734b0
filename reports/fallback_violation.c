// SPDX-License-Identifier: MIT
/*
 * Stand-ins for violation.h's helpers while no other module provides them.
 * reports/meson.build compiles this file only when invariants_lib does not
 * exist; the definitions are weak as well, so a real one always wins.
 */
#include <stdlib.h>

#include "apiary/violation.h"

static const char *const inv_names[APIARY_INV__COUNT] = {
	[APIARY_INV_ORDERING] = "ordering",
	[APIARY_INV_COVERAGE] = "coverage",
	[APIARY_INV_COMMUTATIVITY] = "commutativity",
	[APIARY_INV_EXCLUSIVE] = "exclusive",
	[APIARY_INV_EFFECT] = "effect",
	[APIARY_INV_NONDETERMINISM] = "nondeterminism",
	[APIARY_INV_FLOW_CONSISTENT] = "flow-consistent",
	[APIARY_INV_MIGRATION] = "migration",
};

/* Spec-level name of an invariant kind; "unknown" for out-of-range values. */
__attribute__((weak)) const char *apiary_invariant_name(enum apiary_invariant inv)
{
	if ((unsigned)inv >= APIARY_INV__COUNT)
		return "unknown";
	return inv_names[inv];
}

/* Free every member of v (not v itself) and leave it zeroed. */
__attribute__((weak)) void apiary_violation_free(struct apiary_violation *v)
{
	if (!v)
		return;
	free(v->bundle);
	free(v->bundle_hash);
	free(v->summary);
	free(v->detail);
	for (size_t i = 0; i < v->nparties; i++) {
		free(v->parties[i].enforcer);
		free(v->parties[i].team);
	}
	free(v->parties);
	for (size_t r = 0; r < 2; r++) {
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
	free(v->replay);
	free(v->dedup_key);
	*v = (struct apiary_violation){ 0 };
}
