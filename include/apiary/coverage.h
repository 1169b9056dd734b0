/* SPDX-License-Identifier: MIT */
/*
 * In-kernel coverage for fuzzing. A BPF translation unit compiled with
 * APIARY_COV_CFLAGS to LLVM IR carries SanitizerCoverage's inline 8-bit
 * counters, but also a module constructor and __start/__stop section
 * bounds that the BPF backend cannot lower (clang 14 crashes on them).
 * apiary_cov_transform() rewrites the module so the counters become one
 * array in the data section APIARY_COV_SECTION, next to a real global with
 * BTF (APIARY_COV_MARKER), which is what libbpf 1.1 needs to create the
 * section's map BPF_F_MMAPABLE. User space then mmaps that map and reads
 * the counters while the program runs inside the kernel.
 *
 * Layout of the section (described by BTF, so readers look it up there):
 *   volatile __u32 apiary_cov_marker;          number of counters
 *   static __u8 apiary_cov_cntrs[ncounters];   one per instrumented edge
 *   static __u8 apiary_cov_writes[nmaps + 1];  map write flags (below)
 *   static char apiary_cov_wnames[];           the maps' names, each ended by '\0'
 *                                              (absent without maps: BTF has no
 *                                              zero-sized variables)
 *
 * Map write flags let a fuzzing executor skip resetting maps nobody wrote
 * (a reset costs syscalls; a test run is ~2 us). The pass lists every map
 * of the module (globals in section ".maps", by name, in index order in
 * apiary_cov_wnames) and, before every instruction that may change one,
 * stores 1 into its flag: calls of bpf_map_update_elem, _delete_elem,
 * _push_elem, _pop_elem, bpf_for_each_map_elem (the callback gets value
 * pointers), and bpf_map_lookup_elem / _lookup_percpu_elem whose result
 * may be written through (stored to, atomically updated, memset/memcpy
 * destination, passed to a call, or escaping). A map argument the pass
 * cannot resolve to one map global sets the last flag, "some map". Flags
 * over-approximate (set before the call, also when it fails): a zero flag
 * means the object did not change that map in this run.
 */
#ifndef APIARY_COVERAGE_H
#define APIARY_COVERAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apiary/diag.h"

/* libbpf names the map of a custom data section after the section. */
#define APIARY_COV_SECTION ".data.apiary_cov"
#define APIARY_COV_MARKER "apiary_cov_marker"
#define APIARY_COV_COUNTERS "apiary_cov_cntrs"
#define APIARY_COV_WRITES "apiary_cov_writes"
#define APIARY_COV_WNAMES "apiary_cov_wnames"
/* Section of the maps libbpf creates from map definitions. */
#define APIARY_MAPS_SECTION ".maps"
/* Add to the clang command line that produces the IR (with -g -O2
 * -target bpf -emit-llvm). */
#define APIARY_COV_CFLAGS "-fsanitize-coverage=inline-8bit-counters"

struct apiary_cov_info {
	uint32_t ncounters;  /* 0: the module had no counters; nothing changed */
	uint32_t narrays;    /* per-function counter arrays merged */
	uint32_t npc_tables; /* pc-tables dropped (pc-table is meaningless in BPF) */
	const char *map_name; /* APIARY_COV_SECTION when ncounters > 0, else NULL */
	uint32_t nmaps;       /* maps listed in apiary_cov_wnames (flags: nmaps + 1) */
	uint32_t nwrite_sites; /* instructions that set a write flag */
	uint32_t nunknown_sites; /* of which set the "some map" flag */
};

/* LLVMModuleRef without pulling the LLVM headers into every user. */
struct LLVMOpaqueModule;

/*
 * The IR pass: rewrite `mod` in place as described above. A module without
 * SanitizerCoverage counters is left alone (info->ncounters == 0). Errors
 * (no debug info, unsupported sancov modes such as trace-pc-guard) go to
 * diags with -EINVAL.
 */
int apiary_cov_transform(struct LLVMOpaqueModule *mod, struct apiary_cov_info *info,
			 struct apiary_diags *diags);

/* Code generation options for apiary_cov_compile_ir(). */
struct apiary_cov_opts {
	size_t sz;        /* sizeof(struct apiary_cov_opts) */
	const char *cpu;  /* BPF CPU ("generic", "v2", "v3"); NULL: "generic" as clang */
	const char *clang; /* for apiary_cov_compile_c(); NULL: "clang" on PATH */
	bool bitcode;     /* write the transformed module as bitcode (for llc) instead of an object */
};

/*
 * IR file (text or bitcode) in, BPF ELF object out: parse, transform, emit
 * with the in-process BPF TargetMachine. opts may be NULL.
 */
int apiary_cov_compile_ir(const char *ir_path, const char *obj_path,
			  const struct apiary_cov_opts *opts, struct apiary_cov_info *info,
			  struct apiary_diags *diags);

/*
 * Convenience for tests, benchmarks and prebuilt-from-source enforcers:
 * run clang on a BPF C file with coverage flags (plus extra_cflags, a
 * NULL-terminated list, may be NULL) to IR next to obj_path, then
 * apiary_cov_compile_ir(). clang's messages end up in diags.
 */
int apiary_cov_compile_c(const char *src_path, const char *obj_path,
			 const char *const *extra_cflags, const struct apiary_cov_opts *opts,
			 struct apiary_cov_info *info, struct apiary_diags *diags);

#endif
