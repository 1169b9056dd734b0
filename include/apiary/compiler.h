/* SPDX-License-Identifier: MIT */
/*
 * The compiler: a checked spec in, eBPF objects + metadata out.
 *
 * Output directory layout (out_dir):
 *   apiary_bundle.h       generated: state maps, flow-key docs; included by apiary.h
 *   sidecar.bpf.c/.o      dispatchers apiary_xdp, apiary_tc_ingress, apiary_tc_egress
 *                         + the classifier + all shared maps
 *   enf_<name>_v<N>.c/.o  wrapper TU (#includes the team's source) and its object
 *   apiary.json           metadata: programs, hooks, maps, invariants, hashes
 * Prebuilt objects are used from where the spec points, unchanged.
 */
#ifndef APIARY_COMPILER_H
#define APIARY_COMPILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apiary/diag.h"
#include "apiary/spec.h"

struct apiary_build_opts {
	size_t sz;            /* sizeof(struct apiary_build_opts) */
	const char *out_dir;  /* created if missing */
	const char *clang;    /* default "clang" (found on PATH) */
	const char *llc;      /* default "llc" */
	bool coverage;        /* in-kernel coverage counters (fuzzing) */
	bool keep_going;      /* compile every enforcer even after a failure */
};

/* One loadable program: a (wrapped or opaque) enforcer at one version. */
struct apiary_build_prog {
	int enforcer;          /* index in spec->enforcers */
	int vslot;             /* 0: the enforcer's version, 1: its `update` */
	uint32_t version;
	enum apiary_hook hook;
	bool opaque;           /* prebuilt object, tail-called unchanged, ends the chain */
	char *object_path;     /* wrapped object, or the prebuilt object */
	char *prog_name;       /* program placed in apiary_progs: apiary_w_<name>_v<N> or the opaque entry */
	char *entry_name;      /* the team's own entry function */
	char *source_path;     /* NULL for opaque */
	uint8_t hash[32];      /* sha256 of the object file */
};

struct apiary_build {
	const struct apiary_spec *spec; /* borrowed */
	char *out_dir;
	char *sidecar_object;
	char *metadata_path;
	struct apiary_build_prog *progs;
	size_t nprogs;
	uint8_t sidecar_hash[32];
	uint8_t bundle_hash[32]; /* spec text + every object */
	char bundle_hash_hex[65];
	bool coverage;
};

/* Generate, compile and describe the bundle. Errors (clang failures with the
 * compiler's own messages, missing programs in objects) go to diags. */
int apiary_compile(const struct apiary_spec *spec, const struct apiary_build_opts *opts,
		   struct apiary_build **out, struct apiary_diags *diags);
void apiary_build_free(struct apiary_build *b);

/* The program of enforcer `enforcer` at version slot `vslot`, or NULL. */
const struct apiary_build_prog *apiary_build_prog(const struct apiary_build *b, int enforcer,
						  int vslot);

#endif
