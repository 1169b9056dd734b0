/* SPDX-License-Identifier: MIT */
/* Violations built by hand as the checker would produce them. */
#ifndef APIARY_TEST_FIXTURES_H
#define APIARY_TEST_FIXTURES_H

#include "apiary/violation.h"

#define HOSTILE_SCRIPT "<script>document.documentElement.setAttribute('data-pwned','1')</script>"
#define HOSTILE_ATTR "x\" onmouseover=\"alert(1)\" data-x='&amp;"
#define HOSTILE_IMG "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','2')\">"

/* A 54-byte TCP SYN 10.66.1.2:40000 -> 192.0.2.10:80 into buf; returns len. */
size_t fx_tcp_syn(uint8_t *buf);

/* firewall (security) vs lb (netops): firewall -> lb drops, lb -> firewall
 * transmits a rewritten packet; different map changes. bundle "edge". */
void fx_commutativity(struct apiary_violation *v);
/* meter (observability) did not see a UDP packet in a VLAN. */
void fx_coverage(struct apiary_violation *v);
/* Info-severity ordering proof on an IPv6 packet. */
void fx_ordering_info(struct apiary_violation *v);
/* Every name, summary and label hostile (script tags, quotes, &). */
void fx_hostile(struct apiary_violation *v);

#endif
