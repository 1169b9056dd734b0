// SPDX-License-Identifier: MIT
/*
 * In-kernel coverage counters for BPF (see include/apiary/coverage.h).
 *
 * SanitizerCoverage (inline-8bit-counters) gives every function a private
 * counter array in section "__sancov_cntrs", registers the arrays with a
 * module constructor through the linker-made __start/__stop symbols, and
 * keeps everything alive with llvm.used/llvm.compiler.used. None of that
 * exists in BPF: constructors never run, there is no linker, and the BPF
 * backend crashes on the constructor. The counter updates themselves are
 * plain loads and stores of a global, which BPF turns into map value
 * accesses. So: keep the updates, merge the arrays into one global in a
 * custom data section (a map libbpf creates), delete the rest.
 *
 * The same pass adds map write flags (coverage.h): one byte per map of the
 * module, set before each helper call that may change the map, so the
 * fuzzing executor resets only the maps a run may have written.
 *
 * Written with the LLVM-C API so it stays C; IR in, IR or object out.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Comdat.h>
#include <llvm-c/Core.h>
#include <llvm-c/DebugInfo.h>
#include <llvm-c/IRReader.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

#include "apiary/coverage.h"

extern char **environ;

#ifndef APIARY_BPF_MULTIARCH
#define APIARY_BPF_MULTIARCH "/usr/include/x86_64-linux-gnu"
#endif
#define SEC_CNTRS "__sancov_cntrs"
#define SEC_PCS "__sancov_pcs"
#define SEC_GUARDS "__sancov_guards"
#define SEC_BOOLS "__sancov_bools"
#define DW_ATE_unsigned 0x08
#define DW_TAG_volatile_type 0x35

/* A growable array of values: what the pass deletes (so the used-lists can
 * be filtered first), visited sets, work lists, write sites. */
struct vals {
	LLVMValueRef *v;
	size_t n, cap;
};

static int vals_push(struct vals *s, LLVMValueRef v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		LLVMValueRef *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	return 0;
}

static bool vals_has(const struct vals *s, LLVMValueRef v)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == v)
			return true;
	return false;
}

/* Opcode of a cast-like instruction or constant expression, else 0. */
static LLVMOpcode value_opcode(LLVMValueRef v)
{
	if (LLVMIsAInstruction(v))
		return LLVMGetInstructionOpcode(v);
	if (LLVMIsAConstantExpr(v))
		return LLVMGetConstOpcode(v);
	return 0;
}

/* The pointer below bitcasts, address space casts and GEPs (instructions
 * or constant expressions): the global a used-list element refers to; with
 * typed pointers a map argument is a bitcast of the map global, with
 * opaque pointers the global itself. */
static LLVMValueRef strip_ptr(LLVMValueRef v)
{
	for (;;) {
		LLVMOpcode op = value_opcode(v);

		if (op != LLVMBitCast && op != LLVMAddrSpaceCast && op != LLVMGetElementPtr)
			return v;
		v = LLVMGetOperand(v, 0);
	}
}

static bool name_starts(LLVMValueRef v, const char *prefix)
{
	size_t len;
	const char *name = LLVMGetValueName2(v, &len);

	return name && strncmp(name, prefix, strlen(prefix)) == 0;
}

static bool section_is(LLVMValueRef g, const char *sec)
{
	const char *s = LLVMGetSection(g);

	return s && strcmp(s, sec) == 0;
}

/*
 * Rebuild an appending used-list (llvm.used, llvm.compiler.used,
 * llvm.global_ctors) without the doomed elements; delete it if nothing is
 * left. Appending globals cannot be edited in place, so a new one with the
 * same name, section and linkage replaces the old.
 */
static int filter_list(LLVMModuleRef m, const char *name, const struct vals *dd, bool ctors)
{
	LLVMValueRef g = LLVMGetNamedGlobal(m, name), init, ng;
	LLVMValueRef *keep;
	LLVMTypeRef elty;
	unsigned n, nkeep = 0;
	char *sec;

	if (!g)
		return 0;
	init = LLVMGetInitializer(g);
	if (!init)
		return 0;
	n = (unsigned)LLVMGetNumOperands(init);
	if (LLVMIsAConstantAggregateZero(init))
		n = 0;
	elty = LLVMGetElementType(LLVMTypeOf(init));
	keep = calloc(n ? n : 1, sizeof(*keep));
	if (!keep)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		LLVMValueRef el = LLVMGetOperand(init, i);
		/* global_ctors entries are { prio, fn, data }: the function decides */
		LLVMValueRef target = strip_ptr(ctors ? LLVMGetOperand(el, 1) : el);

		if (!vals_has(dd, target))
			keep[nkeep++] = el;
	}
	if (nkeep == n) {
		free(keep);
		return 0;
	}
	sec = LLVMGetSection(g) ? strdup(LLVMGetSection(g)) : NULL;
	LLVMDeleteGlobal(g);
	if (nkeep) {
		LLVMValueRef arr = LLVMConstArray(elty, keep, nkeep);

		ng = LLVMAddGlobal(m, LLVMTypeOf(arr), name);
		LLVMSetInitializer(ng, arr);
		LLVMSetLinkage(ng, LLVMAppendingLinkage);
		if (sec)
			LLVMSetSection(ng, sec);
	}
	free(sec);
	free(keep);
	return 0;
}

/* The compile unit the module's debug info hangs off, or NULL. */
static LLVMMetadataRef find_cu(LLVMModuleRef m)
{
	unsigned n = LLVMGetNamedMetadataNumOperands(m, "llvm.dbg.cu");
	LLVMValueRef ops[8];

	if (n == 0 || n > 8)
		return NULL;
	LLVMGetNamedMetadataOperands(m, "llvm.dbg.cu", ops);
	return LLVMValueAsMetadata(ops[0]);
}

/*
 * Give a global a DIGlobalVariableExpression: the BPF backend emits BTF
 * (and so a DATASEC entry) only for globals with debug info, and libbpf
 * makes a data section's map mmap-able only if it holds a non-static
 * variable with BTF.
 */
static void attach_dbg(LLVMModuleRef m, LLVMDIBuilderRef dib, LLVMMetadataRef cu,
		       LLVMValueRef g, const char *name, LLVMMetadataRef ty, bool local,
		       uint32_t align_bits)
{
	LLVMContextRef ctx = LLVMGetModuleContext(m);
	LLVMMetadataRef file = LLVMDIScopeGetFile(cu);
	LLVMMetadataRef expr = LLVMDIBuilderCreateExpression(dib, NULL, 0);
	LLVMMetadataRef gve = LLVMDIBuilderCreateGlobalVariableExpression(
		dib, cu, name, strlen(name), name, strlen(name), file, 0, ty, local, expr, NULL,
		align_bits);

	LLVMGlobalSetMetadata(g, LLVMGetMDKindIDInContext(ctx, "dbg", 3), gve);
}

/*
 * A static byte array `name` of n bytes in the coverage section, holding
 * init (NULL: zeros), with debug info whose elements are the C type
 * `elem` (DWARF encoding enc), so BTF lists it in the section's DATASEC.
 */
static LLVMValueRef add_section_bytes(LLVMModuleRef m, LLVMDIBuilderRef dib, LLVMMetadataRef cu,
				      const char *name, const char *elem, unsigned enc,
				      const char *init, uint64_t n, unsigned align)
{
	LLVMContextRef ctx = LLVMGetModuleContext(m);
	LLVMTypeRef aty = LLVMArrayType(LLVMInt8TypeInContext(ctx), (unsigned)n);
	LLVMMetadataRef et = LLVMDIBuilderCreateBasicType(dib, elem, strlen(elem), 8, enc,
							  LLVMDIFlagZero);
	LLVMMetadataRef sub = LLVMDIBuilderGetOrCreateSubrange(dib, 0, (int64_t)n);
	LLVMMetadataRef arrty = LLVMDIBuilderCreateArrayType(dib, n * 8, 8, et, &sub, 1);
	LLVMValueRef g = LLVMAddGlobal(m, aty, name);

	LLVMSetInitializer(g, init ? LLVMConstStringInContext(ctx, init, (unsigned)n, 1)
				   : LLVMConstNull(aty));
	LLVMSetSection(g, APIARY_COV_SECTION);
	LLVMSetLinkage(g, LLVMInternalLinkage);
	LLVMSetAlignment(g, align);
	attach_dbg(m, dib, cu, g, name, arrty, true, 8);
	return g;
}

/* Replace the remaining uses of a __start_/__stop_ bound by a pointer into
 * the merged array (its start or its end), then delete it. */
static void replace_bound(LLVMModuleRef m, const char *name, LLVMValueRef merged,
			  uint32_t index)
{
	LLVMValueRef g = LLVMGetNamedGlobal(m, name);
	LLVMTypeRef i64 = LLVMInt64TypeInContext(LLVMGetModuleContext(m));

	if (!g)
		return;
	if (LLVMGetFirstUse(g) && merged) {
		LLVMValueRef idx[2] = { LLVMConstInt(i64, 0, 0), LLVMConstInt(i64, index, 0) };
		LLVMValueRef p = LLVMConstGEP2(LLVMGlobalGetValueType(merged), merged, idx, 2);

		LLVMReplaceAllUsesWith(g, LLVMConstBitCast(p, LLVMTypeOf(g)));
	}
	if (!LLVMGetFirstUse(g))
		LLVMDeleteGlobal(g);
}

/* ---- map write flags ---------------------------------------------------- */

/* BPF helper ids (include/uapi/linux/bpf.h, stable ABI). */
#define BPF_FUNC_map_lookup_elem 1
#define BPF_FUNC_map_update_elem 2
#define BPF_FUNC_map_delete_elem 3
#define BPF_FUNC_map_push_elem 87
#define BPF_FUNC_map_pop_elem 88
#define BPF_FUNC_for_each_map_elem 164
#define BPF_FUNC_map_lookup_percpu_elem 195
#define DW_ATE_signed_char 0x06

/* The helper id N of a call to `inttoptr (i64 N to ...)`, or -1. */
static long long helper_id(LLVMValueRef call)
{
	LLVMValueRef callee = LLVMGetCalledValue(call);

	if (!callee || !LLVMIsAConstantExpr(callee) || LLVMGetConstOpcode(callee) != LLVMIntToPtr)
		return -1;
	callee = LLVMGetOperand(callee, 0);
	if (!LLVMIsAConstantInt(callee))
		return -1;
	return LLVMConstIntGetSExtValue(callee);
}

static const char *called_name(LLVMValueRef call)
{
	LLVMValueRef f = LLVMGetCalledValue(call);
	size_t len;

	if (!f || !LLVMIsAFunction(f))
		return "";
	return LLVMGetValueName2(f, &len);
}

/*
 * May the map value pointer `res` (a lookup's result) be written through?
 * Follows it through casts, GEPs, phis and selects; anything the walk does
 * not know to be a read counts as a write, so a "no" is a proof for the
 * uses the pass can see. *err is set on allocation failure.
 */
static bool may_write_through(LLVMValueRef res, int *err)
{
	struct vals seen = { 0 }, work = { 0 };
	bool write = false;

	*err = vals_push(&seen, res) ?: vals_push(&work, res);
	while (!*err && !write && work.n) {
		LLVMValueRef v = work.v[--work.n];

		for (LLVMUseRef u = LLVMGetFirstUse(v); u && !write && !*err; u = LLVMGetNextUse(u)) {
			LLVMValueRef user = LLVMGetUser(u);
			const char *fn;

			switch (value_opcode(user)) {
			case LLVMBitCast:
			case LLVMAddrSpaceCast:
			case LLVMGetElementPtr:
			case LLVMPHI:
			case LLVMSelect:
				if (!vals_has(&seen, user))
					*err = vals_push(&seen, user) ?: vals_push(&work, user);
				break;
			case LLVMLoad:
			case LLVMICmp:
				break;
			case LLVMCall:
				fn = called_name(user);
				if (!strncmp(fn, "llvm.dbg.", 9))
					break;
				if (!strncmp(fn, "llvm.memcpy.", 12) || !strncmp(fn, "llvm.memmove.", 13)) {
					/* source only: a read; destination (or both): a write */
					write = LLVMGetOperand(user, 0) == v || LLVMGetOperand(user, 1) != v;
					break;
				}
				write = true; /* memset, helpers, subprograms, unknown */
				break;
			default:
				/* store (as address or escaping value), atomicrmw,
				 * cmpxchg, ptrtoint, ret, anything else */
				write = true;
				break;
			}
		}
	}
	free(seen.v);
	free(work.v);
	return write;
}

/* Does call `c` (a BPF helper call) possibly change its map argument? */
static bool is_write_site(LLVMValueRef c, int *err)
{
	*err = 0;
	switch (helper_id(c)) {
	case BPF_FUNC_map_update_elem:
	case BPF_FUNC_map_delete_elem:
	case BPF_FUNC_map_push_elem:
	case BPF_FUNC_map_pop_elem:
	case BPF_FUNC_for_each_map_elem:
		return true;
	case BPF_FUNC_map_lookup_elem:
	case BPF_FUNC_map_lookup_percpu_elem:
		return may_write_through(c, err);
	default:
		return false;
	}
}

static int cmp_value_names(const void *a, const void *b)
{
	size_t la, lb;

	return strcmp(LLVMGetValueName2(*(LLVMValueRef const *)a, &la),
		      LLVMGetValueName2(*(LLVMValueRef const *)b, &lb));
}

/* Index of map global g in the sorted list, or n ("some map"). */
static uint32_t map_index(const struct vals *maps, LLVMValueRef g)
{
	for (size_t i = 0; i < maps->n; i++)
		if (maps->v[i] == g)
			return (uint32_t)i;
	return (uint32_t)maps->n;
}

/*
 * Add apiary_cov_writes and apiary_cov_wnames to the coverage section (with
 * BTF, so readers find them) and a store of 1 into a map's flag before
 * every call that may change the map (coverage.h has the contract).
 */
static int add_write_flags(LLVMModuleRef m, LLVMDIBuilderRef dib, LLVMMetadataRef cu,
			   struct apiary_cov_info *info)
{
	LLVMContextRef ctx = LLVMGetModuleContext(m);
	LLVMTypeRef i8 = LLVMInt8TypeInContext(ctx), i64 = LLVMInt64TypeInContext(ctx);
	struct vals maps = { 0 }, sites = { 0 };
	LLVMBuilderRef b = NULL;
	LLVMValueRef flags;
	LLVMTypeRef fty;
	char *blob = NULL;
	size_t blen = 0;
	uint32_t nflags;
	int err = 0;

	for (LLVMValueRef g = LLVMGetFirstGlobal(m); g && !err; g = LLVMGetNextGlobal(g))
		if (section_is(g, APIARY_MAPS_SECTION))
			err = vals_push(&maps, g);
	if (err)
		goto out;
	if (maps.n >= UINT32_MAX / 2) {
		err = -E2BIG;
		goto out;
	}
	if (maps.n)
		qsort(maps.v, maps.n, sizeof(*maps.v), cmp_value_names);
	for (size_t i = 0; i < maps.n; i++) {
		size_t len;
		const char *name = LLVMGetValueName2(maps.v[i], &len);
		char *nb = realloc(blob, blen + len + 1);

		if (!nb) {
			err = -ENOMEM;
			goto out;
		}
		blob = nb;
		memcpy(blob + blen, name, len);
		blob[blen + len] = '\0';
		blen += len + 1;
	}
	nflags = (uint32_t)maps.n + 1;

	/* the flags and the names, next to the counters */
	flags = add_section_bytes(m, dib, cu, APIARY_COV_WRITES, "unsigned char", DW_ATE_unsigned,
				  NULL, nflags, 8);
	fty = LLVMGlobalGetValueType(flags);
	/* no maps, no names: the kernel refuses BTF with a zero-sized variable
	 * (and libbpf would then load the object without any BTF) */
	if (blen)
		add_section_bytes(m, dib, cu, APIARY_COV_WNAMES, "char", DW_ATE_signed_char, blob,
				  blen, 1);

	/* the sites first, then the stores: the walk must not see them */
	for (LLVMValueRef f = LLVMGetFirstFunction(m); f && !err; f = LLVMGetNextFunction(f))
		for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb && !err;
		     bb = LLVMGetNextBasicBlock(bb))
			for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in && !err;
			     in = LLVMGetNextInstruction(in))
				if (LLVMIsACallInst(in) && is_write_site(in, &err))
					err = vals_push(&sites, in);
	if (err)
		goto out;
	b = LLVMCreateBuilderInContext(ctx);
	for (size_t i = 0; i < sites.n; i++) {
		LLVMValueRef call = sites.v[i];
		uint32_t idx = map_index(&maps, strip_ptr(LLVMGetOperand(call, 0)));
		LLVMValueRef gi[2] = { LLVMConstInt(i64, 0, 0), LLVMConstInt(i64, idx, 0) };
		LLVMValueRef p = LLVMConstInBoundsGEP2(fty, flags, gi, 2);

		LLVMPositionBuilderBefore(b, call);
		LLVMSetCurrentDebugLocation2(b, LLVMInstructionGetDebugLoc(call));
		LLVMBuildStore(b, LLVMConstInt(i8, 1, 0), p);
		info->nwrite_sites++;
		if (idx == maps.n)
			info->nunknown_sites++;
	}
	info->nmaps = (uint32_t)maps.n;
out:
	if (b)
		LLVMDisposeBuilder(b);
	free(blob);
	free(maps.v);
	free(sites.v);
	return err;
}

int apiary_cov_transform(struct LLVMOpaqueModule *mod, struct apiary_cov_info *info,
			 struct apiary_diags *d)
{
	LLVMModuleRef m = mod;
	LLVMContextRef ctx = LLVMGetModuleContext(m);
	LLVMTypeRef i8 = LLVMInt8TypeInContext(ctx), i32 = LLVMInt32TypeInContext(ctx);
	LLVMTypeRef i64 = LLVMInt64TypeInContext(ctx);
	struct vals dd = { 0 };
	LLVMValueRef *arrays = NULL, merged = NULL, marker, ctors;
	LLVMDIBuilderRef dib = NULL;
	LLVMMetadataRef cu;
	size_t narrays = 0;
	uint64_t total = 0, off = 0;
	int err = 0;

	memset(info, 0, sizeof(*info));

	/* 1. inventory: counters to keep, pc-tables to drop, modes we refuse */
	for (LLVMValueRef g = LLVMGetFirstGlobal(m); g; g = LLVMGetNextGlobal(g)) {
		if (section_is(g, SEC_GUARDS) || section_is(g, SEC_BOOLS)) {
			err = apiary_error(d, NULL,
					   "coverage: only -fsanitize-coverage=inline-8bit-counters "
					   "is supported for BPF (found %s)",
					   LLVMGetSection(g));
			goto out;
		}
		if (section_is(g, SEC_PCS)) {
			err = vals_push(&dd, g);
			info->npc_tables++;
		} else if (section_is(g, SEC_CNTRS)) {
			LLVMTypeRef t = LLVMGlobalGetValueType(g);
			LLVMValueRef *na = realloc(arrays, (narrays + 1) * sizeof(*na));

			if (!na || LLVMGetTypeKind(t) != LLVMArrayTypeKind ||
			    LLVMGetElementType(t) != i8) {
				free(na ? na : arrays);
				arrays = NULL;
				err = na ? apiary_error(d, NULL, "coverage: unexpected counter type")
					 : -ENOMEM;
				goto out;
			}
			arrays = na;
			arrays[narrays++] = g;
			total += LLVMGetArrayLength(t);
			err = vals_push(&dd, g);
		}
		if (err)
			goto out;
	}
	for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
		if (LLVMIsDeclaration(f) && name_starts(f, "__sanitizer_cov_trace") &&
		    LLVMGetFirstUse(f)) {
			size_t len;

			err = apiary_error(d, NULL,
					   "coverage: %s calls cannot run in BPF; use "
					   "-fsanitize-coverage=inline-8bit-counters only",
					   LLVMGetValueName2(f, &len));
			goto out;
		}
		if (!LLVMIsDeclaration(f) && name_starts(f, "sancov.module_ctor"))
			err = vals_push(&dd, f);
		if (err)
			goto out;
	}
	if (narrays == 0 && dd.n == 0)
		goto out; /* not instrumented: leave it alone */
	if (total > UINT32_MAX / 2) {
		err = apiary_error(d, NULL, "coverage: too many counters (%llu)",
				   (unsigned long long)total);
		goto out;
	}
	cu = find_cu(m);
	if (!cu) {
		err = apiary_error(d, NULL,
				   "coverage: the module has no debug info; compile with -g so "
				   "the counters' section gets BTF (libbpf needs it to mmap them)");
		goto out;
	}

	/* 2. constructors: only sancov's may exist in a BPF module */
	ctors = LLVMGetNamedGlobal(m, "llvm.global_ctors");
	err = filter_list(m, "llvm.global_ctors", &dd, true);
	err = err ?: filter_list(m, "llvm.used", &dd, false);
	err = err ?: filter_list(m, "llvm.compiler.used", &dd, false);
	if (err)
		goto out;
	ctors = LLVMGetNamedGlobal(m, "llvm.global_ctors");
	if (ctors) {
		err = apiary_error(d, NULL, "coverage: BPF has no module constructors, but "
					    "the module defines some besides SanitizerCoverage's");
		goto out;
	}
	for (size_t i = 0; i < dd.n; i++) {
		if (LLVMIsAFunction(dd.v[i])) {
			LLVMDeleteFunction(dd.v[i]);
			dd.v[i] = NULL;
		}
	}

	/* 3. one array for all counters, plus the marker with BTF */
	dib = LLVMCreateDIBuilderDisallowUnresolved(m);
	marker = LLVMAddGlobal(m, i32, APIARY_COV_MARKER);
	LLVMSetInitializer(marker, LLVMConstInt(i32, total, 0));
	LLVMSetSection(marker, APIARY_COV_SECTION);
	LLVMSetAlignment(marker, 4);
	LLVMSetLinkage(marker, LLVMExternalLinkage);
	{
		LLVMMetadataRef u32 = LLVMDIBuilderCreateBasicType(dib, "unsigned int", 12, 32,
								   DW_ATE_unsigned, LLVMDIFlagZero);
		LLVMMetadataRef vu32 = LLVMDIBuilderCreateQualifiedType(dib, DW_TAG_volatile_type,
									u32);

		attach_dbg(m, dib, cu, marker, APIARY_COV_MARKER, vu32, false, 32);
	}
	if (total)
		merged = add_section_bytes(m, dib, cu, APIARY_COV_COUNTERS, "unsigned char",
					   DW_ATE_unsigned, NULL, total, 8);
	for (size_t i = 0; i < narrays; i++) {
		LLVMValueRef old = arrays[i];
		uint64_t n = LLVMGetArrayLength(LLVMGlobalGetValueType(old));
		LLVMValueRef idx[2] = { LLVMConstInt(i64, 0, 0), LLVMConstInt(i64, off, 0) };
		LLVMValueRef p = LLVMConstInBoundsGEP2(LLVMGlobalGetValueType(merged), merged, idx, 2);

		LLVMReplaceAllUsesWith(old, LLVMConstBitCast(p, LLVMTypeOf(old)));
		off += n;
	}

	/* 3b. map write flags, next to the counters */
	if (total) {
		err = add_write_flags(m, dib, cu, info);
		if (err == -E2BIG)
			err = apiary_error(d, NULL, "coverage: too many maps");
		if (err)
			goto out;
	}

	/* 4. section bounds: used only by the constructor, but rewrite any other
	 * use to the merged array so nothing dangles */
	replace_bound(m, "__start_" SEC_CNTRS, merged, 0);
	replace_bound(m, "__stop_" SEC_CNTRS, merged, (uint32_t)total);
	replace_bound(m, "__start_" SEC_PCS, NULL, 0);
	replace_bound(m, "__stop_" SEC_PCS, NULL, 0);
	if (LLVMGetNamedGlobal(m, "__start_" SEC_PCS) || LLVMGetNamedGlobal(m, "__stop_" SEC_PCS)) {
		err = apiary_error(d, NULL, "coverage: the pc-table bounds are used outside "
					    "SanitizerCoverage's constructor");
		goto out;
	}

	/* 5. delete the old arrays and pc-tables; drop the init declarations */
	for (size_t i = 0; i < dd.n; i++) {
		if (!dd.v[i])
			continue;
		if (LLVMGetFirstUse(dd.v[i])) {
			size_t len;

			err = apiary_error(d, NULL, "coverage: %s is still used after the rewrite",
					   LLVMGetValueName2(dd.v[i], &len));
			goto out;
		}
		LLVMDeleteGlobal(dd.v[i]);
		dd.v[i] = NULL;
	}
	for (LLVMValueRef f = LLVMGetFirstFunction(m), next; f; f = next) {
		next = LLVMGetNextFunction(f);
		if (LLVMIsDeclaration(f) && name_starts(f, "__sanitizer_cov_") && !LLVMGetFirstUse(f))
			LLVMDeleteFunction(f);
	}

	/* 6. sancov put functions and counters in comdats; BPF objects have no
	 * use for section groups */
	for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f))
		if (LLVMGetComdat(f))
			LLVMSetComdat(f, NULL);
	for (LLVMValueRef g = LLVMGetFirstGlobal(m); g; g = LLVMGetNextGlobal(g))
		if (LLVMGetComdat(g))
			LLVMSetComdat(g, NULL);

	LLVMDIBuilderFinalize(dib);
	info->ncounters = (uint32_t)total;
	info->narrays = (uint32_t)narrays;
	info->map_name = APIARY_COV_SECTION;
out:
	if (dib)
		LLVMDisposeDIBuilder(dib);
	free(arrays);
	free(dd.v);
	return err;
}

/* Initialize the BPF target once (LLVM keeps a global registry). */
static int init_bpf_target(void)
{
	static int done;

	if (!done) {
		LLVMInitializeBPFTargetInfo();
		LLVMInitializeBPFTarget();
		LLVMInitializeBPFTargetMC();
		LLVMInitializeBPFAsmPrinter();
		done = 1;
	}
	return 0;
}

/* Emit module m as a BPF ELF object at path with the in-process backend. */
static int emit_object(LLVMModuleRef m, const char *path, const char *cpu,
		       struct apiary_diags *d)
{
	LLVMTargetRef target;
	LLVMTargetMachineRef tm;
	char *msg = NULL, *triple = strdup(LLVMGetTarget(m));
	int err = 0;

	init_bpf_target();
	if (!triple)
		return -ENOMEM;
	if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
		err = apiary_error(d, NULL, "coverage: no LLVM target for '%s': %s", triple,
				   msg ? msg : "?");
		goto out;
	}
	tm = LLVMCreateTargetMachine(target, triple, cpu, "", LLVMCodeGenLevelDefault,
				     LLVMRelocDefault, LLVMCodeModelDefault);
	if (!tm) {
		err = apiary_error(d, NULL, "coverage: cannot create a BPF target machine");
		goto out;
	}
	if (LLVMTargetMachineEmitToFile(tm, m, (char *)path, LLVMObjectFile, &msg))
		err = apiary_error(d, NULL, "coverage: emitting %s failed: %s", path,
				   msg ? msg : "?");
	LLVMDisposeTargetMachine(tm);
out:
	LLVMDisposeMessage(msg);
	free(triple);
	return err;
}

int apiary_cov_compile_ir(const char *ir_path, const char *obj_path,
			  const struct apiary_cov_opts *opts, struct apiary_cov_info *info,
			  struct apiary_diags *d)
{
	const char *cpu = opts && opts->cpu ? opts->cpu : "generic";
	LLVMContextRef ctx = LLVMContextCreate();
	LLVMMemoryBufferRef buf = NULL;
	LLVMModuleRef m = NULL;
	char *msg = NULL;
	int err;

	memset(info, 0, sizeof(*info));
	if (LLVMCreateMemoryBufferWithContentsOfFile(ir_path, &buf, &msg)) {
		err = apiary_error(d, NULL, "coverage: cannot read %s: %s", ir_path,
				   msg ? msg : "?");
		goto out;
	}
	/* takes ownership of buf */
	if (LLVMParseIRInContext(ctx, buf, &m, &msg)) {
		err = apiary_error(d, NULL, "coverage: %s is not LLVM IR: %s", ir_path,
				   msg ? msg : "?");
		goto out;
	}
	err = apiary_cov_transform(m, info, d);
	if (err)
		goto out;
	if (LLVMVerifyModule(m, LLVMReturnStatusAction, &msg)) {
		err = apiary_error(d, NULL, "coverage: transformed module is invalid: %s",
				   msg ? msg : "?");
		goto out;
	}
	LLVMDisposeMessage(msg);
	msg = NULL;
	if (opts && opts->sz >= sizeof(*opts) && opts->bitcode) {
		if (LLVMWriteBitcodeToFile(m, obj_path))
			err = apiary_error(d, NULL, "coverage: cannot write %s", obj_path);
	} else {
		err = emit_object(m, obj_path, cpu, d);
	}
out:
	LLVMDisposeMessage(msg);
	if (m)
		LLVMDisposeModule(m);
	LLVMContextDispose(ctx);
	return err;
}

/* Run argv, its stderr into a temporary file that becomes a diagnostic's
 * detail when it fails. */
static int run_tool(char *const argv[], struct apiary_diags *d)
{
	posix_spawn_file_actions_t fa;
	char errpath[] = "/tmp/apiary-cov-XXXXXX";
	int fd = mkstemp(errpath), status, err = 0;
	pid_t pid;

	if (fd < 0)
		return -errno;
	unlink(errpath);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, STDERR_FILENO);
	err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		err = apiary_error(d, NULL, "coverage: cannot run %s: %s", argv[0], strerror(err));
		goto out;
	}
	if (waitpid(pid, &status, 0) < 0) {
		err = -errno;
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char text[4096];
		ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

		text[n > 0 ? n : 0] = '\0';
		err = apiary_error(d, NULL, "coverage: %s failed (status %d)", argv[0],
				   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		apiary_diag_set_detail(d, text);
	}
out:
	close(fd);
	return err;
}

int apiary_cov_compile_c(const char *src_path, const char *obj_path,
			 const char *const *extra_cflags, const struct apiary_cov_opts *opts,
			 struct apiary_cov_info *info, struct apiary_diags *d)
{
	const char *clang = opts && opts->clang ? opts->clang : "clang";
	const char *base[] = { clang, "-target", "bpf", "-O2", "-g", APIARY_COV_CFLAGS,
			       "-I" APIARY_BPF_MULTIARCH, "-emit-llvm", "-c" };
	size_t nbase = sizeof(base) / sizeof(base[0]), nextra = 0, k = 0;
	char *ir = NULL;
	char **argv = NULL;
	int err;

	memset(info, 0, sizeof(*info));
	while (extra_cflags && extra_cflags[nextra])
		nextra++;
	if (asprintf(&ir, "%s.cov.bc", obj_path) < 0)
		return -ENOMEM;
	argv = calloc(nbase + nextra + 4, sizeof(*argv));
	if (!argv) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nbase; i++)
		argv[k++] = (char *)base[i];
	for (size_t i = 0; i < nextra; i++)
		argv[k++] = (char *)extra_cflags[i];
	argv[k++] = (char *)src_path;
	argv[k++] = "-o";
	argv[k++] = ir;
	err = run_tool(argv, d);
	err = err ?: apiary_cov_compile_ir(ir, obj_path, opts, info, d);
	unlink(ir);
out:
	free(argv);
	free(ir);
	return err;
}
