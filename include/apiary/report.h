/* SPDX-License-Identifier: MIT */
/*
 * Reports rendered from violations: one self-contained HTML file for
 * reviewers (apiary-report), SARIF 2.1.0 and JUnit XML for CI
 * (apiary-check --sarif/--junit). Output goes to a FILE * the caller owns;
 * the functions never print anywhere else.
 *
 * Every string that comes from a spec, a program or a packet goes through
 * apiary_markup_escape() (HTML and XML share it).
 */
#ifndef APIARY_REPORT_H
#define APIARY_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "apiary/store.h"
#include "apiary/violation.h"

/* Write s escaped for HTML/XML text and attribute values: & < > " ' become
 * entities, control characters other than tab/newline/CR and invalid UTF-8
 * become U+FFFD (XML 1.0 forbids them). NULL writes nothing. */
void apiary_markup_escape(FILE *out, const char *s);

/* ---- HTML ------------------------------------------------------------- */

struct apiary_report {
	size_t sz;         /* sizeof(struct apiary_report) */
	const char *title; /* NULL: "Apiary conflict report" */
	/* Violations to show; waived ones are listed apart with their reason.
	 * apiary-check, which has no store, wraps its violations with
	 * id = index + 1, count = 1, status = APIARY_VSTATUS_NEW. */
	const struct apiary_stored_violation *violations;
	size_t nviolations;
	const struct apiary_store_run *runs; /* for the per-bundle summary; may be NULL */
	size_t nruns;
	int64_t generated_at; /* unix seconds shown in the header; 0: now */
};

/* One self-contained page (inline CSS, JS and SVG; no network). Returns 0
 * or -EIO if writing failed. */
int apiary_html_write(FILE *out, const struct apiary_report *r);

/* ---- CI formats ------------------------------------------------------- */

struct apiary_sarif_opts {
	size_t sz;
	const char *tool_version; /* NULL: the project version */
};

/* SARIF 2.1.0: one run, one result per violation, ruleId = invariant name,
 * locations = spec_path at each party's `enforcer` line/column,
 * partialFingerprints["apiary/dedup"] = dedup key, properties["apiary"] =
 * the violation JSON. opts may be NULL. */
int apiary_sarif_write(FILE *out, const char *spec_path, const struct apiary_violation *v,
		       size_t n, const struct apiary_sarif_opts *opts);

/* JUnit XML: one testsuite (named after suite, e.g. the bundle), one
 * testcase per invariant kind in `checked` (bit 1 << enum apiary_invariant;
 * 0 = every kind), failing with a <failure> that lists that kind's
 * error-severity violations; info-severity ones go to <system-out>. */
int apiary_junit_write(FILE *out, const char *suite, const struct apiary_violation *v, size_t n,
		       unsigned checked);

/* ---- packet decoding (what the HTML shows per layer) --------------------- */

#define APIARY_PKT_MAX_LAYERS 8
#define APIARY_PKT_MAX_FIELDS 16

struct apiary_pkt_field {
	const char *name;  /* "dport" */
	char value[64];    /* "23 (telnet)" */
	uint16_t off, len; /* bytes in the frame (for highlighting) */
};

struct apiary_pkt_layer {
	const char *name; /* "Ethernet", "802.1Q", "IPv4", "IPv6", "TCP", "UDP", "ICMP", "ICMPv6", "ARP" */
	uint16_t off, len;
	struct apiary_pkt_field fields[APIARY_PKT_MAX_FIELDS];
	int nfields;
};

struct apiary_pkt_decoded {
	struct apiary_pkt_layer layers[APIARY_PKT_MAX_LAYERS];
	int nlayers;
	uint16_t payload_off; /* first byte no layer claims */
	char note[96];        /* "truncated TCP header", "" if none */
};

/* Decode a frame (Ethernet first) layer by layer as far as it parses. */
void apiary_pkt_decode(const uint8_t *p, size_t len, struct apiary_pkt_decoded *d);


#endif
