/* SPDX-License-Identifier: MIT */
/* Pieces the CLIs share: open a bundle (spec -> build -> loaded), print
 * violations and summaries, and send results to the store and CI files. */
#ifndef APIARY_CLI_COMMON_H
#define APIARY_CLI_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "apiary/check.h"
#include "apiary/compiler.h"
#include "apiary/runtime.h"
#include "apiary/spec.h"
#include "apiary/violation.h"

struct apiary_bundle_ctx {
	struct apiary_spec *spec;
	struct apiary_build *build;
	struct apiary_rt *rt;
	char *tmp_dir; /* removed at close when we created it */
	struct apiary_spec *update_spec; /* --update NEW.spec: its nodes moved into spec */
};

struct apiary_bundle_opts {
	size_t sz;               /* sizeof(struct apiary_bundle_opts) */
	const char *out_dir;     /* NULL: a fresh temporary directory, removed at close */
	const char *update_path; /* NEW.spec whose enforcers update the bundle's, or NULL */
	bool coverage;           /* in-kernel coverage counters (apiary-fuzz) */
	int cpu;                 /* test runs pinned here; -1: CPU 0 */
	uint32_t max_flows;      /* flow table size for this load; 0: as compiled */
	FILE *progress;          /* progress lines, or NULL */
};

/* Parse and check the spec, compile it and load it with the one loader
 * (every program goes through the verifier). opts may be NULL. */
int apiary_bundle_open(const char *spec_path, const struct apiary_bundle_opts *opts,
		       struct apiary_bundle_ctx *b, struct apiary_diags *diags);
void apiary_bundle_close(struct apiary_bundle_ctx *b);

/* Human form of a violation: invariant, teams, orderings, packet by layer,
 * outcomes side by side, replay command. */
void apiary_violation_print(const struct apiary_violation *v, size_t number, FILE *out);
void apiary_check_stats_print(const struct apiary_check_stats *st, const struct apiary_spec *spec,
			      FILE *out);

/* Where check results go besides stdout: the store (written as found),
 * SARIF, JUnit and HTML (written at the end). */
struct apiary_check_output {
	const struct apiary_spec *spec;
	const struct apiary_build *build;
	struct apiary_store *store;
	int64_t run_id;
	struct apiary_violation *kept; /* copies for SARIF/JUnit */
	size_t nkept, capkept;
};

void apiary_check_output_init(struct apiary_check_output *o);
int apiary_check_output_begin(struct apiary_check_output *o, const struct apiary_spec *spec,
			      const struct apiary_build *build, const char *db,
			      struct apiary_diags *diags);
int apiary_check_output_add(struct apiary_check_output *o, const struct apiary_violation *v);
int apiary_check_output_finish(struct apiary_check_output *o, int status, const char *html,
			       const char *sarif, const char *junit, struct apiary_diags *diags);
void apiary_check_output_free(struct apiary_check_output *o);

#endif
