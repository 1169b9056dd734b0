// SPDX-License-Identifier: MIT
/*
 * A small frame decoder for the reports: Ethernet, up to two VLAN tags,
 * ARP, IPv4, IPv6, TCP, UDP, ICMP, ICMPv6. It decodes what the bundle's
 * predicates talk about so a reviewer sees "tcp.dport 23" next to the
 * bytes; anything it does not understand is left as payload.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "apiary/abi.h"
#include "apiary/report.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Start a layer at off of len bytes; NULL when the table is full. */
static struct apiary_pkt_layer *layer(struct apiary_pkt_decoded *d, const char *name, size_t off,
				      size_t len)
{
	struct apiary_pkt_layer *l;

	if (d->nlayers >= APIARY_PKT_MAX_LAYERS)
		return NULL;
	l = &d->layers[d->nlayers++];
	memset(l, 0, sizeof(*l));
	l->name = name;
	l->off = (uint16_t)off;
	l->len = (uint16_t)len;
	d->payload_off = (uint16_t)(off + len);
	return l;
}

__attribute__((format(printf, 5, 6))) static void field(struct apiary_pkt_layer *l,
							const char *name, size_t off, size_t len,
							const char *fmt, ...)
{
	struct apiary_pkt_field *f;
	va_list ap;

	if (!l || l->nfields >= APIARY_PKT_MAX_FIELDS)
		return;
	f = &l->fields[l->nfields++];
	f->name = name;
	f->off = (uint16_t)off;
	f->len = (uint16_t)len;
	va_start(ap, fmt);
	vsnprintf(f->value, sizeof(f->value), fmt, ap);
	va_end(ap);
}

static void mac_field(struct apiary_pkt_layer *l, const char *name, const uint8_t *p, size_t off)
{
	field(l, name, off, 6, "%02x:%02x:%02x:%02x:%02x:%02x", p[off], p[off + 1], p[off + 2],
	      p[off + 3], p[off + 4], p[off + 5]);
}

static const char *ethertype_name(uint16_t t)
{
	switch (t) {
	case 0x0800:
		return "ipv4";
	case 0x86dd:
		return "ipv6";
	case 0x0806:
		return "arp";
	case 0x8100:
		return "vlan";
	case 0x88a8:
		return "qinq";
	default:
		return t < 0x0600 ? "802.3 length" : "unknown";
	}
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "icmpv6";
	case 0:
		return "hop-by-hop";
	case 43:
		return "routing";
	case 44:
		return "fragment";
	default:
		return "other";
	}
}

static void tcp_flags(uint8_t f, char *buf, size_t size)
{
	static const char *const names[] = { "fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr" };
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < 8; i++)
		if (f & (1u << i))
			n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? "," : "",
					      names[i]);
	if (!n)
		snprintf(buf, size, "none");
}

/* L4 header at off; proto is the IP protocol number. */
static void decode_l4(const uint8_t *p, size_t len, size_t off, uint8_t proto,
		      struct apiary_pkt_decoded *d)
{
	struct apiary_pkt_layer *l;
	char flags[48];

	switch (proto) {
	case 6: {
		size_t hl;

		if (len - off < 20) {
			snprintf(d->note, sizeof(d->note), "truncated TCP header (%zu bytes)", len - off);
			return;
		}
		hl = (size_t)(p[off + 12] >> 4) * 4;
		if (hl < 20 || hl > len - off)
			hl = 20;
		l = layer(d, "TCP", off, hl);
		field(l, "sport", off, 2, "%u", rd16(p + off));
		field(l, "dport", off + 2, 2, "%u", rd16(p + off + 2));
		field(l, "seq", off + 4, 4, "%u", rd32(p + off + 4));
		field(l, "ack", off + 8, 4, "%u", rd32(p + off + 8));
		field(l, "data offset", off + 12, 1, "%u bytes", p[off + 12] >> 4 << 2);
		tcp_flags(p[off + 13], flags, sizeof(flags));
		field(l, "flags", off + 13, 1, "0x%02x (%s)", p[off + 13], flags);
		field(l, "window", off + 14, 2, "%u", rd16(p + off + 14));
		field(l, "checksum", off + 16, 2, "0x%04x", rd16(p + off + 16));
		field(l, "urgent", off + 18, 2, "%u", rd16(p + off + 18));
		return;
	}
	case 17:
		if (len - off < 8) {
			snprintf(d->note, sizeof(d->note), "truncated UDP header (%zu bytes)", len - off);
			return;
		}
		l = layer(d, "UDP", off, 8);
		field(l, "sport", off, 2, "%u", rd16(p + off));
		field(l, "dport", off + 2, 2, "%u", rd16(p + off + 2));
		field(l, "length", off + 4, 2, "%u", rd16(p + off + 4));
		field(l, "checksum", off + 6, 2, "0x%04x", rd16(p + off + 6));
		return;
	case 1:
	case 58:
		if (len - off < 4) {
			snprintf(d->note, sizeof(d->note), "truncated ICMP header (%zu bytes)", len - off);
			return;
		}
		l = layer(d, proto == 1 ? "ICMP" : "ICMPv6", off, 4);
		field(l, "type", off, 1, "%u%s", p[off],
		      proto == 1 ? (p[off] == 8 ? " (echo request)" : p[off] == 0 ? " (echo reply)" :
				    p[off] == 3 ? " (unreachable)" : "") :
				   (p[off] == 128 ? " (echo request)" : p[off] == 129 ? " (echo reply)" :
				    p[off] == 135 ? " (neighbor solicitation)" : ""));
		field(l, "code", off + 1, 1, "%u", p[off + 1]);
		field(l, "checksum", off + 2, 2, "0x%04x", rd16(p + off + 2));
		return;
	default:
		return;
	}
}

void apiary_pkt_decode(const uint8_t *p, size_t len, struct apiary_pkt_decoded *d)
{
	struct apiary_pkt_layer *l;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	size_t off = 14;
	uint16_t type;

	memset(d, 0, sizeof(*d));
	if (len < 14) {
		snprintf(d->note, sizeof(d->note), "frame shorter than an Ethernet header (%zu bytes)",
			 len);
		return;
	}
	l = layer(d, "Ethernet", 0, 14);
	mac_field(l, "dst", p, 0);
	mac_field(l, "src", p, 6);
	type = rd16(p + 12);
	field(l, "type", 12, 2, "0x%04x (%s)", type, ethertype_name(type));
	for (int tags = 0; (type == 0x8100 || type == 0x88a8) && tags < 2; tags++) {
		if (len - off < 4) {
			snprintf(d->note, sizeof(d->note), "truncated VLAN tag");
			return;
		}
		l = layer(d, type == 0x8100 ? "802.1Q" : "802.1ad", off, 4);
		field(l, "pcp", off, 1, "%u", p[off] >> 5);
		field(l, "dei", off, 1, "%u", (p[off] >> 4) & 1);
		field(l, "id", off, 2, "%u", rd16(p + off) & 0x0fff);
		type = rd16(p + off + 2);
		field(l, "type", off + 2, 2, "0x%04x (%s)", type, ethertype_name(type));
		off += 4;
	}
	if (type == 0x0800) {
		size_t ihl;
		uint16_t frag;

		if (len - off < 20) {
			snprintf(d->note, sizeof(d->note), "truncated IPv4 header (%zu bytes)", len - off);
			return;
		}
		ihl = (size_t)(p[off] & 15) * 4;
		if (ihl < 20 || ihl > len - off)
			ihl = 20;
		l = layer(d, "IPv4", off, ihl);
		field(l, "version", off, 1, "%u", p[off] >> 4);
		field(l, "ihl", off, 1, "%zu bytes", (size_t)(p[off] & 15) * 4);
		field(l, "dscp/ecn", off + 1, 1, "%u/%u", p[off + 1] >> 2, p[off + 1] & 3);
		field(l, "total length", off + 2, 2, "%u", rd16(p + off + 2));
		field(l, "id", off + 4, 2, "0x%04x", rd16(p + off + 4));
		frag = rd16(p + off + 6);
		field(l, "flags", off + 6, 1, "%s%s", frag & 0x4000 ? "DF " : "",
		      frag & 0x2000 ? "MF" : "");
		field(l, "fragment offset", off + 6, 2, "%u", (frag & 0x1fff) * 8);
		field(l, "ttl", off + 8, 1, "%u", p[off + 8]);
		field(l, "proto", off + 9, 1, "%u (%s)", p[off + 9], proto_name(p[off + 9]));
		field(l, "checksum", off + 10, 2, "0x%04x", rd16(p + off + 10));
		inet_ntop(AF_INET, p + off + 12, a, sizeof(a));
		inet_ntop(AF_INET, p + off + 16, b, sizeof(b));
		field(l, "src", off + 12, 4, "%s", a);
		field(l, "dst", off + 16, 4, "%s", b);
		if ((frag & 0x1fff) == 0)
			decode_l4(p, len, off + ihl, p[off + 9], d);
		else
			snprintf(d->note, sizeof(d->note), "non-first fragment: no L4 header");
	} else if (type == 0x86dd) {
		uint32_t w;

		if (len - off < 40) {
			snprintf(d->note, sizeof(d->note), "truncated IPv6 header (%zu bytes)", len - off);
			return;
		}
		w = rd32(p + off);
		l = layer(d, "IPv6", off, 40);
		field(l, "version", off, 1, "%u", w >> 28);
		field(l, "traffic class", off, 2, "%u", (w >> 20) & 0xff);
		field(l, "flow label", off + 1, 3, "0x%05x", w & 0xfffff);
		field(l, "payload length", off + 4, 2, "%u", rd16(p + off + 4));
		field(l, "next header", off + 6, 1, "%u (%s)", p[off + 6], proto_name(p[off + 6]));
		field(l, "hop limit", off + 7, 1, "%u", p[off + 7]);
		inet_ntop(AF_INET6, p + off + 8, a, sizeof(a));
		inet_ntop(AF_INET6, p + off + 24, b, sizeof(b));
		field(l, "src", off + 8, 16, "%s", a);
		field(l, "dst", off + 24, 16, "%s", b);
		decode_l4(p, len, off + 40, p[off + 6], d);
	} else if (type == 0x0806) {
		if (len - off < 28) {
			snprintf(d->note, sizeof(d->note), "truncated ARP (%zu bytes)", len - off);
			return;
		}
		l = layer(d, "ARP", off, 28);
		field(l, "op", off + 6, 2, "%u (%s)", rd16(p + off + 6),
		      rd16(p + off + 6) == 1 ? "request" : rd16(p + off + 6) == 2 ? "reply" : "other");
		mac_field(l, "sender mac", p, off + 8);
		inet_ntop(AF_INET, p + off + 14, a, sizeof(a));
		field(l, "sender ip", off + 14, 4, "%s", a);
		mac_field(l, "target mac", p, off + 18);
		inet_ntop(AF_INET, p + off + 24, b, sizeof(b));
		field(l, "target ip", off + 24, 4, "%s", b);
	}
}

/* Verdict names of XDP and TC; the sentinel of opaque programs is named too. */
