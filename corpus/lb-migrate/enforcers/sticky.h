/* SPDX-License-Identifier: MIT */
/*
 * Sticky load balancer, shared by both versions: a client (IPv4 source)
 * keeps the backend it was first given, remembered in the map `sticky`.
 * The versions differ in the layout of that map's value (and in how a new
 * client is placed), so an update must convert the table: `migrate`.
 */
#ifndef LB_MIGRATE_STICKY_H
#define LB_MIGRATE_STICKY_H

#include <apiary/bpf/apiary.h>

#define LB_VIP 0x0a0200c0u /* 192.0.2.10 as it sits in the packet */
#define LB_PORT 80

static __always_inline __u16 lb_csum_replace(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~from + (__u16)~(from >> 16);
	sum += (__u16)to + (__u16)(to >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* The packet's IPv4 header if it is a forward packet for the VIP. */
static __always_inline __u8 *lb_vip_packet(struct xdp_md *ctx, struct apiary_ctx *c)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u64 off;
	__u8 *ip;

	if (!c || !apiary_has(c, APIARY_L_IPV4 | APIARY_L_TCP) || c->pkt.ip_dst != LB_VIP ||
	    c->pkt.dport != LB_PORT || c->direction)
		return 0;
	off = c->pkt.l3_off;
	if (off > 64)
		return 0;
	ip = (__u8 *)data + off;
	if ((void *)(ip + 20) > end)
		return 0;
	return ip;
}

/* Rewrite the destination to backend (packet order) and send it. A backend
 * of 0.0.0.0 is no backend: drop. */
static __always_inline int lb_send(__u8 *ip, __u32 backend)
{
	__u32 old;
	__u16 check;

	if (!backend)
		return XDP_DROP;
	__builtin_memcpy(&old, ip + 16, 4);
	__builtin_memcpy(&check, ip + 10, 2);
	check = lb_csum_replace(check, old, backend);
	__builtin_memcpy(ip + 16, &backend, 4);
	__builtin_memcpy(ip + 10, &check, 2);
	return XDP_TX;
}

#endif
