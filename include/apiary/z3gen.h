/* SPDX-License-Identifier: MIT */
/*
 * Test packets from predicates, with z3. Every predicate (an effect's `when`,
 * a cover's `sees`, the classifier's `match`) is encoded over bit-vector
 * fields, once per packet shape (apiary_pkt_shapes in packet.h: a field the
 * shape lacks makes its tests false). The generator then asks for packets
 *   - INSIDE each predicate (one per shape where it can hold);
 *   - on its BOUNDARY: for each test, the values at its edges and just past
 *     them (dport 22, 23, 24 for `== 23`; first and last address of a CIDR
 *     and the ones just outside; lo-1, lo, hi, hi+1 of a range; a `has` mask
 *     exactly and with one bit missing), keeping the rest of the predicate
 *     true where possible;
 *   - in the OVERLAP P and Q of every pair, and in the DIFFERENCES P and not
 *     Q, not P and Q;
 *   - OUTSIDE all of them (one per shape).
 * Fields the question does not pin keep the defaults of
 * apiary_pkt_fields_default() where the solver allows, so packets read well.
 * Frames are built with apiary_packet_build() and deduplicated: a frame is
 * handed out once, under the first question that produced it (an overlap
 * packet equal to an earlier boundary packet is not repeated). `member`
 * tells, for every packet, which predicates hold: select on it, not on
 * `kind`, e.g. "all packets in P and Q" = member[p] && member[q].
 *
 * Library code: returns negative errno, never prints, never aborts on a z3
 * error (an error handler is installed; the message is kept).
 */
#ifndef APIARY_Z3GEN_H
#define APIARY_Z3GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apiary/packet.h"
#include "apiary/spec.h"

enum apiary_z3gen_kind {
	APIARY_Z3K_INSIDE = 1u << 0,
	APIARY_Z3K_BOUNDARY = 1u << 1,
	APIARY_Z3K_OVERLAP = 1u << 2, /* P and Q */
	APIARY_Z3K_DIFF = 1u << 3,    /* P and not Q, not P and Q */
	APIARY_Z3K_OUTSIDE = 1u << 4, /* none of them */
	APIARY_Z3K_ALL = 0x1f,
};

struct apiary_z3gen_opts {
	size_t sz;            /* sizeof(struct apiary_z3gen_opts) */
	size_t max_packets;   /* cap on packets handed out; 0: 4096 */
	unsigned timeout_ms;  /* per solver query; 0: 2000 */
	uint32_t kinds;       /* enum apiary_z3gen_kind bits; 0: all */
	uint64_t shapes;      /* bit i = apiary_pkt_shapes[i]; 0: all */
	uint16_t payload_len; /* payload bytes of generated frames; 0: defaults
			       * (none; 4 for ICMP: echo id and sequence) */
};

/* One generated packet, valid during the callback only. */
struct apiary_z3gen_packet {
	const uint8_t *frame;
	size_t len;
	enum apiary_z3gen_kind kind;
	const char *why;      /* "inside fw.drop [ipv4/tcp]", "boundary fw.drop: tcp.dport = 24 ..." */
	int a, b;             /* predicate indexes the question was about; -1 if none */
	size_t shape;         /* index in apiary_pkt_shapes */
	/* member[k]: predicate k holds on this packet according to the z3 model
	 * (an independent check of apiary_pred_eval). npreds entries. */
	const bool *member;
	size_t npreds;
};

/* Return 0 to go on; anything else stops the run and is returned by it. */
typedef int (*apiary_z3gen_cb)(void *ctx, const struct apiary_z3gen_packet *pkt);

struct apiary_z3gen_stats {
	size_t queries;     /* solver checks: one question in one shape */
	size_t sat;         /* ... of which satisfiable, */
	size_t unsat;       /* unsatisfiable (e.g. a tcp field in a udp shape), */
	size_t unknown;     /* or not decided in timeout_ms */
	size_t empty;       /* questions no selected shape could answer */
	size_t generated;   /* packets handed to the callback */
	size_t duplicates;  /* models whose frame was already handed out */
	size_t capped;      /* packets built but not handed out: max_packets reached */
	size_t skipped;     /* questions not asked after the cap: never silent */
};

struct apiary_z3gen;

/* NULL opts: defaults. Returns NULL and sets errno on failure. */
struct apiary_z3gen *apiary_z3gen_new(const struct apiary_z3gen_opts *opts);
void apiary_z3gen_free(struct apiary_z3gen *g);

/* Add a predicate (borrowed: it must outlive apiary_z3gen_run) with a label
 * copied for the `why` text. Returns its index (>= 0) or -EINVAL / -ENOMEM. */
int apiary_z3gen_add(struct apiary_z3gen *g, const struct apiary_pred *p, const char *label);
/* Add every predicate of a spec (the classifier's match, each effect's
 * `when`, each cover's `sees`), labelled by who declared it. Returns 0 or
 * a negative errno. */
int apiary_z3gen_add_spec(struct apiary_z3gen *g, const struct apiary_spec *s);

/* Generate packets for everything added, in the order INSIDE, BOUNDARY,
 * OVERLAP, DIFF, OUTSIDE. Returns 0, the callback's nonzero value, -EIO for a
 * z3 error (see apiary_z3gen_error) or -ENOMEM. Stats are reset per run. */
int apiary_z3gen_run(struct apiary_z3gen *g, apiary_z3gen_cb cb, void *ctx);

const struct apiary_z3gen_stats *apiary_z3gen_stats(const struct apiary_z3gen *g);
/* Last z3 error message, or NULL. */
const char *apiary_z3gen_error(const struct apiary_z3gen *g);

/* One packet satisfying p in one of the shapes (mask as opts.shapes, 0: all,
 * tried in table order). Returns the frame length, 0 if p cannot hold in
 * those shapes, or a negative errno. */
long apiary_z3gen_example(const struct apiary_pred *p, uint64_t shapes, uint8_t *buf, size_t size);

#endif
