/* SPDX-License-Identifier: MIT */
/*
 * The ABI between generated eBPF (sidecar, classifier, wrapped enforcers)
 * and user space (the loader, check, fuzz, deploy). Included by both sides:
 * BPF C sees only <linux/types.h>; keep it free of libc.
 *
 * Execution model (see README "Design"):
 *   - one dispatcher program per hook (apiary_xdp, apiary_tc_ingress,
 *     apiary_tc_egress) in sidecar.bpf.o; it parses the packet once into
 *     struct apiary_ctx (per-CPU), finds or creates the flow, then tail-calls
 *     the first enforcer of the hook's chain;
 *   - every enforcer compiled from source is wrapped: its entry function
 *     becomes a subprogram of a generated program apiary_w_<name> that calls
 *     it, records the verdict in the trace and, on a continue verdict,
 *     tail-calls the next enforcer of the chain;
 *   - a prebuilt (opaque) enforcer is tail-called unchanged, so control never
 *     comes back: it ends the chain and the compiler orders it last; its
 *     trace entry is written before the tail call with APIARY_VERDICT_UNKNOWN
 *     and the loader fills in the test run's return value;
 *   - the order is data (apiary_chain), so orderings change between runs
 *     without reloading anything; version routing is data too (apiary_routes
 *     + the per-flow pins in apiary_flows).
 */
#ifndef APIARY_ABI_H
#define APIARY_ABI_H

#include <linux/types.h>

#define APIARY_ABI_VERSION 1

/* Hook ids: equal to enum apiary_hook in spec.h (checked by static_assert). */
#define APIARY_HOOK_ID_XDP 1
#define APIARY_HOOK_ID_TC_INGRESS 2
#define APIARY_HOOK_ID_TC_EGRESS 3
#define APIARY_NHOOKS 4 /* ids 0..3; 0 unused */

#define APIARY_MAX_ENFORCERS 32 /* per bundle */
#define APIARY_MAX_CHAIN 16     /* per hook; well under the kernel's 33 tail calls */
#define APIARY_NVSLOTS 2        /* versions side by side: 0 = current, 1 = update */
#define APIARY_NPROG_SLOTS (APIARY_MAX_ENFORCERS * APIARY_NVSLOTS)
#define APIARY_PROG_SLOT(enf, vslot) ((enf) * APIARY_NVSLOTS + (vslot))
#define APIARY_MAX_TRACE APIARY_MAX_CHAIN
#define APIARY_NO_PIN 0xff
#define APIARY_VERDICT_UNKNOWN (-0x7fffffff)

/* Map names (identical in every object so the loader can share one fd). */
#define APIARY_MAP_CTX "apiary_ctx_map"
/* A prog array holds one program type only: one per type. */
#define APIARY_MAP_PROGS_XDP "apiary_progs_xdp"
#define APIARY_MAP_PROGS_TC "apiary_progs_tc"
#define APIARY_MAP_CHAIN "apiary_chain"
#define APIARY_MAP_ROUTES "apiary_routes"
#define APIARY_MAP_FLOWS "apiary_flows"
#define APIARY_MAP_PINS "apiary_pins" /* sidecar only: clock, idle timeout, counters */

/* Packet as parsed once by the dispatcher. Integers in host order; addresses
 * in network order, as they sit in the packet. */
struct apiary_pkt {
	__u32 layers; /* enum apiary_layer bits (spec.h) */
	__u16 eth_type;
	__u16 vlan_id;
	__u8 eth_src[6];
	__u8 eth_dst[6];
	__u8 ip_proto; /* ipv4 protocol or ipv6 next header */
	__u8 ip_ttl;   /* ttl or hop limit */
	__u8 tcp_flags;
	__u8 icmp_type;
	__u16 sport;
	__u16 dport;
	__u32 ip_src; /* ipv4 */
	__u32 ip_dst;
	__u8 ip6_src[16];
	__u8 ip6_dst[16];
	__u16 l3_off; /* offsets from the start of the frame */
	__u16 l4_off;
	__u16 payload_off;
	__u16 len;
};

/* The flow key: the classifier's declared key fields, other fields zero,
 * endpoints in canonical order (lower address/port first) so both directions
 * of a connection find the same flow. */
struct apiary_flow_key {
	__u8 src[16]; /* ipv4 in the first 4 bytes */
	__u8 dst[16];
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 family; /* 4 or 6, 0 if no ip key */
	__u16 pad;
};

/* Value of apiary_flows: the classifier's context of a flow, created at the
 * classifier's hook and visible at every later hook. */
struct apiary_flow {
	__u64 id;          /* nonzero, assigned at creation */
	__u32 born_hook;   /* hook id that created it */
	__u32 packets;     /* packets seen at the classifier's hook */
	__u8 pin[APIARY_MAX_ENFORCERS]; /* version slot per enforcer, APIARY_NO_PIN = none */
	__u32 label;       /* free for the bundle's enforcers */
	__u32 orient;      /* 1 if the first packet's endpoints were swapped into canonical
			    * order; a packet's direction = its own swap ^ orient */
	__u64 last_seen;   /* logical clock (apiary_pins.now) at its last packet */
	__u32 closed;      /* APIARY_FLOW_FIN / APIARY_FLOW_RST seen */
	__u32 gen;         /* incarnation: bumped each time the flow is pinned anew */
	__u32 epoch;       /* fuzzing builds: the table generation it belongs to (chain.h) */
};

#define APIARY_FLOW_FIN 1u
#define APIARY_FLOW_RST 2u

/* apiary_pins[0]: the flow-to-version table's clock and counters. A flow
 * leaves its pins (is pinned anew to the current defaults, gen + 1) when,
 * at the classifier's hook, a SYN without ACK arrives after it saw FIN or
 * RST (at any hook: a new connection on the same 5-tuple), or more than
 * `idle` ticks passed since its last packet at any hook (idle 0: never). `now` is a logical clock written by user space, never the
 * kernel's time, so checks are deterministic. A new flow that does not fit
 * in the table, even after reset and idle flows are reclaimed, is refused:
 * its packet is dropped at the classifier's hook and counted, so no flow is
 * ever handled without a pin. */
struct apiary_pins {
	__u64 now;
	__u64 idle;
	__u64 refused;  /* packets of new flows dropped: table full */
	__u64 repinned; /* flows pinned anew after FIN/RST or idle */
	__u64 reclaimed; /* closed or idle entries deleted to make room */
};

struct apiary_trace_ent {
	__u8 enforcer; /* index in the spec's enforcer list */
	__u8 vslot;
	__u8 hook;
	__u8 pad;
	__s32 verdict;
};

/* Per-CPU scratch: what the dispatcher parsed and the trace of this run. */
struct apiary_ctx {
	__u64 seq;       /* bumped at every dispatcher entry */
	__u32 hook;
	__u32 step;      /* index in the chain of the enforcer running now */
	__u32 matched;   /* classifier's match predicate held */
	__u32 direction; /* 0: same direction as the flow's first packet; 1: reply */
	__u64 flow_id;   /* 0 if no flow */
	struct apiary_flow_key key;
	struct apiary_pkt pkt;
	__u32 ntrace;
	__u32 pad;
	struct apiary_trace_ent trace[APIARY_MAX_TRACE];
};

/* apiary_chain[hook]: the order the dispatcher runs. */
struct apiary_chain {
	__u32 len;
	__u8 enforcer[APIARY_MAX_CHAIN];
};

/* apiary_routes[enforcer]: which version new flows get. */
#define APIARY_ROUTE_PINNED 0 /* flows keep the version they were pinned to */
#define APIARY_ROUTE_NAIVE 1  /* every packet goes to default_vslot: naive replace */
struct apiary_route {
	__u32 default_vslot;
	__u32 mode;
};

#endif
