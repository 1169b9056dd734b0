/* SPDX-License-Identifier: MIT */
/*
 * The packet model shared by the z3 generator, the invariant checker and the
 * reports: a user-space view of the fields the spec's predicates talk about,
 * a parser with the same layer rules as the BPF dispatcher, an evaluator for
 * predicates, a builder of well-formed frames and a one-line description.
 *
 * Layer rules (what "a packet has layer L" means; the same as the BPF
 * parser include/apiary/bpf/parse.h of the compiler module):
 *   - ETH: 14 bytes fit. eth.type is the OUTER ethertype, as it sits in
 *     bytes 12..13 (a tagged frame has eth.type == vlan, 0x8100 or 0x88a8);
 *   - VLAN: eth.type is 0x8100 (802.1Q) or 0x88a8 (802.1ad) and 4 more bytes
 *     fit; the tag's inner ethertype (vlan_proto) selects L3; one tag only
 *     (an inner 0x8100 is just an unknown ethertype);
 *   - IPV4: eth.type 0x0800, version 4, IHL >= 5 and IHL*4 bytes fit;
 *   - IPV6: eth.type 0x86dd, version 6, the 40-byte fixed header fits
 *     (extension headers are not followed: ip6.proto is the first next header);
 *   - TCP/UDP/ICMP: the L3 protocol is 6/17/1 (IPv6: 6/17/58), for IPv4 the
 *     fragment offset is 0, and 20/8/4 bytes fit (TCP also needs a data
 *     offset >= 5); L4 = TCP or UDP. The ICMP header is 4 bytes (payload_off
 *     points at the identifier of an echo, as in BPF).
 * An ARP body (28 bytes) is a header: payload_len counts what follows it, its
 * sender/target protocol addresses are stored in ip_src/ip_dst (without the
 * IPV4 layer, so predicates on ip.* stay false).
 * Bounds are the frame's length, not the IP total length (as in BPF, where
 * data_end is the limit).
 */
#ifndef APIARY_PACKET_H
#define APIARY_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apiary/spec.h"

/* Field values up to 128 bits (IPv6 addresses), big-endian numbers for
 * addresses so that "compared as in the packet" is an integer compare. */
__extension__ typedef unsigned __int128 apiary_u128;

#define APIARY_ETH_P_IPV4 0x0800
#define APIARY_ETH_P_IPV6 0x86dd
#define APIARY_ETH_P_ARP 0x0806
#define APIARY_ETH_P_VLAN 0x8100
#define APIARY_ETH_P_QINQ 0x88a8

struct apiary_pkt_fields {
	uint32_t layers;     /* enum apiary_layer bits (spec.h) */

	uint8_t eth_src[6];
	uint8_t eth_dst[6];
	uint16_t eth_type;   /* outer ethertype, bytes 12..13 (host order) */
	uint16_t vlan_id;    /* 12 bits */
	uint8_t vlan_pcp;    /* 3 bits */
	uint16_t vlan_proto; /* VLAN: the ethertype after the tag */

	uint8_t ip_src[4];   /* network order */
	uint8_t ip_dst[4];
	uint8_t ip_proto;
	uint8_t ip_ttl;
	uint8_t ip_ihl;      /* 32-bit words, 5..15; build: 0 means 5 */
	uint8_t ip_tos;
	uint16_t ip_id;
	uint16_t ip_frag;    /* flags (DF 0x4000, MF 0x2000) | offset, host order */

	uint8_t ip6_src[16];
	uint8_t ip6_dst[16];
	uint8_t ip6_proto;   /* next header */
	uint8_t ip6_ttl;     /* hop limit */

	uint16_t sport;      /* tcp or udp */
	uint16_t dport;
	uint8_t tcp_flags;
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint16_t tcp_win;
	uint8_t icmp_type;   /* icmp or icmpv6 */
	uint8_t icmp_code;

	uint16_t payload_len; /* bytes after the last parsed header */

	/* Filled by apiary_packet_parse(); ignored by apiary_packet_build(). */
	uint16_t l3_off, l4_off, payload_off;
	uint16_t len;
};

/* Packet shapes: the layer combinations the z3 generator and random tests
 * enumerate. A shape without L3 keeps the fields' eth_type (vlan_proto when
 * tagged; e.g. ARP); a shape with L3 but no L4 keeps ip_proto / ip6_proto. */
struct apiary_pkt_shape {
	const char *name; /* "ipv4/tcp", "vlan/ipv6/udp", "eth" */
	uint32_t layers;
};
extern const struct apiary_pkt_shape apiary_pkt_shapes[];
extern const size_t apiary_pkt_nshapes;

/* Fill every field with sensible defaults for a frame with these layers:
 * MACs 02:00:00:00:00:01 -> 02:00:00:00:00:02, 10.0.0.1 -> 192.0.2.10,
 * 2001:db8::1 -> 2001:db8::10, TTL 64, vlan 100, tcp 40000 -> 80 [S]
 * window 65535, udp 40000 -> 53, icmp echo request with 4 payload bytes (its
 * identifier and sequence, zero), other payloads 0 bytes, eth.type
 * 0x8100 when tagged, ARP (or vlan_proto ARP) without L3, ip proto 47 / next
 * header 59 without L4. */
void apiary_pkt_fields_default(struct apiary_pkt_fields *f, uint32_t layers);

/* Parse a frame (Ethernet first). Never fails: an unparsable frame just has
 * fewer layers (a frame shorter than 14 bytes has none). Returns the layers. */
uint32_t apiary_packet_parse(const uint8_t *frame, size_t len, struct apiary_pkt_fields *f);

/* Build a well-formed frame from f->layers and the fields: IPv4 header
 * checksum, TCP/UDP checksums over the IPv4/IPv6 pseudo-header, ICMP and
 * ICMPv6 checksums (the ICMP header is the first 4 bytes), payload_len zero
 * bytes. Layers imply the ethertype and
 * protocol numbers (IPV4 => 0x0800, TCP => 6, ...); with VLAN the outer
 * type is eth_type if it is 0x88a8, else 0x8100. Needs ETH; at most one of
 * IPV4/IPV6 and one of TCP/UDP/ICMP; L4 needs L3. An ethertype without L3 and
 * equal to ARP gets a 28-byte ARP request body before the payload.
 * Returns the frame length, -EINVAL for an impossible layer set, -ENOSPC if
 * size is too small. */
long apiary_packet_build(const struct apiary_pkt_fields *f, uint8_t *buf, size_t size);

/* Human text decoded by layer, e.g.
 * "eth 02:00:00:00:00:01 -> 02:00:00:00:00:02 ipv4 | ipv4 10.0.0.1 -> 192.0.2.10
 *  ttl 64 proto tcp | tcp 40000 -> 80 [S] | payload 0 bytes"
 * Wrong checksums and truncated headers are marked. Returns the length it
 * wanted to write, like snprintf. */
int apiary_packet_describe(const uint8_t *frame, size_t len, char *buf, size_t size);

/* ---- fields as numbers (used by the evaluator and the z3 encoder) ---- */

/* Width of a field in the packet (vlan.id 12, ports 16, ipv6 128, ...) and the
 * layer bits a packet needs for the field to exist (l4.* needs APIARY_L_L4). */
unsigned apiary_pkt_field_bits(enum apiary_field id);
uint32_t apiary_pkt_field_layers(enum apiary_field id);

/* Value of a field; false if the packet lacks its layer. */
bool apiary_pkt_field_get(const struct apiary_pkt_fields *f, enum apiary_field id,
			  apiary_u128 *v);
/* Store a value (truncated to the field's width); layers are not touched. */
void apiary_pkt_field_set(struct apiary_pkt_fields *f, enum apiary_field id, apiary_u128 v);

/* ---- predicates ------------------------------------------------------ */

/* The literal as a number: INT as is, addresses and MACs big-endian. */
apiary_u128 apiary_lit_value(const struct apiary_literal *l);

/* The interval of values a literal item denotes: a CIDR its first..last
 * address, a range lo..hi, anything else the single value. Returns true for a
 * CIDR with a prefix shorter than the address (so callers may use a masked
 * compare); *mask gets the network mask then. */
bool apiary_lit_interval(const struct apiary_literal *l, apiary_u128 *lo, apiary_u128 *hi,
			 apiary_u128 *mask);

/* Evaluate a predicate on a parsed packet. A field implies its layer (the
 * test is false without it), `not` is plain negation, `in` takes a CIDR, a
 * range or a set (of values, CIDRs or ranges), `has` means all bits set, `==`
 * against a CIDR is membership. NULL is true (a classifier without match). */
bool apiary_pred_eval(const struct apiary_pred *p, const struct apiary_pkt_fields *f);

#endif
