/* SPDX-License-Identifier: MIT */
/*
 * compiler/ internals: generation of the BPF C files from the checked AST.
 * Split from the build driver so golden tests can call it without clang.
 */
#ifndef APIARY_COMPILER_CODEGEN_H
#define APIARY_COMPILER_CODEGEN_H

#include <stdint.h>
#include <stdio.h>

#include "apiary/diag.h"
#include "apiary/spec.h"

/* Name of the declaration the wrapper calls when the spec gives no
 * `program`: the IR pass binds it to the source's single program. */
#define APIARY_ENTRY_PLACEHOLDER "apiary_entry"

/* One program to wrap: enforcer `enforcer` at version slot `vslot`. */
struct apiary_gen_prog {
	int enforcer;
	int vslot;
	uint32_t version;
	enum apiary_hook hook;
	const struct apiary_code *code;
	const char *source_abs; /* absolute path of the team's source */
};

/* The code of enforcer `e` at `vslot` (1: its `update`), or NULL if that
 * slot does not exist; *version receives the version. */
const struct apiary_code *apiary_gen_code(const struct apiary_spec *s, int e, int vslot,
					  uint32_t *version);

/* Bit APIARY_PROG_SLOT(e, v) for every prebuilt program. */
uint64_t apiary_gen_opaque_slots(const struct apiary_spec *s);

/* The C identifier spelling of a name, upper-cased (macros) or not. */
void apiary_gen_ident(char *dst, size_t size, const char *name, int upper);

/* Write apiary_bundle.h / sidecar.bpf.c / one wrapper TU. Return 0 or
 * -EINVAL with the reason in diags (unsupported key field, bad literal). */
int apiary_gen_bundle_h(FILE *f, const struct apiary_spec *s, struct apiary_diags *d);
int apiary_gen_sidecar(FILE *f, const struct apiary_spec *s, struct apiary_diags *d);
int apiary_gen_wrapper(FILE *f, const struct apiary_spec *s, const struct apiary_gen_prog *p,
		       struct apiary_diags *d);

/* A predicate as one C expression over `const struct apiary_pkt *p`. */
int apiary_gen_pred(FILE *f, const struct apiary_pred *pred, struct apiary_diags *d);

#endif
