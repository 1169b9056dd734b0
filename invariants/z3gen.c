// SPDX-License-Identifier: MIT
/*
 * z3 packet generator: predicates as bit-vector formulas per packet shape,
 * questions (inside, boundary, overlap, difference, outside) asked with
 * push/pop on one incremental solver per shape, models turned into frames.
 *
 * The context is a plain (non reference counted) Z3 context: ASTs live until
 * it is deleted, which keeps the code simple; one run creates a few thousand
 * nodes. Solvers and models are reference counted by hand.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <z3.h>

#include "apiary/z3gen.h"

#define DEFAULT_MAX_PACKETS 4096
#define DEFAULT_TIMEOUT_MS 2000
#define FRAME_MAX 2048
#define MAX_SHAPES 64

struct shape {
	size_t idx;              /* in apiary_pkt_shapes */
	uint32_t layers;
	Z3_solver s;
	Z3_ast var[APIARY_F__COUNT];  /* NULL: field absent; may be a numeral */
	bool free_var[APIARY_F__COUNT]; /* a solver variable we read back */
	Z3_ast fit[APIARY_F__COUNT];  /* Bool: var == its default (assumption) */
};

struct pred_ent {
	const struct apiary_pred *p;
	char *label;
};

struct seen {
	uint64_t hash;
	uint8_t *frame;
	size_t len;
};

/* What one question asks; see q_formula(). */
struct question {
	enum apiary_z3gen_kind kind;
	int a, b;             /* predicates; b negated for DIFF */
	bool per_shape;       /* a packet for every shape, not just the first */
	/* BOUNDARY */
	const struct apiary_pred *atom;
	int variant;          /* 0: atom := true, 1: atom := false, 2: field only */
	apiary_u128 value;
	char why[384];
};

struct apiary_z3gen {
	struct apiary_z3gen_opts o;
	Z3_context z;
	Z3_sort boolsort;
	struct shape *shapes;
	size_t nshapes;
	struct pred_ent *preds;
	size_t npreds, cappreds;
	struct apiary_z3gen_stats st;
	char *errmsg;
	int err;              /* first fatal error of the run */
	bool full;            /* max_packets reached: count, do not solve */

	struct seen *seen;    /* open addressing on hash */
	size_t nseen, capseen;

	bool *member;
	uint8_t frame[FRAME_MAX];
	apiary_z3gen_cb cb;
	void *cbctx;
	int stop;             /* callback's nonzero value */
};

/* z3 calls this instead of aborting; the generator polls the error code. */
static void z3_on_error(Z3_context c, Z3_error_code e)
{
	(void)c;
	(void)e;
}

/* Record a pending z3 error; returns true if there was one. */
static bool z3_failed(struct apiary_z3gen *g)
{
	Z3_error_code e = Z3_get_error_code(g->z);
	const char *m;

	if (e == Z3_OK)
		return false;
	m = Z3_get_error_msg(g->z, e);
	free(g->errmsg);
	g->errmsg = strdup(m ? m : "z3 error");
	/* Clear it so later calls are not confused by a stale code. */
	Z3_set_error(g->z, Z3_OK);
	if (!g->err)
		g->err = -EIO;
	return true;
}

/* ---- numbers -------------------------------------------------------- */

static apiary_u128 field_max(unsigned w)
{
	return w >= 128 ? ~(apiary_u128)0 : (((apiary_u128)1 << w) - 1);
}

static void u128_dec(apiary_u128 v, char *out)
{
	char tmp[48];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = 0;
}

static apiary_u128 dec_u128(const char *s)
{
	apiary_u128 v = 0;

	for (; s && *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (apiary_u128)(*s - '0');
	return v;
}

static Z3_ast num(struct apiary_z3gen *g, unsigned w, apiary_u128 v)
{
	char s[48];

	u128_dec(v & field_max(w), s);
	return Z3_mk_numeral(g->z, s, Z3_mk_bv_sort(g->z, w));
}

/* Field value in text, for `why`: addresses as addresses. */
static void fmt_value(enum apiary_field f, apiary_u128 v, char *out, size_t size)
{
	uint8_t b[16];
	unsigned w = apiary_pkt_field_bits(f);

	if (w == 32 || w == 128) {
		for (size_t i = w / 8; i-- > 0; v >>= 8)
			b[i] = (uint8_t)v;
		if (!inet_ntop(w == 32 ? AF_INET : AF_INET6, b, out, (socklen_t)size))
			snprintf(out, size, "?");
	} else if (w == 48) {
		for (size_t i = 6; i-- > 0; v >>= 8)
			b[i] = (uint8_t)v;
		snprintf(out, size, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
			 b[5]);
	} else if (f == APIARY_F_ETH_TYPE || f == APIARY_F_TCP_FLAGS) {
		snprintf(out, size, "0x%llx", (unsigned long long)v);
	} else {
		snprintf(out, size, "%llu", (unsigned long long)v);
	}
}

static const char *field_name(enum apiary_field f)
{
	return (unsigned)f < APIARY_F__COUNT && apiary_fields[f].name ? apiary_fields[f].name : "?";
}

static Z3_ast mk_or2(Z3_context z, Z3_ast a, Z3_ast b);

/* ---- shapes --------------------------------------------------------- */

/* Declare the shape's fields: layer-implied ones are numerals, the rest
 * variables with "not one of the parsed protocols" where the shape says "other",
 * each with a tracking literal that pins it to its default. */
static int shape_init(struct apiary_z3gen *g, struct shape *sh, size_t idx)
{
	struct apiary_pkt_fields dflt;
	Z3_context z = g->z;
	Z3_params prm;
	uint32_t ly = apiary_pkt_shapes[idx].layers;
	apiary_u128 v;

	sh->idx = idx;
	sh->layers = ly;
	sh->s = Z3_mk_simple_solver(z); /* incremental SMT core: cheap to create */
	if (z3_failed(g) || !sh->s)
		return -EIO;
	Z3_solver_inc_ref(z, sh->s);
	prm = Z3_mk_params(z);
	Z3_params_inc_ref(z, prm);
	Z3_params_set_uint(z, prm, Z3_mk_string_symbol(z, "timeout"), g->o.timeout_ms);
	Z3_solver_set_params(z, sh->s, prm);
	Z3_params_dec_ref(z, prm);

	apiary_pkt_fields_default(&dflt, ly);
	for (int f = 0; f < APIARY_F__COUNT; f++) {
		uint32_t need = apiary_pkt_field_layers(f);
		unsigned w = apiary_pkt_field_bits(f);
		Z3_ast x;

		if ((ly & need) != need)
			continue;
		if (f == APIARY_F_L4_SPORT || f == APIARY_F_L4_DPORT)
			continue; /* aliases, below */
		if (f == APIARY_F_ETH_TYPE && !(ly & APIARY_L_VLAN) &&
		    (ly & (APIARY_L_IPV4 | APIARY_L_IPV6))) {
			sh->var[f] = num(g, w, (ly & APIARY_L_IPV4) ? APIARY_ETH_P_IPV4 :
								     APIARY_ETH_P_IPV6);
			continue;
		}
		if (f == APIARY_F_IP_PROTO && (ly & (APIARY_L_TCP | APIARY_L_UDP | APIARY_L_ICMP))) {
			sh->var[f] = num(g, w, dflt.ip_proto);
			continue;
		}
		if (f == APIARY_F_IP6_PROTO && (ly & (APIARY_L_TCP | APIARY_L_UDP | APIARY_L_ICMP))) {
			sh->var[f] = num(g, w, dflt.ip6_proto);
			continue;
		}
		x = Z3_mk_const(z, Z3_mk_int_symbol(z, (int)(idx * 64 + (size_t)f)),
				Z3_mk_bv_sort(z, w));
		sh->var[f] = x;
		sh->free_var[f] = true;
		sh->fit[f] = Z3_mk_const(z, Z3_mk_int_symbol(z, (int)(idx * 64 + 32 + (size_t)f)),
					 g->boolsort);
		apiary_pkt_field_get(&dflt, f, &v);
		Z3_solver_assert(z, sh->s, Z3_mk_implies(z, sh->fit[f], Z3_mk_eq(z, x, num(g, w, v))));

		/* eth.type is the outer type: a tag's TPID in VLAN shapes; in
		 * shapes without L3 anything the parser does not take for IP or
		 * a tag. */
		if (f == APIARY_F_ETH_TYPE && (ly & APIARY_L_VLAN)) {
			Z3_solver_assert(z, sh->s,
					 mk_or2(z, Z3_mk_eq(z, x, num(g, w, APIARY_ETH_P_VLAN)),
						Z3_mk_eq(z, x, num(g, w, APIARY_ETH_P_QINQ))));
		} else if (f == APIARY_F_ETH_TYPE) {
			Z3_ast c[5] = {
				Z3_mk_bvuge(z, x, num(g, w, 0x0600)),
				Z3_mk_not(z, Z3_mk_eq(z, x, num(g, w, APIARY_ETH_P_IPV4))),
				Z3_mk_not(z, Z3_mk_eq(z, x, num(g, w, APIARY_ETH_P_IPV6))),
				Z3_mk_not(z, Z3_mk_eq(z, x, num(g, w, APIARY_ETH_P_VLAN))),
				Z3_mk_not(z, Z3_mk_eq(z, x, num(g, w, APIARY_ETH_P_QINQ))),
			};
			Z3_solver_assert(z, sh->s, Z3_mk_and(z, 5, c));
		} else if (f == APIARY_F_IP_PROTO || f == APIARY_F_IP6_PROTO) {
			unsigned icmp = f == APIARY_F_IP_PROTO ? 1 : 58;
			Z3_ast c[3] = {
				Z3_mk_not(z, Z3_mk_eq(z, x, num(g, w, 6))),
				Z3_mk_not(z, Z3_mk_eq(z, x, num(g, w, 17))),
				Z3_mk_not(z, Z3_mk_eq(z, x, num(g, w, icmp))),
			};
			Z3_solver_assert(z, sh->s, Z3_mk_and(z, 3, c));
		}
	}
	if (ly & APIARY_L_L4) {
		bool tcp = ly & APIARY_L_TCP;

		sh->var[APIARY_F_L4_SPORT] = sh->var[tcp ? APIARY_F_TCP_SPORT : APIARY_F_UDP_SPORT];
		sh->var[APIARY_F_L4_DPORT] = sh->var[tcp ? APIARY_F_TCP_DPORT : APIARY_F_UDP_DPORT];
	}
	return z3_failed(g) ? -EIO : 0;
}

/* ---- encoding ------------------------------------------------------- */

/* and/or/not folding the constants true and false, so a question about a
 * field the shape lacks is plain `false` and never reaches the solver. */
static Z3_ast mk_and2(Z3_context z, Z3_ast a, Z3_ast b)
{
	Z3_ast v[2] = { a, b };
	Z3_lbool x = Z3_get_bool_value(z, a), y = Z3_get_bool_value(z, b);

	if (x == Z3_L_FALSE || y == Z3_L_TRUE)
		return a;
	if (y == Z3_L_FALSE || x == Z3_L_TRUE)
		return b;
	return Z3_mk_and(z, 2, v);
}

static Z3_ast mk_or2(Z3_context z, Z3_ast a, Z3_ast b)
{
	Z3_ast v[2] = { a, b };
	Z3_lbool x = Z3_get_bool_value(z, a), y = Z3_get_bool_value(z, b);

	if (x == Z3_L_TRUE || y == Z3_L_FALSE)
		return a;
	if (y == Z3_L_TRUE || x == Z3_L_FALSE)
		return b;
	return Z3_mk_or(z, 2, v);
}

static Z3_ast mk_not(Z3_context z, Z3_ast a)
{
	switch (Z3_get_bool_value(z, a)) {
	case Z3_L_TRUE: return Z3_mk_false(z);
	case Z3_L_FALSE: return Z3_mk_true(z);
	default: return Z3_mk_not(z, a);
	}
}

/* e >= c and e <= c for a w-bit e, folding constants out of its range. */
static Z3_ast ge_c(struct apiary_z3gen *g, Z3_ast e, unsigned w, apiary_u128 c)
{
	if (c == 0)
		return Z3_mk_true(g->z);
	if (c > field_max(w))
		return Z3_mk_false(g->z);
	return Z3_mk_bvuge(g->z, e, num(g, w, c));
}

static Z3_ast le_c(struct apiary_z3gen *g, Z3_ast e, unsigned w, apiary_u128 c)
{
	if (c >= field_max(w))
		return Z3_mk_true(g->z);
	return Z3_mk_bvule(g->z, e, num(g, w, c));
}

static Z3_ast eq_c(struct apiary_z3gen *g, Z3_ast e, unsigned w, apiary_u128 c)
{
	if (c > field_max(w))
		return Z3_mk_false(g->z);
	return Z3_mk_eq(g->z, e, num(g, w, c));
}

/* e in one literal item: a masked compare for a CIDR of the field's own
 * width, an equality for a value, two compares for a range. */
static Z3_ast enc_item(struct apiary_z3gen *g, Z3_ast e, unsigned w, const struct apiary_literal *l)
{
	apiary_u128 lo, hi, m;
	bool cidr;

	if (l->kind == APIARY_LIT_SET) {
		Z3_ast r = Z3_mk_false(g->z);

		for (size_t i = 0; i < l->nitems; i++)
			r = mk_or2(g->z, r, enc_item(g, e, w, &l->items[i]));
		return r;
	}
	cidr = apiary_lit_interval(l, &lo, &hi, &m);
	if (lo > hi)
		return Z3_mk_false(g->z);
	if (cidr && ((l->kind == APIARY_LIT_IPV4 && w == 32) || (l->kind == APIARY_LIT_IPV6 && w == 128)))
		return Z3_mk_eq(g->z, Z3_mk_bvand(g->z, e, num(g, w, m)), num(g, w, lo));
	if (lo == hi)
		return eq_c(g, e, w, lo);
	return mk_and2(g->z, ge_c(g, e, w, lo), le_c(g, e, w, hi));
}

/* One test over the shape's fields; mirrors atom_eval() in packet.c. */
static Z3_ast enc_atom(struct apiary_z3gen *g, struct shape *sh, const struct apiary_pred *p)
{
	Z3_context z = g->z;
	Z3_ast e = (unsigned)p->field < APIARY_F__COUNT ? sh->var[p->field] : NULL;
	unsigned w = apiary_pkt_field_bits(p->field);
	apiary_u128 lo, hi, m;

	if (!e)
		return Z3_mk_false(z); /* the field implies a layer this shape lacks */
	if (p->kind == APIARY_P_HAS) {
		m = apiary_lit_value(&p->value);
		if (m > field_max(w))
			return Z3_mk_false(z);
		if (m == 0)
			return Z3_mk_true(z);
		return Z3_mk_eq(z, Z3_mk_bvand(z, e, num(g, w, m)), num(g, w, m));
	}
	if (p->kind == APIARY_P_IN)
		return enc_item(g, e, w, &p->value);
	if (p->value.kind == APIARY_LIT_SET) {
		if (p->op == APIARY_OP_EQ)
			return enc_item(g, e, w, &p->value);
		if (p->op == APIARY_OP_NE)
			return mk_not(z, enc_item(g, e, w, &p->value));
		return Z3_mk_false(z);
	}
	apiary_lit_interval(&p->value, &lo, &hi, &m);
	switch (p->op) {
	case APIARY_OP_EQ: return enc_item(g, e, w, &p->value);
	case APIARY_OP_NE: return mk_not(z, enc_item(g, e, w, &p->value));
	case APIARY_OP_LT: return mk_not(z, ge_c(g, e, w, lo));
	case APIARY_OP_LE: return le_c(g, e, w, hi);
	case APIARY_OP_GT: return mk_not(z, le_c(g, e, w, hi));
	case APIARY_OP_GE: return ge_c(g, e, w, lo);
	}
	return Z3_mk_false(z);
}

/* A predicate in a shape; `atom`, if set, is replaced by the constant
 * `atom_val` (used to hold the rest of a predicate true on a boundary). */
static Z3_ast enc(struct apiary_z3gen *g, struct shape *sh, const struct apiary_pred *p,
		  const struct apiary_pred *atom, bool atom_val)
{
	Z3_context z = g->z;

	if (!p)
		return Z3_mk_true(z);
	if (p == atom)
		return atom_val ? Z3_mk_true(z) : Z3_mk_false(z);
	switch (p->kind) {
	case APIARY_P_AND:
		return mk_and2(z, enc(g, sh, p->lhs, atom, atom_val), enc(g, sh, p->rhs, atom, atom_val));
	case APIARY_P_OR:
		return mk_or2(z, enc(g, sh, p->lhs, atom, atom_val), enc(g, sh, p->rhs, atom, atom_val));
	case APIARY_P_NOT:
		return mk_not(z, enc(g, sh, p->lhs, atom, atom_val));
	case APIARY_P_CMP:
	case APIARY_P_IN:
	case APIARY_P_HAS:
		return enc_atom(g, sh, p);
	}
	return Z3_mk_false(z);
}

/* The formula a question asks in a shape. */
static Z3_ast q_formula(struct apiary_z3gen *g, struct shape *sh, const struct question *q)
{
	Z3_context z = g->z;
	Z3_ast r;

	switch (q->kind) {
	case APIARY_Z3K_INSIDE:
		return enc(g, sh, g->preds[q->a].p, NULL, false);
	case APIARY_Z3K_BOUNDARY: {
		Z3_ast e = sh->var[q->atom->field];
		Z3_ast at;

		if (!e)
			return Z3_mk_false(z);
		at = eq_c(g, e, apiary_pkt_field_bits(q->atom->field), q->value);
		if (q->variant == 2)
			return at;
		return mk_and2(z, at, enc(g, sh, g->preds[q->a].p, q->atom, q->variant == 0));
	}
	case APIARY_Z3K_OVERLAP:
		return mk_and2(z, enc(g, sh, g->preds[q->a].p, NULL, false),
			       enc(g, sh, g->preds[q->b].p, NULL, false));
	case APIARY_Z3K_DIFF:
		return mk_and2(z, enc(g, sh, g->preds[q->a].p, NULL, false),
			       mk_not(z, enc(g, sh, g->preds[q->b].p, NULL, false)));
	case APIARY_Z3K_OUTSIDE:
		r = Z3_mk_true(z);
		for (size_t i = 0; i < g->npreds; i++)
			r = mk_and2(z, r, mk_not(z, enc(g, sh, g->preds[i].p, NULL, false)));
		return r;
	default:
		return Z3_mk_false(z);
	}
}

/* ---- dedup ---------------------------------------------------------- */

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Remember a frame; returns 1 if new, 0 if seen before, -ENOMEM. */
static int seen_add(struct apiary_z3gen *g, const uint8_t *fr, size_t len)
{
	uint64_t h = fnv1a(fr, len);
	size_t i;

	if ((g->nseen + 1) * 2 > g->capseen) {
		size_t ncap = g->capseen ? g->capseen * 2 : 256;
		struct seen *ns = calloc(ncap, sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		for (size_t k = 0; k < g->capseen; k++) {
			if (!g->seen[k].frame)
				continue;
			for (i = g->seen[k].hash & (ncap - 1); ns[i].frame; i = (i + 1) & (ncap - 1))
				;
			ns[i] = g->seen[k];
		}
		free(g->seen);
		g->seen = ns;
		g->capseen = ncap;
	}
	for (i = h & (g->capseen - 1); g->seen[i].frame; i = (i + 1) & (g->capseen - 1))
		if (g->seen[i].hash == h && g->seen[i].len == len && !memcmp(g->seen[i].frame, fr, len))
			return 0;
	g->seen[i].frame = malloc(len ? len : 1);
	if (!g->seen[i].frame)
		return -ENOMEM;
	memcpy(g->seen[i].frame, fr, len);
	g->seen[i].len = len;
	g->seen[i].hash = h;
	g->nseen++;
	return 1;
}

static void seen_clear(struct apiary_z3gen *g)
{
	for (size_t k = 0; k < g->capseen; k++)
		free(g->seen[k].frame);
	free(g->seen);
	g->seen = NULL;
	g->nseen = g->capseen = 0;
}

/* ---- solving -------------------------------------------------------- */

/* Turn the model into fields, a frame and membership, and hand it out. */
static int emit(struct apiary_z3gen *g, struct shape *sh, Z3_model m, const struct question *q)
{
	struct apiary_pkt_fields f;
	struct apiary_z3gen_packet pkt;
	char why[512];
	long len;
	int r;

	apiary_pkt_fields_default(&f, sh->layers);
	if (g->o.payload_len)
		f.payload_len = g->o.payload_len;
	for (int i = 0; i < APIARY_F__COUNT; i++) {
		Z3_ast out = NULL;

		if (!sh->free_var[i])
			continue;
		if (!Z3_model_eval(g->z, m, sh->var[i], true, &out) || !out || z3_failed(g))
			return g->err ? g->err : -EIO;
		apiary_pkt_field_set(&f, i, dec_u128(Z3_get_numeral_string(g->z, out)));
	}
	for (size_t k = 0; k < g->npreds; k++) {
		Z3_ast out = NULL;

		if (!Z3_model_eval(g->z, m, enc(g, sh, g->preds[k].p, NULL, false), true, &out) ||
		    !out || z3_failed(g))
			return g->err ? g->err : -EIO;
		g->member[k] = Z3_get_bool_value(g->z, out) == Z3_L_TRUE;
	}
	len = apiary_packet_build(&f, g->frame, sizeof(g->frame));
	if (len < 0)
		return (int)len;
	r = seen_add(g, g->frame, (size_t)len);
	if (r < 0)
		return r;
	if (r == 0) {
		g->st.duplicates++;
		return 0;
	}
	if (g->st.generated >= g->o.max_packets) {
		g->full = true;
		g->st.capped++;
		return 0;
	}
	if (q->kind == APIARY_Z3K_BOUNDARY && q->a >= 0)
		snprintf(why, sizeof(why), "%s (%s) [%s]", q->why,
			 g->member[q->a] ? "inside" : "outside", apiary_pkt_shapes[sh->idx].name);
	else
		snprintf(why, sizeof(why), "%s [%s]", q->why, apiary_pkt_shapes[sh->idx].name);
	pkt = (struct apiary_z3gen_packet){
		.frame = g->frame,
		.len = (size_t)len,
		.kind = q->kind,
		.why = why,
		.a = q->a,
		.b = q->b,
		.shape = sh->idx,
		.member = g->member,
		.npreds = g->npreds,
	};
	g->st.generated++;
	r = g->cb ? g->cb(g->cbctx, &pkt) : 0;
	if (r)
		g->stop = r;
	return 0;
}

/* Ask a question in one shape. Once satisfiable, fit defaults: assume every
 * field equals its default and drop one assumption of each unsat core until
 * the check passes, so unpinned fields keep readable values.
 * Returns 1 (packet emitted or duplicate), 0 (no packet), negative errno. */
static int ask_shape(struct apiary_z3gen *g, struct shape *sh, const struct question *q)
{
	Z3_context z = g->z;
	Z3_ast as[APIARY_F__COUNT];
	unsigned nas = 0;
	Z3_lbool res;
	Z3_model m = NULL;
	int err = 0;

	Z3_ast phi = q_formula(g, sh, q);

	if (!phi || z3_failed(g))
		return g->err;
	g->st.queries++;
	if (Z3_get_bool_value(z, phi) == Z3_L_FALSE) {
		g->st.unsat++; /* folded: e.g. a tcp field in a udp shape */
		return 0;
	}
	Z3_solver_push(z, sh->s);
	Z3_solver_assert(z, sh->s, phi);
	res = Z3_solver_check(z, sh->s);
	if (z3_failed(g)) {
		err = g->err;
		goto out;
	}
	if (res == Z3_L_FALSE) {
		g->st.unsat++;
		goto out;
	}
	if (res == Z3_L_UNDEF) {
		g->st.unknown++;
		goto out;
	}
	g->st.sat++;

	for (int i = 0; i < APIARY_F__COUNT; i++)
		if (sh->fit[i])
			as[nas++] = sh->fit[i];
	for (;;) {
		Z3_ast_vector core;
		unsigned n;

		res = Z3_solver_check_assumptions(z, sh->s, nas, as);
		if (z3_failed(g)) {
			err = g->err;
			goto out;
		}
		if (res == Z3_L_TRUE)
			break;
		core = res == Z3_L_FALSE ? Z3_solver_get_unsat_core(z, sh->s) : NULL;
		n = core ? Z3_ast_vector_size(z, core) : 0;
		if (core)
			Z3_ast_vector_inc_ref(z, core);
		if (!n) {
			/* No core (timeout) or an empty one: take any model. */
			if (core)
				Z3_ast_vector_dec_ref(z, core);
			nas = 0;
			res = Z3_solver_check(z, sh->s);
			if (z3_failed(g)) {
				err = g->err;
				goto out;
			}
			if (res != Z3_L_TRUE)
				goto out;
			break;
		}
		/* Give up one default per round (the core's first), so a
		 * predicate that needs one field moved moves only that one. */
		{
			Z3_ast c = Z3_ast_vector_get(z, core, 0);
			unsigned j;

			for (j = 0; j < nas && !Z3_is_eq_ast(z, as[j], c); j++)
				;
			if (j < nas) {
				memmove(&as[j], &as[j + 1], (nas - j - 1) * sizeof(as[0]));
				nas--;
			} else {
				nas = 0; /* a core of something else: stop fitting */
			}
		}
		Z3_ast_vector_dec_ref(z, core);
	}
	m = Z3_solver_get_model(z, sh->s);
	if (!m || z3_failed(g)) {
		err = g->err ? g->err : -EIO;
		goto out;
	}
	Z3_model_inc_ref(z, m);
	err = emit(g, sh, m, q);
	Z3_model_dec_ref(z, m);
	if (!err)
		err = 1;
out:
	Z3_solver_pop(z, sh->s, 1);
	if (err < 0 && !g->err)
		g->err = err;
	return err;
}

/* Ask a question in every shape (per_shape) or until one answers.
 * Returns 1 if some shape answered, 0 if none, negative errno. */
static int ask(struct apiary_z3gen *g, const struct question *q)
{
	int any = 0;

	for (size_t i = 0; i < g->nshapes; i++) {
		int r;

		if (g->full || g->stop)
			return 0;
		r = ask_shape(g, &g->shapes[i], q);
		if (r < 0)
			return r;
		if (r > 0) {
			any = 1;
			if (!q->per_shape)
				break;
		}
	}
	return any;
}

/* Ask, count the question if it was skipped because of the cap or had no
 * answer in any shape. */
static int ask_count(struct apiary_z3gen *g, const struct question *q)
{
	int r;

	if (g->full) {
		g->st.skipped++;
		return 0;
	}
	if (g->stop)
		return 0;
	r = ask(g, q);
	if (r == 0 && !g->full && !g->stop)
		g->st.empty++;
	return r;
}

/* ---- boundaries ----------------------------------------------------- */

struct vals {
	apiary_u128 v[8];
	size_t n;
};

static void vals_add(struct vals *vs, apiary_u128 v, apiary_u128 max)
{
	if (v > max || vs->n == sizeof(vs->v) / sizeof(vs->v[0]))
		return;
	for (size_t i = 0; i < vs->n; i++)
		if (vs->v[i] == v)
			return;
	vs->v[vs->n++] = v;
}

/* Edges of one literal item and the values just past them. */
static void item_edges(const struct apiary_literal *l, apiary_u128 max, struct vals *vs)
{
	apiary_u128 lo, hi, m;

	apiary_lit_interval(l, &lo, &hi, &m);
	if (lo > hi)
		return;
	if (lo > 0)
		vals_add(vs, lo - 1, max);
	vals_add(vs, lo, max);
	vals_add(vs, hi, max);
	if (hi < max)
		vals_add(vs, hi + 1, max);
}

/* Ask the boundary questions of one test of predicate a. */
static int boundary_atom(struct apiary_z3gen *g, int a, const struct apiary_pred *at)
{
	unsigned w = apiary_pkt_field_bits(at->field);
	apiary_u128 max = field_max(w);
	const struct apiary_literal *items = &at->value;
	size_t nitems = 1;
	int r = 0;

	if (!w)
		return 0;
	if (at->value.kind == APIARY_LIT_SET) {
		items = at->value.items;
		nitems = at->value.nitems;
	}
	for (size_t it = 0; it < nitems; it++) {
		struct vals vs = { .n = 0 };

		if (at->kind == APIARY_P_HAS) {
			apiary_u128 mk = apiary_lit_value(&items[it]);

			vals_add(&vs, mk, max);
			for (unsigned b = 0; b < w && b < 128 && vs.n < 8; b++)
				if ((mk >> b) & 1)
					vals_add(&vs, mk & ~((apiary_u128)1 << b), max);
		} else {
			item_edges(&items[it], max, &vs);
		}
		for (size_t k = 0; k < vs.n; k++) {
			struct question q = {
				.kind = APIARY_Z3K_BOUNDARY, .a = a, .b = -1, .atom = at, .value = vs.v[k],
			};
			char val[64];

			fmt_value(at->field, vs.v[k], val, sizeof(val));
			snprintf(q.why, sizeof(q.why), "boundary %s: %s = %s", g->preds[a].label,
				 field_name(at->field), val);
			if (g->full) {
				g->st.skipped++;
				continue;
			}
			/* Rest of the predicate as if the test held, as if it did
			 * not, then the value alone. */
			for (q.variant = 0; q.variant < 3; q.variant++) {
				r = ask(g, &q);
				if (r != 0)
					break;
			}
			if (r < 0)
				return r;
			if (r == 0 && !g->full && !g->stop)
				g->st.empty++;
			if (g->stop)
				return 0;
		}
	}
	return 0;
}

/* Walk a predicate and ask the boundaries of each test in it. */
static int boundary_walk(struct apiary_z3gen *g, int a, const struct apiary_pred *p)
{
	int r;

	if (!p)
		return 0;
	switch (p->kind) {
	case APIARY_P_AND:
	case APIARY_P_OR:
		r = boundary_walk(g, a, p->lhs);
		return r ? r : boundary_walk(g, a, p->rhs);
	case APIARY_P_NOT:
		return boundary_walk(g, a, p->lhs);
	default:
		return boundary_atom(g, a, p);
	}
}

/* ---- public --------------------------------------------------------- */

/* Create a generator: a z3 context with an error handler and one solver
 * per selected shape. */
struct apiary_z3gen *apiary_z3gen_new(const struct apiary_z3gen_opts *opts)
{
	struct apiary_z3gen *g = calloc(1, sizeof(*g));
	Z3_config cfg;
	int err = 0;

	if (!g) {
		errno = ENOMEM;
		return NULL;
	}
	if (opts) {
		size_t n = opts->sz && opts->sz < sizeof(g->o) ? opts->sz : sizeof(g->o);

		memcpy(&g->o, opts, n);
	}
	g->o.sz = sizeof(g->o);
	if (!g->o.max_packets)
		g->o.max_packets = DEFAULT_MAX_PACKETS;
	if (!g->o.timeout_ms)
		g->o.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (!g->o.kinds)
		g->o.kinds = APIARY_Z3K_ALL;
	if (!g->o.shapes)
		g->o.shapes = ~(uint64_t)0;

	cfg = Z3_mk_config();
	if (!cfg) {
		err = -ENOMEM;
		goto out;
	}
	g->z = Z3_mk_context(cfg);
	Z3_del_config(cfg);
	if (!g->z) {
		err = -ENOMEM;
		goto out;
	}
	Z3_set_error_handler(g->z, z3_on_error);
	g->boolsort = Z3_mk_bool_sort(g->z);
	g->shapes = calloc(apiary_pkt_nshapes, sizeof(*g->shapes));
	if (!g->shapes) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < apiary_pkt_nshapes && i < MAX_SHAPES; i++) {
		if (!(g->o.shapes >> i & 1))
			continue;
		err = shape_init(g, &g->shapes[g->nshapes], i);
		if (g->shapes[g->nshapes].s)
			g->nshapes++;
		if (err)
			goto out;
	}
	if (!g->nshapes)
		err = -EINVAL;
out:
	if (err) {
		apiary_z3gen_free(g);
		errno = -err;
		return NULL;
	}
	return g;
}

void apiary_z3gen_free(struct apiary_z3gen *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nshapes; i++)
		Z3_solver_dec_ref(g->z, g->shapes[i].s);
	free(g->shapes);
	if (g->z)
		Z3_del_context(g->z);
	for (size_t i = 0; i < g->npreds; i++)
		free(g->preds[i].label);
	free(g->preds);
	free(g->member);
	free(g->errmsg);
	seen_clear(g);
	free(g);
}

/* Add a predicate to ask about; it is borrowed until the run ends. */
int apiary_z3gen_add(struct apiary_z3gen *g, const struct apiary_pred *p, const char *label)
{
	char *l;

	if (!g || !p)
		return -EINVAL;
	if (g->npreds == g->cappreds) {
		size_t ncap = g->cappreds ? g->cappreds * 2 : 8;
		struct pred_ent *np = realloc(g->preds, ncap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		g->preds = np;
		g->cappreds = ncap;
	}
	if (label)
		l = strdup(label);
	else if (asprintf(&l, "#%zu", g->npreds) < 0)
		l = NULL;
	if (!l)
		return -ENOMEM;
	g->preds[g->npreds].p = p;
	g->preds[g->npreds].label = l;
	return (int)g->npreds++;
}

/* Ask every question the options select, in a fixed order. */
int apiary_z3gen_run(struct apiary_z3gen *g, apiary_z3gen_cb cb, void *ctx)
{
	uint32_t k;
	int r = 0;

	if (!g)
		return -EINVAL;
	k = g->o.kinds;
	memset(&g->st, 0, sizeof(g->st));
	seen_clear(g);
	g->err = 0;
	g->full = false;
	g->stop = 0;
	g->cb = cb;
	g->cbctx = ctx;
	free(g->member);
	g->member = calloc(g->npreds ? g->npreds : 1, sizeof(*g->member));
	if (!g->member)
		return -ENOMEM;

	if (k & APIARY_Z3K_INSIDE) {
		for (size_t i = 0; i < g->npreds && r >= 0; i++) {
			struct question q = { .kind = APIARY_Z3K_INSIDE, .a = (int)i, .b = -1,
					      .per_shape = true };

			snprintf(q.why, sizeof(q.why), "inside %s", g->preds[i].label);
			r = ask_count(g, &q);
		}
	}
	if ((k & APIARY_Z3K_BOUNDARY) && r >= 0)
		for (size_t i = 0; i < g->npreds && r >= 0; i++)
			r = boundary_walk(g, (int)i, g->preds[i].p);
	if ((k & (APIARY_Z3K_OVERLAP | APIARY_Z3K_DIFF)) && r >= 0) {
		for (size_t i = 0; i < g->npreds && r >= 0; i++) {
			for (size_t j = i + 1; j < g->npreds && r >= 0; j++) {
				const char *a = g->preds[i].label, *b = g->preds[j].label;
				struct question q = { .a = (int)i, .b = (int)j };

				if (k & APIARY_Z3K_OVERLAP) {
					q.kind = APIARY_Z3K_OVERLAP;
					snprintf(q.why, sizeof(q.why), "overlap %s & %s", a, b);
					r = ask_count(g, &q);
				}
				if ((k & APIARY_Z3K_DIFF) && r >= 0) {
					q.kind = APIARY_Z3K_DIFF;
					snprintf(q.why, sizeof(q.why), "diff %s & !%s", a, b);
					r = ask_count(g, &q);
					if (r >= 0) {
						q.a = (int)j;
						q.b = (int)i;
						snprintf(q.why, sizeof(q.why), "diff %s & !%s", b, a);
						r = ask_count(g, &q);
					}
				}
			}
		}
	}
	if ((k & APIARY_Z3K_OUTSIDE) && r >= 0 && g->npreds) {
		struct question q = { .kind = APIARY_Z3K_OUTSIDE, .a = -1, .b = -1, .per_shape = true };

		snprintf(q.why, sizeof(q.why), "outside all");
		r = ask_count(g, &q);
	}
	if (r < 0)
		return r;
	if (g->err)
		return g->err;
	return g->stop;
}

const struct apiary_z3gen_stats *apiary_z3gen_stats(const struct apiary_z3gen *g)
{
	return g ? &g->st : NULL;
}

const char *apiary_z3gen_error(const struct apiary_z3gen *g)
{
	return g ? g->errmsg : NULL;
}

struct example_ctx {
	uint8_t *buf;
	size_t size;
	long len;
};

static int example_cb(void *ctx, const struct apiary_z3gen_packet *pkt)
{
	struct example_ctx *e = ctx;

	if (pkt->len > e->size) {
		e->len = -ENOSPC;
		return 1;
	}
	memcpy(e->buf, pkt->frame, pkt->len);
	e->len = (long)pkt->len;
	return 1;
}

/* One packet inside p: the first shape (in table order) where p can hold. */
long apiary_z3gen_example(const struct apiary_pred *p, uint64_t shapes, uint8_t *buf, size_t size)
{
	struct apiary_z3gen_opts o = { .sz = sizeof(o), .kinds = APIARY_Z3K_INSIDE,
				       .shapes = shapes, .max_packets = 1 };
	struct example_ctx e = { buf, size, 0 };
	struct apiary_z3gen *g;
	int r;

	if (!p)
		return -EINVAL;
	g = apiary_z3gen_new(&o);
	if (!g)
		return -errno;
	r = apiary_z3gen_add(g, p, "example");
	if (r >= 0)
		r = apiary_z3gen_run(g, example_cb, &e);
	apiary_z3gen_free(g);
	if (r < 0)
		return r;
	return e.len;
}

int apiary_z3gen_add_spec(struct apiary_z3gen *g, const struct apiary_spec *s)
{
	int err = 0;

	if (s->classifier && s->classifier->match)
		err = apiary_z3gen_add(g, s->classifier->match, "classifier match");
	for (size_t e = 0; e < s->nenforcers && err >= 0; e++)
		for (size_t k = 0; k < s->enforcers[e].neffects && err >= 0; k++)
			err = apiary_z3gen_add(g, s->enforcers[e].effects[k].when,
					       s->enforcers[e].name.s);
	for (size_t k = 0; k < s->ncovers && err >= 0; k++)
		err = apiary_z3gen_add(g, s->covers[k].sees, s->covers[k].enforcer.s);
	return err < 0 ? err : 0;
}
