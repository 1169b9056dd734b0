/* SPDX-License-Identifier: MIT */
/*
 * A hand-written stand-in for what the compiler generates (sidecar maps,
 * dispatcher, wrapper), so the loader is tested on its own. Every object
 * includes this header, so every object has identical map definitions and
 * the loader shares them by name, as with compiled bundles.
 */
#ifndef MINI_ABI_H
#define MINI_ABI_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "apiary/abi.h"

#define MINI_OPAQUE_ENF 6 /* the enforcer index the tests use for a prebuilt */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct apiary_ctx);
} apiary_ctx_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, APIARY_NPROG_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} apiary_progs_xdp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, APIARY_NPROG_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} apiary_progs_tc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, APIARY_NHOOKS);
	__type(key, __u32);
	__type(value, struct apiary_chain);
} apiary_chain SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, APIARY_MAX_ENFORCERS);
	__type(key, __u32);
	__type(value, struct apiary_route);
} apiary_routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct apiary_flow_key);
	__type(value, struct apiary_flow);
} apiary_flows SEC(".maps");

/* Declared state: who ran at which step. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} order_log SEC(".maps");

static __always_inline struct apiary_ctx *mini_ctx(void)
{
	__u32 z = 0;

	return bpf_map_lookup_elem(&apiary_ctx_map, &z);
}

/* Tail-call the enforcer at chain position step of hook (trace entry with
 * an unknown verdict first if it is the prebuilt one). */
static __always_inline void mini_next(void *x, struct apiary_ctx *c, __u32 hook, __u32 step,
				      void *progs)
{
	struct apiary_chain *ch = bpf_map_lookup_elem(&apiary_chain, &hook);
	__u32 e, n;

	if (!ch || step >= ch->len || step >= APIARY_MAX_CHAIN)
		return;
	/* Keep the mask: clang drops it after the check above, and the
	 * verifier then sees a 64-bit index. */
	asm volatile("" : "+r"(step));
	e = ch->enforcer[step & (APIARY_MAX_CHAIN - 1)];
	c->step = step;
	if (e == MINI_OPAQUE_ENF) {
		n = c->ntrace;
		if (n < APIARY_MAX_TRACE) {
			c->trace[n].enforcer = e;
			c->trace[n].vslot = 0;
			c->trace[n].hook = hook;
			c->trace[n].verdict = APIARY_VERDICT_UNKNOWN;
			c->ntrace = n + 1;
		}
	}
	bpf_tail_call(x, progs, APIARY_PROG_SLOT(e, 0));
}

/* The wrapper the compiler generates around a team's entry function. */
#define MINI_WRAP_XDP(wname, fn, ENF)                                        \
	SEC("xdp") int wname(struct xdp_md *x)                               \
	{                                                                    \
		struct apiary_ctx *c = mini_ctx();                           \
		int v;                                                       \
		__u32 n;                                                     \
		if (!c)                                                      \
			return XDP_ABORTED;                                  \
		v = fn(x);                                                   \
		n = c->ntrace;                                               \
		if (n < APIARY_MAX_TRACE) {                                  \
			c->trace[n].enforcer = ENF;                          \
			c->trace[n].vslot = 0;                               \
			c->trace[n].hook = APIARY_HOOK_ID_XDP;               \
			c->trace[n].verdict = v;                             \
			c->ntrace = n + 1;                                   \
		}                                                            \
		if (v != XDP_PASS)                                           \
			return v;                                            \
		mini_next(x, c, APIARY_HOOK_ID_XDP, c->step + 1, &apiary_progs_xdp); \
		return v;                                                    \
	}

#define MINI_WRAP_TC(wname, fn, ENF, HOOK)                                   \
	SEC("tc") int wname(struct __sk_buff *x)                             \
	{                                                                    \
		struct apiary_ctx *c = mini_ctx();                           \
		int v;                                                       \
		__u32 n;                                                     \
		if (!c)                                                      \
			return TC_ACT_SHOT;                                  \
		v = fn(x);                                                   \
		n = c->ntrace;                                               \
		if (n < APIARY_MAX_TRACE) {                                  \
			c->trace[n].enforcer = ENF;                          \
			c->trace[n].vslot = 0;                               \
			c->trace[n].hook = HOOK;                             \
			c->trace[n].verdict = v;                             \
			c->ntrace = n + 1;                                   \
		}                                                            \
		if (v != TC_ACT_OK && v != TC_ACT_UNSPEC)                    \
			return v;                                            \
		mini_next(x, c, HOOK, c->step + 1, &apiary_progs_tc);        \
		return v;                                                    \
	}

char _license[] SEC("license") = "GPL";

#endif
