/* SPDX-License-Identifier: MIT */
/*
 * compiler/ internals: the LLVM IR transformation applied to every wrapped
 * enforcer between clang (-emit-llvm) and object emission.
 *
 * Today it does one thing: the team's entry function (a program in its own
 * section) becomes a static subprogram in .text (IR linkage and, for BTF,
 * its debug info), so the generated wrapper program calls it instead of the
 * loader seeing it as a second program.
 * With opts->coverage it also runs the in-kernel coverage pass
 * (apiary_cov_transform, compiler/coverage.c) on the module, after the move.
 */
#ifndef APIARY_COMPILER_IRPASS_H
#define APIARY_COMPILER_IRPASS_H

#include <stdbool.h>

#include <llvm-c/Core.h>

#include "apiary/diag.h"
#include "apiary/spec.h"

struct apiary_irpass_opts {
	const char *entry;       /* the team's entry function; NULL: find it by section */
	enum apiary_hook hook;   /* which sections count as this hook's programs */
	const char *placeholder; /* declaration the wrapper calls when entry is NULL */
	const char *skip_prefix; /* functions never taken as the entry ("apiary_w_") */
	const char *who;         /* for messages: "enforcer fw" */
	bool coverage;           /* SanitizerCoverage counters -> mmapable map (coverage.h) */
	bool coverage_only;      /* no entry to move (the sidecar): only the coverage pass */
};

/* Does an ELF section name hold programs of this hook's type? */
bool apiary_irpass_section_fits(const char *section, enum apiary_hook hook);

/* Transform module m in place. On success *entry_out (if given) receives a
 * malloc'd copy of the entry function's name. Errors: -ENOENT (no entry,
 * or several candidates), -EINVAL (coverage pass), with a message in d.
 * With coverage_only, *entry_out is left NULL. */
int apiary_irpass_module(LLVMModuleRef m, const struct apiary_irpass_opts *opts,
			 char **entry_out, struct apiary_diags *d);

/* Mark the entry's debug info (DISubprogram) local to the unit, so its BTF
 * linkage is static like its IR linkage; may replace *m (reparsed). */
int apiary_irpass_static_debug(LLVMModuleRef *m, const char *entry, const char *who,
			       struct apiary_diags *d);

/* Read bitcode in_path, transform, write bitcode out_path (may be equal). */
int apiary_irpass_file(const char *in_path, const char *out_path,
		       const struct apiary_irpass_opts *opts, char **entry_out,
		       struct apiary_diags *d);

#endif
