// SPDX-License-Identifier: MIT
/*
 * Packet model: parse, build, describe frames and evaluate predicates on
 * them. The layer rules are documented in include/apiary/packet.h and must
 * match the BPF dispatcher's parser.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "apiary/packet.h"

#define L_ETH APIARY_L_ETH
#define L_VLAN APIARY_L_VLAN
#define L_V4 APIARY_L_IPV4
#define L_V6 APIARY_L_IPV6
#define L_TCP APIARY_L_TCP
#define L_UDP APIARY_L_UDP
#define L_ICMP APIARY_L_ICMP
#define L_L4 APIARY_L_L4

#define IPPROTO_ICMP6_NUM 58

const struct apiary_pkt_shape apiary_pkt_shapes[] = {
	{ "ipv4/tcp", L_ETH | L_V4 | L_TCP | L_L4 },
	{ "ipv4/udp", L_ETH | L_V4 | L_UDP | L_L4 },
	{ "ipv4/icmp", L_ETH | L_V4 | L_ICMP },
	{ "ipv6/tcp", L_ETH | L_V6 | L_TCP | L_L4 },
	{ "ipv6/udp", L_ETH | L_V6 | L_UDP | L_L4 },
	{ "ipv6/icmp", L_ETH | L_V6 | L_ICMP },
	{ "vlan/ipv4/tcp", L_ETH | L_VLAN | L_V4 | L_TCP | L_L4 },
	{ "eth", L_ETH },
	{ "ipv4", L_ETH | L_V4 },
	{ "ipv6", L_ETH | L_V6 },
	{ "vlan/ipv4/udp", L_ETH | L_VLAN | L_V4 | L_UDP | L_L4 },
	{ "vlan/ipv4/icmp", L_ETH | L_VLAN | L_V4 | L_ICMP },
	{ "vlan/ipv6/tcp", L_ETH | L_VLAN | L_V6 | L_TCP | L_L4 },
	{ "vlan/ipv6/udp", L_ETH | L_VLAN | L_V6 | L_UDP | L_L4 },
	{ "vlan/ipv6/icmp", L_ETH | L_VLAN | L_V6 | L_ICMP },
	{ "vlan/eth", L_ETH | L_VLAN },
	{ "vlan/ipv4", L_ETH | L_VLAN | L_V4 },
	{ "vlan/ipv6", L_ETH | L_VLAN | L_V6 },
};
const size_t apiary_pkt_nshapes = sizeof(apiary_pkt_shapes) / sizeof(apiary_pkt_shapes[0]);

/* Width and required layers of each field, as the packet defines them. */
static const struct {
	unsigned bits;
	uint32_t layers;
} field_desc[APIARY_F__COUNT] = {
	[APIARY_F_ETH_TYPE] = { 16, L_ETH },  [APIARY_F_ETH_SRC] = { 48, L_ETH },
	[APIARY_F_ETH_DST] = { 48, L_ETH },   [APIARY_F_VLAN_ID] = { 12, L_VLAN },
	[APIARY_F_IP_SRC] = { 32, L_V4 },     [APIARY_F_IP_DST] = { 32, L_V4 },
	[APIARY_F_IP_PROTO] = { 8, L_V4 },    [APIARY_F_IP_TTL] = { 8, L_V4 },
	[APIARY_F_IP6_SRC] = { 128, L_V6 },   [APIARY_F_IP6_DST] = { 128, L_V6 },
	[APIARY_F_IP6_PROTO] = { 8, L_V6 },   [APIARY_F_IP6_TTL] = { 8, L_V6 },
	[APIARY_F_TCP_SPORT] = { 16, L_TCP }, [APIARY_F_TCP_DPORT] = { 16, L_TCP },
	[APIARY_F_TCP_FLAGS] = { 8, L_TCP },  [APIARY_F_UDP_SPORT] = { 16, L_UDP },
	[APIARY_F_UDP_DPORT] = { 16, L_UDP }, [APIARY_F_ICMP_TYPE] = { 8, L_ICMP },
	[APIARY_F_L4_SPORT] = { 16, L_L4 },   [APIARY_F_L4_DPORT] = { 16, L_L4 },
};

/* ---- byte helpers --------------------------------------------------- */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

/* Big-endian bytes <-> number, for addresses compared "as in the packet". */
static apiary_u128 be_get(const uint8_t *p, size_t n)
{
	apiary_u128 v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void be_put(uint8_t *p, size_t n, apiary_u128 v)
{
	for (size_t i = n; i-- > 0;) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* One's complement sum (RFC 1071) continued from `sum`, not folded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += rd16(p + i);
	if (i < n)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Sum of the IPv4 or IPv6 pseudo-header for an L4 segment of l4len bytes. */
static uint32_t pseudo_sum(bool v6, const uint8_t *l3, uint8_t proto, size_t l4len)
{
	uint32_t sum = 0;

	if (v6) {
		sum = csum_add(sum, l3 + 8, 32);
		sum += (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
	} else {
		sum = csum_add(sum, l3 + 12, 8);
		sum += (uint32_t)l4len;
	}
	return sum + proto;
}

/* ---- fields as numbers ---------------------------------------------- */

/* Width in bits of a field in the packet. */
unsigned apiary_pkt_field_bits(enum apiary_field id)
{
	return (unsigned)id < APIARY_F__COUNT ? field_desc[id].bits : 0;
}

/* Layer bits a packet needs for the field to exist. */
uint32_t apiary_pkt_field_layers(enum apiary_field id)
{
	return (unsigned)id < APIARY_F__COUNT ? field_desc[id].layers : 0;
}

/* Read a field as a number; false when the packet lacks the field's layer,
 * which is what makes "a field implies its layer" hold everywhere. */
bool apiary_pkt_field_get(const struct apiary_pkt_fields *f, enum apiary_field id,
			  apiary_u128 *v)
{
	uint32_t need = apiary_pkt_field_layers(id);

	if (!need || (f->layers & need) != need)
		return false;
	switch (id) {
	case APIARY_F_ETH_TYPE: *v = f->eth_type; break;
	case APIARY_F_ETH_SRC: *v = be_get(f->eth_src, 6); break;
	case APIARY_F_ETH_DST: *v = be_get(f->eth_dst, 6); break;
	case APIARY_F_VLAN_ID: *v = f->vlan_id & 0xfff; break;
	case APIARY_F_IP_SRC: *v = be_get(f->ip_src, 4); break;
	case APIARY_F_IP_DST: *v = be_get(f->ip_dst, 4); break;
	case APIARY_F_IP_PROTO: *v = f->ip_proto; break;
	case APIARY_F_IP_TTL: *v = f->ip_ttl; break;
	case APIARY_F_IP6_SRC: *v = be_get(f->ip6_src, 16); break;
	case APIARY_F_IP6_DST: *v = be_get(f->ip6_dst, 16); break;
	case APIARY_F_IP6_PROTO: *v = f->ip6_proto; break;
	case APIARY_F_IP6_TTL: *v = f->ip6_ttl; break;
	case APIARY_F_TCP_SPORT:
	case APIARY_F_UDP_SPORT:
	case APIARY_F_L4_SPORT: *v = f->sport; break;
	case APIARY_F_TCP_DPORT:
	case APIARY_F_UDP_DPORT:
	case APIARY_F_L4_DPORT: *v = f->dport; break;
	case APIARY_F_TCP_FLAGS: *v = f->tcp_flags; break;
	case APIARY_F_ICMP_TYPE: *v = f->icmp_type; break;
	default: return false;
	}
	return true;
}

/* Store a field from a number (a z3 model, a random draw). */
void apiary_pkt_field_set(struct apiary_pkt_fields *f, enum apiary_field id, apiary_u128 v)
{
	switch (id) {
	case APIARY_F_ETH_TYPE: f->eth_type = (uint16_t)v; break;
	case APIARY_F_ETH_SRC: be_put(f->eth_src, 6, v); break;
	case APIARY_F_ETH_DST: be_put(f->eth_dst, 6, v); break;
	case APIARY_F_VLAN_ID: f->vlan_id = (uint16_t)(v & 0xfff); break;
	case APIARY_F_IP_SRC: be_put(f->ip_src, 4, v); break;
	case APIARY_F_IP_DST: be_put(f->ip_dst, 4, v); break;
	case APIARY_F_IP_PROTO: f->ip_proto = (uint8_t)v; break;
	case APIARY_F_IP_TTL: f->ip_ttl = (uint8_t)v; break;
	case APIARY_F_IP6_SRC: be_put(f->ip6_src, 16, v); break;
	case APIARY_F_IP6_DST: be_put(f->ip6_dst, 16, v); break;
	case APIARY_F_IP6_PROTO: f->ip6_proto = (uint8_t)v; break;
	case APIARY_F_IP6_TTL: f->ip6_ttl = (uint8_t)v; break;
	case APIARY_F_TCP_SPORT:
	case APIARY_F_UDP_SPORT:
	case APIARY_F_L4_SPORT: f->sport = (uint16_t)v; break;
	case APIARY_F_TCP_DPORT:
	case APIARY_F_UDP_DPORT:
	case APIARY_F_L4_DPORT: f->dport = (uint16_t)v; break;
	case APIARY_F_TCP_FLAGS: f->tcp_flags = (uint8_t)v; break;
	case APIARY_F_ICMP_TYPE: f->icmp_type = (uint8_t)v; break;
	default: break;
	}
}

/* ---- defaults ------------------------------------------------------- */

/* Defaults a reviewer recognises at a glance (documentation addresses,
 * locally administered MACs), so generated packets read well in reports. */
void apiary_pkt_fields_default(struct apiary_pkt_fields *f, uint32_t layers)
{
	static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
	static const uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };

	memset(f, 0, sizeof(*f));
	f->layers = layers;
	memcpy(f->eth_src, (uint8_t[]){ 2, 0, 0, 0, 0, 1 }, 6);
	memcpy(f->eth_dst, (uint8_t[]){ 2, 0, 0, 0, 0, 2 }, 6);
	f->vlan_proto = (layers & L_V4) ? APIARY_ETH_P_IPV4 :
			(layers & L_V6) ? APIARY_ETH_P_IPV6 : APIARY_ETH_P_ARP;
	f->eth_type = (layers & L_VLAN) ? APIARY_ETH_P_VLAN : f->vlan_proto;
	f->vlan_id = 100;
	memcpy(f->ip_src, (uint8_t[]){ 10, 0, 0, 1 }, 4);
	memcpy(f->ip_dst, (uint8_t[]){ 192, 0, 2, 10 }, 4);
	f->ip_ttl = 64;
	f->ip_ihl = 5;
	f->ip_frag = 0x4000; /* DF */
	f->ip_proto = (layers & L_TCP) ? 6 : (layers & L_UDP) ? 17 : (layers & L_ICMP) ? 1 : 47;
	memcpy(f->ip6_src, src6, 16);
	memcpy(f->ip6_dst, dst6, 16);
	f->ip6_ttl = 64;
	f->ip6_proto = (layers & L_TCP) ? 6 : (layers & L_UDP) ? 17 :
		       (layers & L_ICMP) ? IPPROTO_ICMP6_NUM : 59;
	f->sport = 40000;
	f->dport = (layers & L_UDP) ? 53 : 80;
	f->tcp_flags = 0x02;
	f->tcp_seq = 1;
	f->tcp_win = 65535;
	f->icmp_type = (layers & L_V6) ? 128 : 8;
	if (layers & L_ICMP)
		f->payload_len = 4; /* echo identifier and sequence, zero */
}

/* ---- parse ---------------------------------------------------------- */

/* Parse a frame into fields with the layer rules of packet.h. */
uint32_t apiary_packet_parse(const uint8_t *p, size_t len, struct apiary_pkt_fields *f)
{
	size_t off, l4, end;
	uint16_t type;
	uint8_t proto = 0;
	bool l3 = false, v6 = false, frag = false;

	memset(f, 0, sizeof(*f));
	f->len = len > 0xffff ? 0xffff : (uint16_t)len;
	if (!p || len < 14)
		return 0;
	f->layers = L_ETH;
	memcpy(f->eth_dst, p, 6);
	memcpy(f->eth_src, p + 6, 6);
	type = rd16(p + 12);
	f->eth_type = type;
	off = 14;
	if ((type == APIARY_ETH_P_VLAN || type == APIARY_ETH_P_QINQ) && len >= 18) {
		uint16_t tci = rd16(p + 14);

		f->layers |= L_VLAN;
		f->vlan_id = tci & 0xfff;
		f->vlan_pcp = tci >> 13;
		type = rd16(p + 16);
		f->vlan_proto = type;
		off = 18;
	}
	f->l3_off = (uint16_t)off;
	end = off;

	if (type == APIARY_ETH_P_IPV4 && len - off >= 20 && (p[off] >> 4) == 4 &&
	    (p[off] & 0xf) >= 5 && off + (size_t)(p[off] & 0xf) * 4 <= len) {
		const uint8_t *ip = p + off;

		f->layers |= L_V4;
		f->ip_ihl = ip[0] & 0xf;
		f->ip_tos = ip[1];
		f->ip_id = rd16(ip + 4);
		f->ip_frag = rd16(ip + 6);
		f->ip_ttl = ip[8];
		f->ip_proto = proto = ip[9];
		memcpy(f->ip_src, ip + 12, 4);
		memcpy(f->ip_dst, ip + 16, 4);
		frag = (f->ip_frag & 0x1fff) != 0;
		end = off + f->ip_ihl * 4u;
		l3 = true;
	} else if (type == APIARY_ETH_P_IPV6 && len - off >= 40 && (p[off] >> 4) == 6) {
		const uint8_t *ip = p + off;

		f->layers |= L_V6;
		f->ip6_proto = proto = ip[6];
		f->ip6_ttl = ip[7];
		memcpy(f->ip6_src, ip + 8, 16);
		memcpy(f->ip6_dst, ip + 24, 16);
		end = off + 40;
		l3 = v6 = true;
	}

	if (l3 && !frag) {
		l4 = end;
		f->l4_off = (uint16_t)l4;
		if (proto == 6 && len - l4 >= 20 && (p[l4 + 12] >> 4) >= 5) {
			const uint8_t *t = p + l4;
			size_t doff = (t[12] >> 4) * 4u;

			f->layers |= L_TCP | L_L4;
			f->sport = rd16(t);
			f->dport = rd16(t + 2);
			f->tcp_seq = rd32(t + 4);
			f->tcp_ack = rd32(t + 8);
			f->tcp_flags = t[13];
			f->tcp_win = rd16(t + 14);
			end = l4 + (doff >= 20 && doff <= len - l4 ? doff : 20);
		} else if (proto == 17 && len - l4 >= 8) {
			f->layers |= L_UDP | L_L4;
			f->sport = rd16(p + l4);
			f->dport = rd16(p + l4 + 2);
			end = l4 + 8;
		} else if (proto == (v6 ? IPPROTO_ICMP6_NUM : 1) && len - l4 >= 4) {
			f->layers |= L_ICMP;
			f->icmp_type = p[l4];
			f->icmp_code = p[l4 + 1];
			end = l4 + 4;
		}
	} else if (l3) {
		f->l4_off = (uint16_t)end;
	} else if (type == APIARY_ETH_P_ARP && len - off >= 28) {
		/* The ARP body is a header, not payload; its protocol addresses
		 * land in ip_src/ip_dst (the ip.* fields still need IPV4). */
		memcpy(f->ip_src, p + off + 14, 4);
		memcpy(f->ip_dst, p + off + 24, 4);
		end = off + 28;
	}
	f->payload_off = (uint16_t)end;
	f->payload_len = (uint16_t)(len - end);
	return f->layers;
}

/* ---- build ---------------------------------------------------------- */

/* Build a frame from fields; see packet.h for what the layers imply. */
long apiary_packet_build(const struct apiary_pkt_fields *f, uint8_t *buf, size_t size)
{
	uint32_t ly = f->layers;
	bool v4 = ly & L_V4, v6 = ly & L_V6;
	int nl4 = !!(ly & L_TCP) + !!(ly & L_UDP) + !!(ly & L_ICMP);
	size_t ihl = f->ip_ihl ? f->ip_ihl : 5;
	size_t l2len, l3len = 0, l4len = 0, body = 0, total, off;
	uint8_t proto = 0;
	uint16_t etype;
	uint8_t *l3, *l4;

	if (!(ly & L_ETH) || (v4 && v6) || nl4 > 1 || (nl4 && !v4 && !v6) ||
	    ((ly & L_L4) && !(ly & (L_TCP | L_UDP))) || (v4 && (ihl < 5 || ihl > 15)))
		return -EINVAL;

	l2len = (ly & L_VLAN) ? 18 : 14;
	if (v4)
		l3len = ihl * 4;
	else if (v6)
		l3len = 40;
	if (ly & L_TCP)
		l4len = 20;
	else if (ly & L_UDP)
		l4len = 8;
	else if (ly & L_ICMP)
		l4len = 4; /* type, code, checksum; the rest is payload */
	if (!v4 && !v6 && ((ly & L_VLAN) ? f->vlan_proto : f->eth_type) == APIARY_ETH_P_ARP)
		body = 28;
	total = l2len + l3len + l4len + body + f->payload_len;
	if (total > 0xffff || (v4 && l3len + l4len + f->payload_len > 0xffff))
		return -EINVAL;
	if (!buf || total > size)
		return -ENOSPC;
	memset(buf, 0, total);

	if (ly & L_TCP)
		proto = 6;
	else if (ly & L_UDP)
		proto = 17;
	else if (ly & L_ICMP)
		proto = v6 ? IPPROTO_ICMP6_NUM : 1;
	else
		proto = v6 ? f->ip6_proto : f->ip_proto;
	etype = v4 ? APIARY_ETH_P_IPV4 : v6 ? APIARY_ETH_P_IPV6 :
		(ly & L_VLAN) ? f->vlan_proto : f->eth_type;

	memcpy(buf, f->eth_dst, 6);
	memcpy(buf + 6, f->eth_src, 6);
	if (ly & L_VLAN) {
		wr16(buf + 12, f->eth_type == APIARY_ETH_P_QINQ ? APIARY_ETH_P_QINQ : APIARY_ETH_P_VLAN);
		wr16(buf + 14, (uint16_t)((f->vlan_pcp & 7) << 13 | (f->vlan_id & 0xfff)));
		wr16(buf + 16, etype);
	} else {
		wr16(buf + 12, etype);
	}
	off = l2len;
	l3 = buf + off;

	if (v4) {
		l3[0] = (uint8_t)(0x40 | ihl);
		l3[1] = f->ip_tos;
		wr16(l3 + 2, (uint16_t)(l3len + l4len + f->payload_len));
		wr16(l3 + 4, f->ip_id);
		wr16(l3 + 6, f->ip_frag);
		l3[8] = f->ip_ttl;
		l3[9] = proto;
		memcpy(l3 + 12, f->ip_src, 4);
		memcpy(l3 + 16, f->ip_dst, 4);
		/* Options: NOPs, then End of Option List in the last byte. */
		if (ihl > 5)
			memset(l3 + 20, 1, l3len - 21);
		wr16(l3 + 10, csum_fold(csum_add(0, l3, l3len)));
	} else if (v6) {
		wr32(l3, 0x60000000u);
		wr16(l3 + 4, (uint16_t)(l4len + f->payload_len));
		l3[6] = proto;
		l3[7] = f->ip6_ttl;
		memcpy(l3 + 8, f->ip6_src, 16);
		memcpy(l3 + 24, f->ip6_dst, 16);
	} else if (body) {
		/* ARP request: who has ip_dst, tell ip_src (Ethernet/IPv4). */
		wr16(l3, 1);
		wr16(l3 + 2, APIARY_ETH_P_IPV4);
		l3[4] = 6;
		l3[5] = 4;
		wr16(l3 + 6, 1);
		memcpy(l3 + 8, f->eth_src, 6);
		memcpy(l3 + 14, f->ip_src, 4);
		memcpy(l3 + 24, f->ip_dst, 4);
	}
	off += l3len;
	l4 = buf + off;

	if (nl4) {
		size_t seg = l4len + f->payload_len;
		uint32_t sum = 0;
		uint16_t c;

		if (ly & L_TCP) {
			wr16(l4, f->sport);
			wr16(l4 + 2, f->dport);
			wr32(l4 + 4, f->tcp_seq);
			wr32(l4 + 8, f->tcp_ack);
			l4[12] = 5 << 4;
			l4[13] = f->tcp_flags;
			wr16(l4 + 14, f->tcp_win);
		} else if (ly & L_UDP) {
			wr16(l4, f->sport);
			wr16(l4 + 2, f->dport);
			wr16(l4 + 4, (uint16_t)seg);
		} else {
			l4[0] = f->icmp_type;
			l4[1] = f->icmp_code;
		}
		/* ICMPv4 has no pseudo-header; TCP, UDP and ICMPv6 do. */
		if (!((ly & L_ICMP) && v4))
			sum = pseudo_sum(v6, l3, proto, seg);
		c = csum_fold(csum_add(sum, l4, seg));
		if ((ly & L_UDP) && c == 0)
			c = 0xffff;
		wr16(l4 + ((ly & L_TCP) ? 16 : (ly & L_UDP) ? 6 : 2), c);
	}
	return (long)total;
}

/* ---- describe ------------------------------------------------------- */

struct out {
	char *buf;
	size_t size, len;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->size ? o->buf + o->len : NULL,
		      o->len < o->size ? o->size - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void put_mac(struct out *o, const uint8_t *m)
{
	put(o, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void put_ip(struct out *o, int af, const uint8_t *a)
{
	char s[INET6_ADDRSTRLEN];

	put(o, "%s", inet_ntop(af, a, s, sizeof(s)) ? s : "?");
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmp6";
	default: return NULL;
	}
}

static const char *etype_name(uint16_t t)
{
	switch (t) {
	case APIARY_ETH_P_IPV4: return "ipv4";
	case APIARY_ETH_P_IPV6: return "ipv6";
	case APIARY_ETH_P_ARP: return "arp";
	case APIARY_ETH_P_VLAN: return "vlan";
	case APIARY_ETH_P_QINQ: return "qinq";
	default: return NULL;
	}
}

/* tcpdump's flag letters and order, so the text reads familiar. */
static void put_tcp_flags(struct out *o, uint8_t fl)
{
	static const struct {
		uint8_t bit;
		char c;
	} tab[] = { { 0x01, 'F' }, { 0x02, 'S' }, { 0x04, 'R' }, { 0x08, 'P' },
		    { 0x10, '.' }, { 0x20, 'U' }, { 0x40, 'E' }, { 0x80, 'W' } };

	put(o, "[");
	if (!fl)
		put(o, "none");
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (fl & tab[i].bit)
			put(o, "%c", tab[i].c);
	put(o, "]");
}

/* Describe a frame layer by layer for check output and reports. */
int apiary_packet_describe(const uint8_t *p, size_t len, char *buf, size_t size)
{
	struct apiary_pkt_fields f;
	struct out o = { buf, size, 0 };
	const char *n;
	size_t l3end = len;
	uint16_t type;

	if (size)
		buf[0] = 0;
	apiary_packet_parse(p, len, &f);
	type = f.eth_type;
	if (!(f.layers & L_ETH)) {
		put(&o, "runt frame %zu bytes", len);
		return (int)o.len;
	}
	put(&o, "eth ");
	put_mac(&o, f.eth_src);
	put(&o, " -> ");
	put_mac(&o, f.eth_dst);
	if (f.layers & L_VLAN) {
		put(&o, f.eth_type == APIARY_ETH_P_QINQ ? " qinq | vlan %u" : " vlan | vlan %u", f.vlan_id);
		if (f.vlan_pcp)
			put(&o, " pcp %u", f.vlan_pcp);
		type = f.vlan_proto;
	}
	n = etype_name(type);
	if (n)
		put(&o, " %s", n);
	else
		put(&o, " 0x%04x", type);

	if (f.layers & L_V4) {
		const uint8_t *ip = p + f.l3_off;
		size_t tot = rd16(ip + 2);

		put(&o, " | ipv4 ");
		put_ip(&o, AF_INET, f.ip_src);
		put(&o, " -> ");
		put_ip(&o, AF_INET, f.ip_dst);
		put(&o, " ttl %u proto ", f.ip_ttl);
		n = proto_name(f.ip_proto);
		if (n)
			put(&o, "%s", n);
		else
			put(&o, "%u", f.ip_proto);
		if (f.ip_ihl != 5)
			put(&o, " ihl %u", f.ip_ihl);
		if (f.ip_frag & 0x3fff)
			put(&o, " frag%s off %u", (f.ip_frag & 0x2000) ? " MF" : "",
			    (f.ip_frag & 0x1fff) * 8u);
		if (csum_fold(csum_add(0, ip, f.ip_ihl * 4u)) != 0)
			put(&o, " bad-csum");
		if (tot < f.ip_ihl * 4u || f.l3_off + tot > len)
			put(&o, " bad-len %zu", tot);
		else
			l3end = f.l3_off + tot;
	} else if (f.layers & L_V6) {
		const uint8_t *ip = p + f.l3_off;
		size_t plen = rd16(ip + 4);

		put(&o, " | ipv6 ");
		put_ip(&o, AF_INET6, f.ip6_src);
		put(&o, " -> ");
		put_ip(&o, AF_INET6, f.ip6_dst);
		put(&o, " hlim %u next ", f.ip6_ttl);
		n = proto_name(f.ip6_proto);
		if (n)
			put(&o, "%s", n);
		else
			put(&o, "%u", f.ip6_proto);
		if (f.l3_off + 40u + plen > len)
			put(&o, " bad-len %zu", plen);
		else
			l3end = f.l3_off + 40u + plen;
	} else if (type == APIARY_ETH_P_ARP && len - f.l3_off >= 28) {
		const uint8_t *a = p + f.l3_off;

		if (rd16(a + 6) == 1) {
			put(&o, " | arp who-has ");
			put_ip(&o, AF_INET, a + 24);
			put(&o, " tell ");
			put_ip(&o, AF_INET, a + 14);
		} else {
			put(&o, " | arp op %u ", rd16(a + 6));
			put_ip(&o, AF_INET, a + 14);
			put(&o, " is-at ");
			put_mac(&o, a + 8);
		}
	} else if (type == APIARY_ETH_P_IPV4 || type == APIARY_ETH_P_IPV6) {
		put(&o, " | %s malformed", etype_name(type));
	}

	if (f.layers & (L_TCP | L_UDP | L_ICMP)) {
		bool v6 = f.layers & L_V6;
		uint8_t proto = v6 ? f.ip6_proto : f.ip_proto;
		const uint8_t *l4 = p + f.l4_off;
		size_t seg = l3end - f.l4_off;
		uint32_t sum = 0;

		if (f.layers & L_TCP) {
			put(&o, " | tcp %u -> %u ", f.sport, f.dport);
			put_tcp_flags(&o, f.tcp_flags);
		} else if (f.layers & L_UDP) {
			put(&o, " | udp %u -> %u", f.sport, f.dport);
		} else {
			if (!v6 && f.icmp_type == 8 && !f.icmp_code)
				put(&o, " | icmp echo-request");
			else if (!v6 && f.icmp_type == 0 && !f.icmp_code)
				put(&o, " | icmp echo-reply");
			else
				put(&o, " | %s type %u code %u", v6 ? "icmp6" : "icmp", f.icmp_type,
				    f.icmp_code);
		}
		/* Checksums only over a segment the IP header bounds; UDP/IPv4 0
		 * means "no checksum". */
		if (l3end >= f.payload_off && !((f.layers & L_UDP) && !v6 && rd16(l4 + 6) == 0)) {
			if (!((f.layers & L_ICMP) && !v6))
				sum = pseudo_sum(v6, p + f.l3_off, proto, seg);
			if (csum_fold(csum_add(sum, l4, seg)) != 0)
				put(&o, " bad-csum");
		}
	}
	put(&o, " | payload %u bytes", f.payload_len);
	return (int)o.len;
}

/* ---- predicates ----------------------------------------------------- */

/* A literal as the number a field is compared with. */
apiary_u128 apiary_lit_value(const struct apiary_literal *l)
{
	switch (l->kind) {
	case APIARY_LIT_INT: return l->u;
	case APIARY_LIT_IPV4: return be_get(l->addr, 4);
	case APIARY_LIT_IPV6: return be_get(l->addr, 16);
	case APIARY_LIT_MAC: return be_get(l->addr, 6);
	case APIARY_LIT_RANGE: return l->lo;
	default: return 0;
	}
}

/* Interval [lo, hi] denoted by a literal item; true for a real CIDR. */
bool apiary_lit_interval(const struct apiary_literal *l, apiary_u128 *lo, apiary_u128 *hi,
			 apiary_u128 *mask)
{
	unsigned w = l->kind == APIARY_LIT_IPV4 ? 32 : l->kind == APIARY_LIT_IPV6 ? 128 : 0;
	apiary_u128 full, m;

	if (l->kind == APIARY_LIT_RANGE) {
		*lo = l->lo;
		*hi = l->hi;
		*mask = 0;
		return false;
	}
	*lo = *hi = apiary_lit_value(l);
	*mask = 0;
	if (!w || l->prefix < 0 || (unsigned)l->prefix >= w)
		return false;
	full = w == 128 ? ~(apiary_u128)0 : (((apiary_u128)1 << w) - 1);
	m = l->prefix == 0 ? 0 : (full << (w - (unsigned)l->prefix)) & full;
	*mask = m;
	*lo &= m;
	*hi = *lo | (full & ~m);
	return true;
}

/* Does v fall in a literal item (value, CIDR or range)? */
static bool lit_contains(const struct apiary_literal *l, apiary_u128 v)
{
	apiary_u128 lo, hi, m;

	if (l->kind == APIARY_LIT_SET) {
		for (size_t i = 0; i < l->nitems; i++)
			if (lit_contains(&l->items[i], v))
				return true;
		return false;
	}
	apiary_lit_interval(l, &lo, &hi, &m);
	return v >= lo && v <= hi;
}

/* One test on a packet; false when the field's layer is missing. */
static bool atom_eval(const struct apiary_pred *p, const struct apiary_pkt_fields *f)
{
	apiary_u128 v, lo, hi, m;

	if (!apiary_pkt_field_get(f, p->field, &v))
		return false;
	if (p->kind == APIARY_P_HAS) {
		m = apiary_lit_value(&p->value);
		return (v & m) == m;
	}
	if (p->kind == APIARY_P_IN)
		return lit_contains(&p->value, v);
	/* Comparisons against an interval (a CIDR): == is membership, < and >=
	 * look at its first value, <= and > at its last. */
	if (p->value.kind == APIARY_LIT_SET) {
		if (p->op == APIARY_OP_EQ)
			return lit_contains(&p->value, v);
		if (p->op == APIARY_OP_NE)
			return !lit_contains(&p->value, v);
		return false;
	}
	apiary_lit_interval(&p->value, &lo, &hi, &m);
	switch (p->op) {
	case APIARY_OP_EQ: return v >= lo && v <= hi;
	case APIARY_OP_NE: return !(v >= lo && v <= hi);
	case APIARY_OP_LT: return v < lo;
	case APIARY_OP_LE: return v <= hi;
	case APIARY_OP_GT: return v > hi;
	case APIARY_OP_GE: return v >= lo;
	}
	return false;
}

/* Evaluate a predicate tree on a parsed packet. */
bool apiary_pred_eval(const struct apiary_pred *p, const struct apiary_pkt_fields *f)
{
	if (!p)
		return true;
	switch (p->kind) {
	case APIARY_P_AND: return apiary_pred_eval(p->lhs, f) && apiary_pred_eval(p->rhs, f);
	case APIARY_P_OR: return apiary_pred_eval(p->lhs, f) || apiary_pred_eval(p->rhs, f);
	case APIARY_P_NOT: return !apiary_pred_eval(p->lhs, f);
	case APIARY_P_CMP:
	case APIARY_P_IN:
	case APIARY_P_HAS: return atom_eval(p, f);
	}
	return false;
}
