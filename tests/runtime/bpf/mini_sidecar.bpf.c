// SPDX-License-Identifier: MIT
/* Stand-in sidecar: reset the context, count the packet in a flow keyed by
 * the IPv4 source (bytes 26..29 when present), run the chain. */
#include "mini_abi.h"

static __always_inline void mini_flow(struct apiary_ctx *c, void *data, void *end, __u32 hook)
{
	struct apiary_flow_key k = {};
	struct apiary_flow *f, nf = {};
	__u8 *p = data;

	if ((void *)(p + 30) > end)
		return;
	__builtin_memcpy(k.src, p + 26, 4);
	k.family = 4;
	f = bpf_map_lookup_elem(&apiary_flows, &k);
	if (f) {
		f->packets++;
		c->flow_id = f->id;
		return;
	}
	nf.id = ((__u64)1 << 32) | p[29]; /* deterministic: restores compare equal */
	nf.born_hook = hook;
	nf.packets = 1;
	bpf_map_update_elem(&apiary_flows, &k, &nf, BPF_ANY);
	c->flow_id = nf.id;
}

static __always_inline void mini_reset(struct apiary_ctx *c, __u32 hook)
{
	c->seq++;
	c->hook = hook;
	c->step = 0;
	c->ntrace = 0;
	c->flow_id = 0;
	c->matched = 1;
	c->direction = 0;
}

SEC("xdp") int apiary_xdp(struct xdp_md *x)
{
	struct apiary_ctx *c = mini_ctx();

	if (!c)
		return XDP_ABORTED;
	mini_reset(c, APIARY_HOOK_ID_XDP);
	mini_flow(c, (void *)(long)x->data, (void *)(long)x->data_end, APIARY_HOOK_ID_XDP);
	mini_next(x, c, APIARY_HOOK_ID_XDP, 0, &apiary_progs_xdp);
	return XDP_PASS;
}

SEC("tc") int apiary_tc_ingress(struct __sk_buff *x)
{
	struct apiary_ctx *c = mini_ctx();

	if (!c)
		return TC_ACT_SHOT;
	mini_reset(c, APIARY_HOOK_ID_TC_INGRESS);
	mini_flow(c, (void *)(long)x->data, (void *)(long)x->data_end, APIARY_HOOK_ID_TC_INGRESS);
	mini_next(x, c, APIARY_HOOK_ID_TC_INGRESS, 0, &apiary_progs_tc);
	return TC_ACT_OK;
}
