/* SPDX-License-Identifier: MIT */
/*
 * The Apiary API for enforcer authors (BPF C).
 *
 *	#include <apiary/bpf/apiary.h>
 *
 *	SEC("xdp") int fw_main(struct xdp_md *ctx)
 *	{
 *		struct apiary_ctx *c = apiary_ctx();
 *		if (c && apiary_has(c, APIARY_L_TCP) && c->pkt.dport == 23)
 *			return APIARY_XDP_DROP;
 *		return APIARY_XDP_CONTINUE;
 *	}
 *
 * The dispatcher has already parsed the packet (apiary_ctx()->pkt), found
 * the flow of the bundle's classifier (apiary_flow(), apiary_ctx()->key)
 * and the direction; an enforcer reads that instead of parsing again.
 * Declared `state` maps come from the generated apiary_bundle.h (found with
 * -I<out_dir>), under their spec names.
 *
 * Every object of a bundle (sidecar and each wrapped enforcer) includes this
 * header once, so each one carries identical definitions of the shared maps
 * below; the loader makes them one map with bpf_map__reuse_fd. Plain
 * programs that never include it still work (as opaque or wrapped
 * enforcers): the wrapper includes it for them.
 */
#ifndef APIARY_BPF_APIARY_H
#define APIARY_BPF_APIARY_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "../abi.h"
#include "parse.h"

/* Size of apiary_flows; the loader may not resize it (every object agrees). */
#ifndef APIARY_MAX_FLOWS
#define APIARY_MAX_FLOWS 65536
#endif

/* ---- shared maps (names from abi.h) ----------------------------------- */

/* Per-CPU scratch of the packet running now. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct apiary_ctx);
} apiary_ctx_map SEC(".maps");

/* Programs by APIARY_PROG_SLOT(enforcer, vslot); one array per program type. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, APIARY_NPROG_SLOTS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} apiary_progs_xdp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, APIARY_NPROG_SLOTS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} apiary_progs_tc SEC(".maps");

/* apiary_chain[hook id]: the order run at that hook. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, APIARY_NHOOKS);
	__type(key, __u32);
	__type(value, struct apiary_chain);
} apiary_chain SEC(".maps");

/* apiary_routes[enforcer]: version routing. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, APIARY_MAX_ENFORCERS);
	__type(key, __u32);
	__type(value, struct apiary_route);
} apiary_routes SEC(".maps");

/* The classifier's flows, by canonical key. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, APIARY_MAX_FLOWS);
	__type(key, struct apiary_flow_key);
	__type(value, struct apiary_flow);
} apiary_flows SEC(".maps");

/* The bundle's declared state maps and constants (generated). */
#include "apiary_bundle.h"

/* ---- verdicts ----------------------------------------------------------- */

/* A continue verdict hands the packet to the next enforcer of the chain. */
#define APIARY_XDP_CONTINUE XDP_PASS
#define APIARY_XDP_DROP XDP_DROP
#define APIARY_XDP_TX XDP_TX
#define APIARY_XDP_REDIRECT XDP_REDIRECT
#define APIARY_XDP_ABORTED XDP_ABORTED
#define APIARY_TC_CONTINUE TC_ACT_OK
#define APIARY_TC_DROP TC_ACT_SHOT
#define APIARY_TC_REDIRECT TC_ACT_REDIRECT

static __always_inline int apiary_xdp_continues(int verdict)
{
	return verdict == XDP_PASS;
}

static __always_inline int apiary_tc_continues(int verdict)
{
	return verdict == TC_ACT_OK || verdict == TC_ACT_UNSPEC;
}

/* ---- context ------------------------------------------------------------ */

/* The per-CPU context the dispatcher filled for this packet; NULL only if
 * the map is missing (never after a normal load). */
static __always_inline struct apiary_ctx *apiary_ctx(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&apiary_ctx_map, &zero);
}

/* The parsed packet of this run. Offsets (l3_off, ...) are from the frame
 * start as the dispatcher saw it: re-check bounds against ctx->data_end. */
static __always_inline struct apiary_pkt *apiary_pkt(void)
{
	struct apiary_ctx *c = apiary_ctx();

	return c ? &c->pkt : NULL;
}

/* Does the parsed packet have every layer in `layers` (APIARY_L_* bits)? */
static __always_inline int apiary_has(const struct apiary_ctx *c, __u32 layers)
{
	return (c->pkt.layers & layers) == layers;
}

/* The flow entry of this packet (classifier context), or NULL when the
 * packet belongs to no flow (no classifier, match did not hold, or seen at
 * an earlier hook than the classifier's before any packet created it). */
static __always_inline struct apiary_flow *apiary_flow(void)
{
	struct apiary_ctx *c = apiary_ctx();

	if (!c || !c->flow_id)
		return NULL;
	return bpf_map_lookup_elem(&apiary_flows, &c->key);
}

/* The flow key of this packet (canonical endpoint order), for state maps
 * keyed by the classifier; NULL without a flow. */
static __always_inline struct apiary_flow_key *apiary_flow_key(void)
{
	struct apiary_ctx *c = apiary_ctx();

	return c && c->flow_id ? &c->key : NULL;
}

/* ---- declared state ------------------------------------------------------- */

/* Read an entry of a declared state map: a pointer into the map or NULL. */
#define apiary_state_get(map, key) bpf_map_lookup_elem(&(map), (key))

/* Create or replace an entry; 0 or a negative error. */
#define apiary_state_set(map, key, value) bpf_map_update_elem(&(map), (key), (value), BPF_ANY)

/* Delete an entry; 0 or a negative error. */
#define apiary_state_del(map, key) bpf_map_delete_elem(&(map), (key))

/* Add `delta` to an integer entry, creating it at `delta` if absent
 * (atomic for an existing entry). */
#define apiary_state_add(map, key, delta)                                                   \
	({                                                                                  \
		typeof(*(map).value) __apiary_d = (delta);                                  \
		typeof((map).value) __apiary_v = bpf_map_lookup_elem(&(map), (key));        \
		int __apiary_r = 0;                                                         \
		if (__apiary_v)                                                             \
			__sync_fetch_and_add(__apiary_v, __apiary_d);                       \
		else                                                                        \
			__apiary_r = bpf_map_update_elem(&(map), (key), &__apiary_d, BPF_NOEXIST); \
		__apiary_r;                                                                 \
	})

/* The same, keyed by this packet's flow (state declared `(<classifier> -> T)`);
 * -ENOENT without a flow. */
#define apiary_flow_state_get(map)                                                          \
	({                                                                                  \
		struct apiary_flow_key *__apiary_k = apiary_flow_key();                     \
		__apiary_k ? bpf_map_lookup_elem(&(map), __apiary_k) : NULL;                \
	})
#define apiary_flow_state_add(map, delta)                                                   \
	({                                                                                  \
		struct apiary_flow_key *__apiary_k = apiary_flow_key();                     \
		__apiary_k ? apiary_state_add(map, __apiary_k, delta) : -2 /* ENOENT */;    \
	})

#endif
