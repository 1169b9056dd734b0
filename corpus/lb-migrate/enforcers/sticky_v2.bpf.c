// SPDX-License-Identifier: MIT
/*
 * lb version 2: the sticky table gains a weight and 64-bit hits, and the
 * members move; new clients are spread over three backends.
 */
#include "sticky.h"

#ifndef STICKY_MAX
#define STICKY_MAX 16
#endif

struct sticky_v2 {
	__u64 hits;
	__u16 weight;
	__u16 flags;
	__u32 backend; /* IPv4, packet order; 0 = none */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STICKY_MAX);
	__type(key, __u32);
	__type(value, struct sticky_v2);
} sticky SEC(".maps");

SEC("xdp") int lb_main(struct xdp_md *ctx)
{
	struct apiary_ctx *c = apiary_ctx();
	__u8 *ip = lb_vip_packet(ctx, c);
	struct sticky_v2 *s, n = {};
	__u32 client, i;

	if (!ip)
		return XDP_PASS;
	client = c->pkt.ip_src;
	s = bpf_map_lookup_elem(&sticky, &client);
	if (s) {
		__sync_fetch_and_add(&s->hits, 1);
		return lb_send(ip, s->backend);
	}
	i = c->pkt.sport % 3;
	n.backend = i == 0 ? 0x0b00010au : i == 1 ? 0x0c00010au : 0x0d00010au;
	n.hits = 1;
	n.weight = 1;
	bpf_map_update_elem(&sticky, &client, &n, BPF_ANY);
	return lb_send(ip, n.backend);
}

char LICENSE[] SEC("license") = "GPL";
