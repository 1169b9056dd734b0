// SPDX-License-Identifier: MIT
/* lb version 1: sticky table {backend, hits}; new clients by port parity. */
#include "sticky.h"

#ifndef STICKY_MAX
#define STICKY_MAX 16
#endif

struct sticky_v1 {
	__u32 backend; /* IPv4, packet order */
	__u32 hits;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STICKY_MAX);
	__type(key, __u32); /* client IPv4, packet order */
	__type(value, struct sticky_v1);
} sticky SEC(".maps");

SEC("xdp") int lb_main(struct xdp_md *ctx)
{
	struct apiary_ctx *c = apiary_ctx();
	__u8 *ip = lb_vip_packet(ctx, c);
	struct sticky_v1 *s, n = {};
	__u32 client;

	if (!ip)
		return XDP_PASS;
	client = c->pkt.ip_src;
	s = bpf_map_lookup_elem(&sticky, &client);
	if (s) {
		__sync_fetch_and_add(&s->hits, 1);
		return lb_send(ip, s->backend);
	}
	n.backend = (c->pkt.sport % 2) ? 0x0c00010au : 0x0b00010au;
	n.hits = 1;
	bpf_map_update_elem(&sticky, &client, &n, BPF_ANY);
	return lb_send(ip, n.backend);
}

char LICENSE[] SEC("license") = "GPL";
