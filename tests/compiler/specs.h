/* SPDX-License-Identifier: MIT */
/*
 * Hand-built, checked ASTs for the compiler tests (the spec parser lives in
 * another module). Each builder also stores the equivalent spec text, which
 * is what the bundle hash covers. Free with tspec_free().
 */
#ifndef TESTS_COMPILER_SPECS_H
#define TESTS_COMPILER_SPECS_H

#include "apiary/spec.h"

/* edge: classifier conn at xdp (5-tuple, match tcp), state conn_bytes and
 * blocked, source enforcers fw (xdp, program fw_main, update to v2),
 * counter (xdp, no program) and meter (tc.egress); invariants of each kind. */
struct apiary_spec *tspec_edge(const char *bpf_dir);

/* preds: classifier flow6 at tc.ingress with IPv6 keys and a match using
 * every predicate form; one source enforcer; array/percpu state. */
struct apiary_spec *tspec_preds(const char *bpf_dir);

/* opaque: no classifier; source fw then the prebuilt lb object at xdp. */
struct apiary_spec *tspec_opaque(const char *bpf_dir, const char *prebuilt_obj);

/* One enforcer `bad` at xdp with the given source and program (may be NULL). */
struct apiary_spec *tspec_single(const char *bpf_dir, const char *source, const char *program,
				 int prebuilt);

void tspec_free(struct apiary_spec *s);

#endif
