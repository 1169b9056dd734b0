/* SPDX-License-Identifier: MIT */
/*
 * apiary-fuzz: the per-input execution core shared by the AFL++ and
 * libFuzzer drivers, the in-kernel coverage reader, and pcap import.
 * The input format itself is in input.h. Design notes: fuzz/README.md.
 *
 * One execution: decode the engine's bytes into a struct apiary_input
 * (lenient: every byte string is some input), zero the in-kernel counters,
 * let an executor run the input, then copy the counters into the engine's
 * coverage map followed by an outcome signature (verdicts, who ran, map
 * delta shape, rewritten bytes) for what has no counters (prebuilt
 * objects). The path is allocation-free: everything is sized at setup.
 */
#ifndef APIARY_FUZZ_H
#define APIARY_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apiary/compiler.h"
#include "apiary/diag.h"
#include "apiary/input.h"
#include "apiary/runtime.h"
#include "apiary/spec.h"

/* ---- in-kernel coverage of a loaded object ---------------------------- */

struct bpf_object;

/* The mmap'ed counters of one loaded object built by apiary_cov_*()
 * (coverage.h). Counters are read and zeroed through the mapping:
 * bpf_map__initial_value() after load is a stale copy. */
struct apiary_cov_map {
	int fd;                     /* the map's fd (owned by the bpf_object) */
	void *mem;                  /* mmap of the whole value */
	size_t mem_len;
	volatile uint8_t *counters; /* mem + offset of apiary_cov_cntrs */
	uint32_t ncounters;
	const char *name;           /* bpf_map__name() */
	/* map write flags (coverage.h); nwrites == 0: the object has none */
	volatile uint8_t *writes;   /* mem + offset of apiary_cov_writes */
	uint32_t nwrites;           /* listed maps + 1 ("some map", last) */
	const char *wnames;         /* mem + offset of apiary_cov_wnames */
	uint32_t wnames_len;
};

/* Map the coverage section of a loaded object. -ENOENT: the object has no
 * coverage section (a prebuilt object); other negative errno on failure. */
int apiary_cov_map_open(struct bpf_object *obj, struct apiary_cov_map *m);
void apiary_cov_map_close(struct apiary_cov_map *m);
/* Index of the write flag of the object's map `map_name` in m->writes, or
 * -ENOENT when the object has no write flags or does not list that map
 * (then nothing can be said: treat the map as possibly written). */
int apiary_cov_map_write_index(const struct apiary_cov_map *m, const char *map_name);
/* Address (in the mapping) and size of variable `var` of obj's coverage
 * section, e.g. the sidecar's "apiary_flow_epoch"; NULL if absent. */
volatile void *apiary_cov_map_var(const struct apiary_cov_map *m, struct bpf_object *obj,
				  const char *var, uint32_t *size);

/* ---- executors ------------------------------------------------------- */

struct apiary_harness;

/*
 * What runs an input. Today: a plain list of BPF programs
 * (apiary_plain_executor); after integration: the Apiary runtime and
 * checker. run() executes every event of the input and reports what it
 * saw through apiary_harness_note_*(); it must not allocate if the
 * per-execution path is to stay allocation-free.
 */
struct apiary_executor {
	const char *name;
	void *ctx;
	/* Put state back to where every input starts (maps restored). May be NULL. */
	int (*reset)(void *ctx);
	/* Run all events of `in`. 0, or a negative errno (an infrastructure
	 * failure, not a finding). */
	int (*run)(void *ctx, struct apiary_harness *h, const struct apiary_input *in);
	/* Some of what runs has no counters: feed the outcome signature. */
	bool has_uncovered;
};

/* ---- harness --------------------------------------------------------- */

#define APIARY_SIG_DEFAULT_SIZE 512

enum apiary_sig_mode {
	APIARY_SIG_AUTO, /* on iff the executor has uncovered parts */
	APIARY_SIG_ON,
	APIARY_SIG_OFF,
};

struct apiary_harness_opts {
	size_t sz;                /* sizeof(struct apiary_harness_opts) */
	enum apiary_sig_mode sig; /* outcome signature as extra coverage */
	size_t sig_size;          /* bytes of its region; 0: APIARY_SIG_DEFAULT_SIZE */
};

int apiary_harness_new(const struct apiary_executor *ex, const struct apiary_harness_opts *opts,
		       struct apiary_harness **out);
void apiary_harness_free(struct apiary_harness *h);

/* Add a counter region (a struct apiary_cov_map's counters); it occupies
 * the next n bytes of the engine map. Returns its offset there. Setup only. */
long apiary_harness_add_counters(struct apiary_harness *h, volatile uint8_t *counters,
				 uint32_t n);
/* Bytes of the engine map the harness writes: counters, then signature. */
size_t apiary_harness_map_size(const struct apiary_harness *h);
size_t apiary_harness_ncounters(const struct apiary_harness *h);

struct apiary_exec_result {
	int err;             /* executor's error (negative errno), 0 if fine */
	bool decoded;        /* false: not an apiary input (magic/version); nothing ran */
	uint32_t nevents;    /* events run */
	uint32_t violations; /* violations the executor reported for this input */
	int first_violation; /* kind passed to the first apiary_harness_note_violation() */
};

/*
 * Run one engine test case. map receives apiary_harness_map_size() bytes
 * (map_size must be at least that; bytes beyond are left alone). Returns
 * res->err. Allocation-free.
 */
int apiary_harness_exec(struct apiary_harness *h, const uint8_t *buf, size_t len, uint8_t *map,
			size_t map_size, struct apiary_exec_result *res);

/* Called by executors while they run an input. */
void apiary_harness_note_outcome(struct apiary_harness *h, size_t event_index,
				 const struct apiary_event *ev, const struct apiary_outcome *out);
void apiary_harness_note_delta(struct apiary_harness *h, const struct apiary_delta *delta);
void apiary_harness_note_violation(struct apiary_harness *h, int kind);
/* Any other feature worth telling apart (hashed into the signature). */
void apiary_harness_note_feature(struct apiary_harness *h, uint64_t feature);

/* The input being executed (decoded in place; valid during run()). */
const struct apiary_input *apiary_harness_input(const struct apiary_harness *h);

/* ---- the plain executor: a list of BPF objects, no runtime ------------ */

/*
 * Loads each object with libbpf, maps its coverage section, and runs an
 * event through every program of the event's hook type (XDP for xdp,
 * SEC("tc") for tc.*) in list order as a chain: a continue verdict
 * (XDP_PASS, TC_ACT_OK, TC_ACT_UNSPEC) hands the rewritten frame to the
 * next program. Enforcer index in the trace = program's position.
 * Violation marker: an XDP program returning opts->violation_xdp
 * (XDP_ABORTED unless set); the chain stops there, as in the kernel.
 */
struct apiary_plain_opts {
	size_t sz;          /* sizeof(struct apiary_plain_opts) */
	int violation_xdp;  /* XDP verdict that marks a violation; 0 = XDP_ABORTED */
	bool no_violation;  /* no verdict marks a violation */
};

struct apiary_plain;
int apiary_plain_open(const char *const *objects, size_t n, const struct apiary_plain_opts *opts,
		      struct apiary_plain **out, struct apiary_diags *diags);
void apiary_plain_free(struct apiary_plain *p);
/* The executor view (ctx = p) and wiring of its counters into h. */
void apiary_plain_executor(struct apiary_plain *p, struct apiary_executor *ex);
int apiary_plain_attach(struct apiary_plain *p, struct apiary_harness *h);
/* Both at once, as the drivers and benchmarks run objects: the objects
 * opened and a harness on them with their counters attached. On failure
 * nothing is left open (*p and *h NULL). */
int apiary_plain_harness_open(const char *const *objects, size_t n,
			      const struct apiary_plain_opts *opts, struct apiary_plain **p,
			      struct apiary_harness **h, struct apiary_diags *diags);
size_t apiary_plain_nprogs(const struct apiary_plain *p);
/* BPF_PROG_TEST_RUNs made so far. */
uint64_t apiary_plain_runs(const struct apiary_plain *p);
int apiary_plain_prog_fd(const struct apiary_plain *p, size_t i);
const struct apiary_cov_map *apiary_plain_cov(const struct apiary_plain *p, size_t object);

/* ---- the runtime executor: a loaded bundle ---------------------------- */

/*
 * Runs an input through a loaded bundle as apiary-check does: every event
 * through its hook's dispatcher and on along the forwarding path (xdp ->
 * tc.ingress -> tc.egress) while the verdict continues; the input's
 * ordering byte picks one allowed ordering (mixed radix over the hooks,
 * at most 256 orderings per hook); before event update_at every enforcer
 * with an `update` routes new flows to it (pinned). Reset puts state and
 * routes back as at open, allocation-free unless a map that cannot be
 * mmap'ed differs (then apiary_rt_restore()). Counters: the sidecar's and
 * every program's coverage section; programs without one (prebuilt) turn
 * the outcome signature on.
 */
struct apiary_rt_exec_opts {
	size_t sz;        /* sizeof(struct apiary_rt_exec_opts) */
	bool no_counters; /* register no counters: the engines see only the outcome
			   * signature (benchmarks: coverage copying switched off) */
	bool trace;       /* read the trace back on every run even if unused */
	bool no_reset;    /* state carries over between inputs (benchmarks only:
			   * measures the harness without the reset's syscalls) */
	bool exact;       /* no shortcuts: every reset reads every map, every hook
			   * runs (tests compare the shortcuts against this) */
};

struct apiary_rt_exec;
/* The state of rt at this call is what every reset returns to. */
int apiary_rt_exec_open(const struct apiary_spec *spec, struct apiary_rt *rt,
			const struct apiary_rt_exec_opts *opts, struct apiary_rt_exec **out,
			struct apiary_diags *diags);
void apiary_rt_exec_free(struct apiary_rt_exec *x);
void apiary_rt_exec_executor(struct apiary_rt_exec *x, struct apiary_executor *ex);
int apiary_rt_exec_attach(struct apiary_rt_exec *x, struct apiary_harness *h);
/* Counters of (enforcer, vslot); enforcer -1: the sidecar. 0: none (the
 * outcome signature is its only feedback). */
uint32_t apiary_rt_exec_counters(const struct apiary_rt_exec *x, int enforcer, int vslot);
size_t apiary_rt_exec_norderings(const struct apiary_rt_exec *x);
/* Someone else ran the bundle (the checker): chains and routes are unknown,
 * state is back as at open; the next execution rewrites what it needs. */
void apiary_rt_exec_forget(struct apiary_rt_exec *x);
/* A process forked from the one that opened x after another child ran
 * (AFL++'s fork server): chains, routes and the flow table's count are
 * unknown here; state maps are read back anyway. */
void apiary_rt_exec_new_process(struct apiary_rt_exec *x);
/* Put state and routes back as at open now (what every execution does
 * first), e.g. before handing the bundle to the checker. */
int apiary_rt_exec_reset(struct apiary_rt_exec *x);
/* Resets that needed apiary_rt_restore(). */
uint64_t apiary_rt_exec_slow_resets(const struct apiary_rt_exec *x);
/* Test runs the kernel refused (-EINVAL at a tc hook: an IPv4/IPv6 frame
 * shorter than its IP header); the event's path ends there. */
uint64_t apiary_rt_exec_refused(const struct apiary_rt_exec *x);
/* Test runs so far (one per hook an event reached). */
uint64_t apiary_rt_exec_runs(const struct apiary_rt_exec *x);
/* Hops left out (an empty chain after the classifier's hook, same frame). */
uint64_t apiary_rt_exec_skipped_hooks(const struct apiary_rt_exec *x);
/* Maps resets read back (syscalls); the others had no write flag set. */
uint64_t apiary_rt_exec_maps_read(const struct apiary_rt_exec *x);
/* The flow table's current epoch (fuzzing builds), -1 without one. */
int64_t apiary_rt_exec_flow_epoch(const struct apiary_rt_exec *x);

/* ---- a fuzzing target: spec + compiled bundle + harness --------------- */

/*
 * What an engine's target process holds. Opening reads the build that
 * apiary-fuzz compiled (BUILD_DIR/apiary.json: the same objects, so the
 * same bundle hash) instead of compiling again, loads it pinned to `cpu`,
 * and wires the runtime executor into a harness.
 */
struct apiary_fuzz_target {
	struct apiary_spec *spec;
	struct apiary_build *build;
	struct apiary_rt *rt;
	struct apiary_rt_exec *exec;
	struct apiary_harness *harness;
	bool owns_bundle; /* spec and build were loaded by open (freed by close) */
};

struct apiary_fuzz_target_opts {
	size_t sz;        /* sizeof(struct apiary_fuzz_target_opts) */
	int cpu;          /* -1: CPU 0 */
	bool no_counters; /* as apiary_rt_exec_opts */
	uint32_t max_flows; /* apiary_flows size; 0: APIARY_FUZZ_MAX_FLOWS */
	bool exact;       /* as apiary_rt_exec_opts (tests) */
};

/* Flow table size the fuzzing targets load with (apiary_rt_opts.max_flows). */
#define APIARY_FUZZ_MAX_FLOWS 1024

int apiary_fuzz_target_open(const char *spec_path, const char *build_dir,
			    const struct apiary_fuzz_target_opts *opts,
			    struct apiary_fuzz_target *t, struct apiary_diags *diags);
/* The same from a spec and build the caller has (borrowed). */
int apiary_fuzz_target_attach(struct apiary_spec *spec, struct apiary_build *build,
			      const struct apiary_fuzz_target_opts *opts,
			      struct apiary_fuzz_target *t, struct apiary_diags *diags);
/* Frees what open/attach created. */
void apiary_fuzz_target_close(struct apiary_fuzz_target *t);

/* A driver's on/off setting from the environment: set, not "" and not "0". */
bool apiary_fuzz_env_flag(const char *name);

/* A shared execution counter for the campaign's progress line: the file
 * named by $APIARY_FUZZ_STATS, mmap'ed (the engines' forked children share
 * it). NULL if the variable is unset or the file cannot be mapped. */
volatile uint64_t *apiary_fuzz_exec_counter(void);

/* Slots of that page (64-bit counters). */
enum apiary_fuzz_stat {
	APIARY_FUZZ_STAT_EXECS,     /* executions */
	APIARY_FUZZ_STAT_RUNS,      /* BPF_PROG_TEST_RUNs they made */
	APIARY_FUZZ_STAT_MAP_READS, /* maps resets read back (syscalls) */
	APIARY_FUZZ_STAT_SKIPPED,   /* empty hops left out */
	APIARY_FUZZ_NSTATS,
};

/* After one execution: count it, and what the executor (x for a bundle,
 * else p for plain objects) did since the totals in seen (this process's;
 * a forked child inherits them), into the shared page (stats may be NULL:
 * nothing to do). */
struct apiary_rt_exec;
void apiary_fuzz_count_exec(volatile uint64_t *stats, const struct apiary_rt_exec *x,
			    const struct apiary_plain *p, uint64_t seen[APIARY_FUZZ_NSTATS]);

/* A build described by out_dir/apiary.json (written by apiary_compile)
 * for this spec; apiary_build_free() releases it. */
int apiary_build_from_metadata(const struct apiary_spec *spec, const char *out_dir,
			       struct apiary_build **out, struct apiary_diags *diags);

/* ---- pcap import ----------------------------------------------------- */

/*
 * Read a pcap file (Ethernet link type only) into inputs: one event per
 * packet at `hook`, at most APIARY_INPUT_MAX_EVENTS per input (a longer
 * capture spills into further inputs); frames longer than
 * APIARY_INPUT_MAX_FRAME are cut. *out is a malloc'd array of *n inputs.
 */
int apiary_pcap_read(const char *path, enum apiary_hook hook, size_t events_per_input,
		     struct apiary_input **out, size_t *n, struct apiary_diags *diags);

#endif
