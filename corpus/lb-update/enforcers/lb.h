/* SPDX-License-Identifier: MIT */
/*
 * Shared by both versions of the load balancer: rewrite the IPv4
 * destination of a packet for the VIP to a backend and send it back out
 * (XDP_TX). The versions differ only in how they pick the backend.
 */
#ifndef LB_UPDATE_LB_H
#define LB_UPDATE_LB_H

#include <apiary/bpf/apiary.h>

#define LB_VIP 0x0a0200c0u /* 192.0.2.10 as it sits in the packet (little-endian load) */
#define LB_PORT 80

/* Incremental checksum update for one 32-bit word (RFC 1624). */
static __always_inline __u16 lb_csum_replace(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~from + (__u16)~(from >> 16);
	sum += (__u16)to + (__u16)(to >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Send a VIP packet to `backend` (network order); pass everything else. */
static __always_inline int lb_forward(struct xdp_md *ctx, __u32 (*pick)(const struct apiary_ctx *))
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct apiary_ctx *c = apiary_ctx();
	__u8 *ip;
	__u32 old, backend;
	__u16 check;
	__u64 off;

	if (!c || !apiary_has(c, APIARY_L_IPV4 | APIARY_L_TCP) || c->pkt.ip_dst != LB_VIP ||
	    c->pkt.dport != LB_PORT || c->direction)
		return XDP_PASS;
	off = c->pkt.l3_off;
	if (off > 64)
		return XDP_PASS;
	ip = (__u8 *)data + off;
	if ((void *)(ip + 20) > end)
		return XDP_PASS;
	backend = pick(c);
	__builtin_memcpy(&old, ip + 16, 4);
	__builtin_memcpy(&check, ip + 10, 2);
	check = lb_csum_replace(check, old, backend);
	__builtin_memcpy(ip + 16, &backend, 4);
	__builtin_memcpy(ip + 10, &check, 2);
	return XDP_TX;
}

#endif
