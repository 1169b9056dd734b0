/* SPDX-License-Identifier: MIT */
/*
 * The execution model shared by the generated sidecar (dispatchers) and the
 * generated enforcer wrappers, so the generated C stays a few lines:
 *
 *   dispatcher: reset ctx, bump seq, parse, classify (flow lookup/create,
 *               pins), tail-call step 0 of apiary_chain[hook];
 *   wrapper:    run the team's entry function, record {enforcer, vslot,
 *               hook, verdict} in ctx->trace, on a continue verdict tail-call
 *               the next step.
 *
 * Before the tail call into a prebuilt (opaque) program, whose control never
 * comes back, its trace entry is written with APIARY_VERDICT_UNKNOWN; the
 * loader fills in the test run's return value.
 *
 * The including file (generated) defines before including this:
 *   APIARY_OPAQUE_SLOTS   bit APIARY_PROG_SLOT(e, v) set for prebuilt programs
 *                         (from apiary_bundle.h)
 * and the sidecar (APIARY_SIDECAR defined) defines after including it:
 *   apiary_match(p)       the classifier's match predicate
 *   apiary_key(p, k)      fills the flow key, returns 1 if it swapped endpoints
 */
#ifndef APIARY_BPF_CHAIN_H
#define APIARY_BPF_CHAIN_H

#include "apiary.h"

#ifndef APIARY_OPAQUE_SLOTS
#define APIARY_OPAQUE_SLOTS 0ull
#endif

/* Append one entry to the trace of this run (silently full at MAX_TRACE). */
static __always_inline void apiary__record(struct apiary_ctx *c, __u32 enf, __u32 vslot,
					   int verdict)
{
	__u64 n = c->ntrace;

	if (n >= APIARY_MAX_TRACE)
		return;
	c->trace[n].enforcer = (__u8)enf;
	c->trace[n].vslot = (__u8)vslot;
	c->trace[n].hook = (__u8)c->hook;
	c->trace[n].pad = 0;
	c->trace[n].verdict = verdict;
	c->ntrace = (__u32)n + 1;
}

/* Version slot of enforcer `enf` for this packet: the flow's pin when the
 * route is PINNED and the flow has one, else the route's default. */
static __always_inline __u32 apiary__vslot(struct apiary_ctx *c, __u64 enf)
{
	/* The lookup key is a copy: a variable whose address is taken lives on
	 * the stack, and a bounds check on one load does not cover the next. */
	__u32 key = (__u32)enf;
	struct apiary_route *r = bpf_map_lookup_elem(&apiary_routes, &key);
	__u32 vslot = 0;

	if (r) {
		vslot = r->default_vslot;
		if (r->mode == APIARY_ROUTE_PINNED && c->flow_id && enf < APIARY_MAX_ENFORCERS) {
			struct apiary_flow *f = bpf_map_lookup_elem(&apiary_flows, &c->key);

			if (f && f->pin[enf] != APIARY_NO_PIN)
				vslot = f->pin[enf];
		}
	}
	return vslot < APIARY_NVSLOTS ? vslot : 0;
}

/* Tail-call the enforcer at `step` of this hook's chain. Returns `verdict`
 * when the chain has no such step or its slot is empty: the chain ends with
 * the verdict of the last enforcer that ran (or the dispatcher's continue). */
static __always_inline int apiary__next(void *ctx, void *progs, struct apiary_ctx *c, __u64 step,
					int verdict)
{
	/* step is 64-bit on purpose: a __u32 gets truncated twice (bounds check
	 * and index) in separate registers, and the verifier cannot tie them. */
	__u32 hook = c->hook;
	struct apiary_chain *ch = bpf_map_lookup_elem(&apiary_chain, &hook);
	__u64 enf;
	__u32 vslot, slot;

	if (!ch || step >= ch->len || step >= APIARY_MAX_CHAIN)
		return verdict;
	enf = ch->enforcer[step];
	if (enf >= APIARY_MAX_ENFORCERS)
		return verdict;
	vslot = apiary__vslot(c, enf);
	slot = APIARY_PROG_SLOT(enf, vslot);
	c->step = (__u32)step;
	if ((APIARY_OPAQUE_SLOTS >> slot) & 1)
		apiary__record(c, enf, vslot, APIARY_VERDICT_UNKNOWN);
	bpf_tail_call(ctx, progs, slot);
	return verdict;
}

/* After the team's entry function returned `verdict`: trace it and go on. */
static __always_inline int apiary__after(void *ctx, void *progs, __u32 enf, __u32 vslot,
					 int verdict, int cont)
{
	struct apiary_ctx *c = apiary_ctx();

	if (!c)
		return verdict;
	apiary__record(c, enf, vslot, verdict);
	if (!cont)
		return verdict;
	return apiary__next(ctx, progs, c, (__u64)c->step + 1, verdict);
}

/* Used by the generated wrappers apiary_w_<name>_v<N>. */
static __always_inline int apiary_wrap_xdp(struct xdp_md *ctx, __u32 enf, __u32 vslot, int verdict)
{
	return apiary__after(ctx, &apiary_progs_xdp, enf, vslot, verdict,
			     apiary_xdp_continues(verdict));
}

static __always_inline int apiary_wrap_tc(struct __sk_buff *ctx, __u32 enf, __u32 vslot,
					  int verdict)
{
	return apiary__after(ctx, &apiary_progs_tc, enf, vslot, verdict,
			     apiary_tc_continues(verdict));
}

#ifdef APIARY_SIDECAR

/* Lexicographic compare of two 16-byte addresses. */
static __always_inline int apiary__addr_cmp(const __u8 *a, const __u8 *b)
{
#pragma unroll
	for (int i = 0; i < 16; i++) {
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	}
	return 0;
}

/* Put the key's endpoints in canonical order (lower address, then lower
 * port, first) so both directions of a connection share one flow. Returns 1
 * if it swapped them. Used when the key has both endpoints. */
static __always_inline __u32 apiary_key_canon(struct apiary_flow_key *k)
{
	int c = apiary__addr_cmp(k->src, k->dst);
	__u8 tmp[16];
	__u16 port;

	if (c < 0 || (c == 0 && k->sport <= k->dport))
		return 0;
	__builtin_memcpy(tmp, k->src, 16);
	__builtin_memcpy(k->src, k->dst, 16);
	__builtin_memcpy(k->dst, tmp, 16);
	port = k->sport;
	k->sport = k->dport;
	k->dport = port;
	return 1;
}

/* Generated in sidecar.bpf.c after including this header. */
static __always_inline int apiary_match(const struct apiary_pkt *p);
static __always_inline __u32 apiary_key(const struct apiary_pkt *p, struct apiary_flow_key *k);

/* Flow ids are FNV-1a of the canonical key: nonzero, the same for the same
 * flow in every run and every ordering (runs are compared with each other). */
static __always_inline __u64 apiary__flow_id(const struct apiary_flow_key *k)
{
	const __u8 *b = (const __u8 *)k;
	__u64 h = 0xcbf29ce484222325ull;

#pragma unroll
	for (int i = 0; i < (int)sizeof(*k); i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h ? h : 1;
}

/* apiary_pins[0]: logical clock, idle timeout, counters (abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct apiary_pins);
} apiary_pins SEC(".maps");

/* Pin every enforcer of flow f to its route's current default version. */
static __always_inline void apiary__pin_all(struct apiary_flow *f)
{
	for (__u32 e = 0; e < APIARY_NENFORCERS && e < APIARY_MAX_ENFORCERS; e++) {
		__u32 key = e; /* e itself stays in a register */
		struct apiary_route *r = bpf_map_lookup_elem(&apiary_routes, &key);

		f->pin[e] = r && r->default_vslot < APIARY_NVSLOTS ? (__u8)r->default_vslot : 0;
	}
}

#ifdef APIARY_FUZZ_BUILD
/* Fuzzing builds only: the flow table's generation, in the mmap'ed
 * coverage section. The fuzz executor empties the table between two
 * executions by bumping it (a store, where deleting entries costs
 * syscalls); an entry of another epoch counts as absent: it is
 * overwritten when its flow is created again, reclaimed when the table is
 * full. Deployed sidecars do not have it. */
volatile __u32 apiary_flow_epoch SEC(".data.apiary_cov");
/* Flows created so far: the executor empties the table for real before
 * old entries could fill it (a full table would take the reclaim path, so
 * coverage would depend on history again). */
volatile __u64 apiary_flow_created SEC(".data.apiary_cov");
static struct apiary_flow apiary__no_flow;
#define APIARY__FLOW_EPOCH apiary_flow_epoch
#define APIARY__CREATE_FLAGS BPF_ANY /* may replace an entry of an old epoch */

/* f if it is an entry of the current epoch, else NULL. Without a branch
 * (selects only), so an old entry and a missing one take the same edges:
 * coverage must not depend on what earlier executions left behind. */
static __always_inline struct apiary_flow *apiary__live(struct apiary_flow *f)
{
	struct apiary_flow *p = f ? f : &apiary__no_flow;
	int live = (p->epoch == apiary_flow_epoch) & (f != (struct apiary_flow *)0);

	return live ? f : (struct apiary_flow *)0;
}
#else
#define APIARY__FLOW_EPOCH 0
#define APIARY__CREATE_FLAGS BPF_NOEXIST

static __always_inline struct apiary_flow *apiary__live(struct apiary_flow *f)
{
	return f;
}
#endif

/* Has flow f been silent for longer than the idle timeout? */
static __always_inline int apiary__idle(const struct apiary_flow *f, const struct apiary_pins *pc)
{
	return pc && pc->idle && pc->now > f->last_seen && pc->now - f->last_seen > pc->idle;
}

/* bpf_for_each_map_elem callback: delete reset and idle flows to make room
 * in a full table. Nothing of a connection follows its RST; a FIN-closed
 * flow still expects the last ACKs, so it stays until it is idle. */
static long apiary__reclaim_one(struct bpf_map *map, const void *key, void *value, void *arg)
{
	struct apiary_flow *f = value;
	struct apiary_pins *pc = arg;

	if (!apiary__live(f) || (f->closed & APIARY_FLOW_RST) || apiary__idle(f, pc)) {
		bpf_map_delete_elem(map, key);
		pc->reclaimed++;
	}
	return 0;
}

/*
 * Find the packet's flow; at the classifier's hook create it when the match
 * holds, pinning every enforcer to its route's default version. The
 * classifier's hook owns a flow's life: there an existing flow leaves its
 * pins (is pinned anew, gen + 1) when it was idle too long, or when a SYN
 * without ACK opens a new connection after FIN/RST, and there its packets
 * are counted. Every hook notes FIN/RST and activity (last_seen), which a
 * second hook of the same packet repeats without changing anything, so a
 * hook with an empty chain after the classifier's may be skipped. Returns
 * nonzero when a new flow had to be refused (table full): the caller drops
 * the packet instead of running it unpinned.
 */
static __always_inline int apiary__classify(struct apiary_ctx *c, __u32 hook)
{
	c->matched = apiary_match(&c->pkt);
#ifdef APIARY_CLASSIFIER_HOOK
	{
		__u32 zero = 0;
		struct apiary_pins *pc = bpf_map_lookup_elem(&apiary_pins, &zero);
		__u32 swapped = apiary_key(&c->pkt, &c->key);
		struct apiary_flow *f = apiary__live(bpf_map_lookup_elem(&apiary_flows, &c->key));
		__u64 now = pc ? pc->now : 0;
		__u8 fl = (c->pkt.layers & APIARY_L_TCP) ? c->pkt.tcp_flags : 0;

		if (!f && hook == APIARY_CLASSIFIER_HOOK && c->matched) {
			struct apiary_flow nf;

			__builtin_memset(&nf, 0, sizeof(nf));
			__builtin_memset(nf.pin, APIARY_NO_PIN, sizeof(nf.pin));
			nf.id = apiary__flow_id(&c->key);
			nf.born_hook = hook;
			nf.orient = swapped;
			nf.last_seen = now;
			nf.epoch = APIARY__FLOW_EPOCH;
			apiary__pin_all(&nf);
			if (bpf_map_update_elem(&apiary_flows, &c->key, &nf, APIARY__CREATE_FLAGS) ==
				    -7 /* E2BIG */ &&
			    pc) {
				struct apiary_pins tmp = *pc;

				bpf_for_each_map_elem(&apiary_flows, apiary__reclaim_one, &tmp, 0);
				pc->reclaimed = tmp.reclaimed;
				if (bpf_map_update_elem(&apiary_flows, &c->key, &nf,
							APIARY__CREATE_FLAGS) == -7) {
					__sync_fetch_and_add(&pc->refused, 1);
					return 1;
				}
			}
			f = bpf_map_lookup_elem(&apiary_flows, &c->key);
#ifdef APIARY_FUZZ_BUILD
			apiary_flow_created++;
#endif
		} else if (f && hook == APIARY_CLASSIFIER_HOOK) {
			int fresh_syn = (fl & 0x02) && !(fl & 0x10); /* SYN without ACK */

			if ((f->closed && fresh_syn) || apiary__idle(f, pc)) {
				apiary__pin_all(f);
				f->closed = 0;
				f->gen++;
				if (pc)
					__sync_fetch_and_add(&pc->repinned, 1);
			}
		}
		if (f) {
			f->last_seen = now;
			if (fl & 0x01)
				f->closed |= APIARY_FLOW_FIN;
			if (fl & 0x04)
				f->closed |= APIARY_FLOW_RST;
			c->flow_id = f->id;
			c->direction = swapped ^ f->orient;
			if (hook == APIARY_CLASSIFIER_HOOK)
				__sync_fetch_and_add(&f->packets, 1);
		}
	}
#endif
	return 0;
}

/* Body of the three dispatchers. */
static __always_inline int apiary__dispatch(void *ctx, void *progs, __u32 hook, void *data,
					    void *data_end, int cont)
{
	struct apiary_ctx *c = apiary_ctx();
	__u64 seq;

	if (!c)
		return cont;
	seq = c->seq;
	__builtin_memset(c, 0, sizeof(*c));
	c->seq = seq + 1;
	c->hook = hook;
	apiary_parse(&c->pkt, data, data_end);
	if (apiary__classify(c, hook))
		return hook == APIARY_HOOK_ID_XDP ? XDP_DROP : TC_ACT_SHOT; /* refused: table full */
	return apiary__next(ctx, progs, c, 0, cont);
}

#endif /* APIARY_SIDECAR */

#endif
