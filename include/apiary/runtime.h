/* SPDX-License-Identifier: MIT */
/*
 * The one loader: check, fuzz and deploy all load a compiled bundle through
 * apiary_rt_load(), so what was tested is byte for byte what is deployed.
 *
 * Loading: sidecar.bpf.o first (it owns the shared maps), then every
 * program's object with the shared maps reused by name (bpf_map__reuse_fd),
 * `config`/`global` entries of the spec applied (typed through BTF, raw bytes
 * as fallback), program fds placed in apiary_progs, default chains (the
 * spec's order) written to apiary_chain. A verifier rejection becomes a
 * diagnostic naming the enforcer, the failing C source line (from BTF line
 * info) and the verifier's last lines with a plain explanation.
 */
#ifndef APIARY_RUNTIME_H
#define APIARY_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apiary/abi.h"
#include "apiary/compiler.h"
#include "apiary/diag.h"
#include "apiary/input.h"

struct apiary_rt;

struct apiary_rt_opts {
	size_t sz;  /* sizeof(struct apiary_rt_opts) */
	int cpu;    /* pin the calling thread to this CPU for test runs (per-CPU ctx); -1: CPU 0 */
	bool no_config; /* skip the spec's config/global entries */
	/* apiary_flows entries (0: as compiled, 65536). apiary-fuzz loads with
	 * a small table: an input creates at most a few flows, and resetting
	 * a hash map costs a walk over all its buckets. */
	uint32_t max_flows;
};

int apiary_rt_load(const struct apiary_build *b, const struct apiary_rt_opts *opts,
		   struct apiary_rt **out, struct apiary_diags *diags);
void apiary_rt_free(struct apiary_rt *rt);

/* Set the order run at `hook`: enforcer indexes (spec order numbering). */
int apiary_rt_set_chain(struct apiary_rt *rt, enum apiary_hook hook, const int *enforcers,
			size_t n);
/* Version routing of one enforcer: default slot for new flows, and mode
 * APIARY_ROUTE_PINNED or APIARY_ROUTE_NAIVE. */
int apiary_rt_set_route(struct apiary_rt *rt, int enforcer, int default_vslot, int mode);

/* What one packet did at one hook. */
struct apiary_outcome {
	uint32_t hook;      /* enum apiary_hook the event ran at */
	int verdict;        /* the hook's final verdict */
	uint32_t len;       /* output frame length */
	uint8_t data[APIARY_INPUT_MAX_FRAME + 512]; /* room for encapsulation */
	uint32_t ntrace;
	struct apiary_trace_ent trace[APIARY_MAX_TRACE]; /* who ran, in order, with verdicts */
	uint64_t flow_id;
	uint32_t direction;
	uint32_t matched;
};

/* Run one event through its hook's dispatcher under BPF_PROG_TEST_RUN
 * (repeat = 1). Returns 0, or a negative errno from the kernel. */
int apiary_rt_run(struct apiary_rt *rt, const struct apiary_event *ev, struct apiary_outcome *out);

/* ---- state ----------------------------------------------------------- */

/* The bundle's state: declared state maps, apiary_flows, and every map of
 * every enforcer object (their own state); not the sidecar's scratch maps
 * (ctx, progs, chain, routes). */
size_t apiary_rt_nmaps(const struct apiary_rt *rt);
const char *apiary_rt_map_name(const struct apiary_rt *rt, size_t i);
/* -1 for maps shared by the bundle (declared state, flows); otherwise the
 * index of the enforcer whose object defines it. */
int apiary_rt_map_owner(const struct apiary_rt *rt, size_t i);
/* Does the program of (enforcer, vslot) reference map i (may read or write)? */
bool apiary_rt_prog_uses_map(const struct apiary_rt *rt, int enforcer, int vslot, size_t i);

struct apiary_snapshot;
int apiary_rt_snapshot(struct apiary_rt *rt, struct apiary_snapshot **out);
/* Put every state map back exactly as in the snapshot (entries added since
 * are deleted). */
int apiary_rt_restore(struct apiary_rt *rt, const struct apiary_snapshot *snap);
void apiary_snapshot_free(struct apiary_snapshot *snap);

/* One changed entry; before == NULL: added, after == NULL: deleted. */
struct apiary_map_change {
	size_t map; /* index as in apiary_rt_map_name() */
	uint32_t key_size, value_size;
	uint8_t *key;
	uint8_t *before;
	uint8_t *after;
};

struct apiary_delta {
	struct apiary_map_change *changes;
	size_t n;
};

/* Differences from a to b, sorted by (map, key) so deltas compare with
 * apiary_delta_equal(). */
int apiary_snapshot_diff(const struct apiary_snapshot *a, const struct apiary_snapshot *b,
			 struct apiary_delta *out);
bool apiary_delta_equal(const struct apiary_delta *a, const struct apiary_delta *b);
void apiary_delta_free(struct apiary_delta *d);

/* ---- updates --------------------------------------------------------- */

/* The flow-to-version table's logical clock (apiary_pins.now, abi.h): the
 * idle timeout counts its ticks. Deploy writes a coarse clock; the checker
 * writes the event index, so runs are deterministic. */
int apiary_rt_set_clock(struct apiary_rt *rt, uint64_t now);
/* Read the table's clock and counters; reset zeroes the counters. */
int apiary_rt_pins(struct apiary_rt *rt, struct apiary_pins *out, bool reset);

/* One entry of a migration: the old bytes, the new bytes built from them,
 * and whether the new map took them. */
struct apiary_migrate_entry {
	uint8_t *key;
	uint8_t *old_value;
	uint8_t *new_value;
	int err;           /* 0, or the kernel's error writing the new map (entry lost) */
	char problem[160]; /* "" or a value that did not survive ("hits 70000 does not fit in 2 bytes") */
};

struct apiary_migrate_result {
	size_t old_map, new_map; /* indexes as in apiary_rt_map_name() */
	uint32_t key_size, old_size, new_size;
	struct apiary_migrate_entry *entries;
	size_t n;
	size_t lost;        /* entries the new map did not take */
	size_t unfaithful;  /* entries with a problem */
	char unassigned[256]; /* new fields no assignment sets, comma separated ("" if none) */
};

/*
 * Run `migrate state X from A to B` on the loaded bundle: every entry of the
 * old version's map X (object of slot 0) is converted field by field (BTF of
 * both objects) and written into the new version's map X (slot 1). Spec
 * errors (unknown fields, shared state, no BTF) go to diags as -EINVAL; what
 * happened to each entry is in res (free with apiary_migrate_result_free).
 */
int apiary_rt_migrate(struct apiary_rt *rt, const struct apiary_migrate *m,
		      struct apiary_migrate_result *res, struct apiary_diags *diags);
void apiary_migrate_result_free(struct apiary_migrate_result *res);
/* Read one entry of map i (value_size bytes into value); 0 or -ENOENT. */
int apiary_rt_map_lookup(const struct apiary_rt *rt, size_t i, const void *key, void *value);

/* fd of a loaded program (for deploy/attach and benchmarks); -1 if absent.
 * Dispatcher of a hook: apiary_rt_dispatcher_fd(). */
int apiary_rt_prog_fd(const struct apiary_rt *rt, int enforcer, int vslot);
int apiary_rt_dispatcher_fd(const struct apiary_rt *rt, enum apiary_hook hook);

/* ---- for the fuzzer ---------------------------------------------------- */

struct bpf_object;
/* The loaded libbpf object of (enforcer, vslot) / of the sidecar, or NULL;
 * still owned by the runtime. apiary-fuzz maps their coverage sections
 * (APIARY_COV_SECTION, never part of the state maps). */
struct bpf_object *apiary_rt_object(const struct apiary_rt *rt, int enforcer, int vslot);
struct bpf_object *apiary_rt_sidecar_object(const struct apiary_rt *rt);
/* fd of state map i (numbering of apiary_rt_map_name()), borrowed; -1 if out
 * of range. apiary-fuzz resets state between executions without allocating. */
int apiary_rt_map_fd(const struct apiary_rt *rt, size_t i);

#endif
