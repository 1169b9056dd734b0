// SPDX-License-Identifier: MIT
/*
 * Test-only stand-in for the spec module's field table, linked only while
 * spec/ does not build spec_lib yet (see meson.build). Same content as the
 * grammar in the brief.
 */
#include <string.h>

#include "apiary/spec.h"

#define L4 (APIARY_L_L4)
const struct apiary_field_info apiary_fields[APIARY_F__COUNT] = {
	{ APIARY_F_ETH_TYPE, "eth.type", APIARY_T_INT, 16, APIARY_L_ETH },
	{ APIARY_F_ETH_SRC, "eth.src", APIARY_T_MAC, 48, APIARY_L_ETH },
	{ APIARY_F_ETH_DST, "eth.dst", APIARY_T_MAC, 48, APIARY_L_ETH },
	{ APIARY_F_VLAN_ID, "vlan.id", APIARY_T_INT, 12, APIARY_L_VLAN },
	{ APIARY_F_IP_SRC, "ip.src", APIARY_T_IPV4, 32, APIARY_L_IPV4 },
	{ APIARY_F_IP_DST, "ip.dst", APIARY_T_IPV4, 32, APIARY_L_IPV4 },
	{ APIARY_F_IP_PROTO, "ip.proto", APIARY_T_INT, 8, APIARY_L_IPV4 },
	{ APIARY_F_IP_TTL, "ip.ttl", APIARY_T_INT, 8, APIARY_L_IPV4 },
	{ APIARY_F_IP6_SRC, "ip6.src", APIARY_T_IPV6, 128, APIARY_L_IPV6 },
	{ APIARY_F_IP6_DST, "ip6.dst", APIARY_T_IPV6, 128, APIARY_L_IPV6 },
	{ APIARY_F_IP6_PROTO, "ip6.proto", APIARY_T_INT, 8, APIARY_L_IPV6 },
	{ APIARY_F_IP6_TTL, "ip6.ttl", APIARY_T_INT, 8, APIARY_L_IPV6 },
	{ APIARY_F_TCP_SPORT, "tcp.sport", APIARY_T_INT, 16, APIARY_L_TCP },
	{ APIARY_F_TCP_DPORT, "tcp.dport", APIARY_T_INT, 16, APIARY_L_TCP },
	{ APIARY_F_TCP_FLAGS, "tcp.flags", APIARY_T_INT, 8, APIARY_L_TCP },
	{ APIARY_F_UDP_SPORT, "udp.sport", APIARY_T_INT, 16, APIARY_L_UDP },
	{ APIARY_F_UDP_DPORT, "udp.dport", APIARY_T_INT, 16, APIARY_L_UDP },
	{ APIARY_F_ICMP_TYPE, "icmp.type", APIARY_T_INT, 8, APIARY_L_ICMP },
	{ APIARY_F_L4_SPORT, "l4.sport", APIARY_T_INT, 16, L4 },
	{ APIARY_F_L4_DPORT, "l4.dport", APIARY_T_INT, 16, L4 },
};

const struct apiary_field_info *apiary_field_lookup(const char *name)
{
	for (int i = 0; i < APIARY_F__COUNT; i++)
		if (!strcmp(apiary_fields[i].name, name))
			return &apiary_fields[i];
	return NULL;
}
