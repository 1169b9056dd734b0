// SPDX-License-Identifier: MIT
/*
 * Semantic checks on a parsed spec: names, hooks, predicate types, files,
 * state, order constraints (and their cycles), the ABI's limits. Every
 * problem is reported; nothing stops at the first. The checks tolerate an
 * AST that carries soft parse errors (unknown fields/hooks are skipped).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apiary/abi.h"
#include "spec_int.h"

struct sema {
	struct apiary_spec *s;
	struct apiary_diags *d;
	bool oom;
};

#define NAME(n) ((n).s ? (n).s : "?")

/* ---- helpers -------------------------------------------------------- */

/* The text a location covers, as written (for quoting literals). */
static void loc_text(const struct apiary_loc *l, char *buf, size_t size)
{
	const char *p = l->src;
	int line;
	size_t n, i;

	buf[0] = 0;
	if (!p || l->line < 1)
		return;
	for (line = 1; line < l->line; line++) {
		p = strchr(p, '\n');
		if (!p)
			return;
		p++;
	}
	for (i = 1; i < (size_t)l->col && *p && *p != '\n'; i++)
		p++;
	n = l->len > 0 ? (size_t)l->len : 1;
	for (i = 0; i < n && i + 1 < size && p[i] && p[i] != '\n'; i++)
		buf[i] = p[i];
	buf[i] = 0;
}

static bool is_c_ident(const char *s)
{
	if (!s || !*s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* Closest enforcer name to word, for "did you mean". */
static const char *near_enforcer(const struct apiary_spec *s, const char *word)
{
	const char *best = NULL;
	int bestd = strlen(word) <= 3 ? 2 : 3;
	size_t i;

	for (i = 0; i < s->nenforcers; i++) {
		const char *n = s->enforcers[i].name.s;
		int d;

		if (!n)
			continue;
		d = apiary__edit_distance(word, n);
		if (d < bestd) {
			bestd = d;
			best = n;
		}
	}
	return best;
}

/* Closest state (or classifier) name to word. */
static const char *near_state(const struct apiary_spec *s, const char *word, bool classifier)
{
	const char *best = NULL;
	int bestd = strlen(word) <= 3 ? 2 : 3, d;
	size_t i;

	for (i = 0; i < s->nstates; i++) {
		const char *n = s->states[i].name.s;

		if (!n)
			continue;
		d = apiary__edit_distance(word, n);
		if (d < bestd) {
			bestd = d;
			best = n;
		}
	}
	if (classifier && s->classifier && s->classifier->name.s) {
		d = apiary__edit_distance(word, s->classifier->name.s);
		if (d < bestd)
			best = s->classifier->name.s;
	}
	return best;
}

static void did_you_mean(char *buf, size_t size, const char *s)
{
	if (s)
		snprintf(buf, size, "; did you mean '%s'?", s);
	else
		buf[0] = 0;
}

static bool is_classifier(const struct apiary_spec *s, const char *name)
{
	return s->classifier && s->classifier->name.s && name &&
	       !strcmp(s->classifier->name.s, name);
}

/* ---- predicates ----------------------------------------------------- */

static const char *lit_kind_name(enum apiary_lit_kind k)
{
	switch (k) {
	case APIARY_LIT_INT:
		return "a number";
	case APIARY_LIT_IPV4:
		return "an IPv4 address";
	case APIARY_LIT_IPV6:
		return "an IPv6 address";
	case APIARY_LIT_MAC:
		return "a MAC address";
	case APIARY_LIT_RANGE:
		return "a range";
	default:
		return "a set";
	}
}

/* "a 16-bit number", "an IPv4 address", ... */
static void field_kind(const struct apiary_field_info *fi, char *buf, size_t size)
{
	switch (fi->type) {
	case APIARY_T_INT:
		snprintf(buf, size, "a %u-bit number", fi->bits);
		break;
	case APIARY_T_IPV4:
		snprintf(buf, size, "an IPv4 address");
		break;
	case APIARY_T_IPV6:
		snprintf(buf, size, "an IPv6 address");
		break;
	case APIARY_T_MAC:
		snprintf(buf, size, "a MAC address");
		break;
	}
}

static uint64_t field_max(const struct apiary_field_info *fi)
{
	return fi->bits >= 64 ? UINT64_MAX : (1ull << fi->bits) - 1;
}

/* Warn when a CIDR has bits set past its prefix (10.0.0.1/8). */
static void check_host_bits(struct sema *m, const struct apiary_literal *l, int nbytes)
{
	char text[80];
	int i;

	for (i = 0; i < nbytes * 8; i++) {
		if (i < l->prefix)
			continue;
		if (l->addr[i / 8] & (0x80 >> (i % 8))) {
			loc_text(&l->loc, text, sizeof(text));
			apiary_warn(m->d, &l->loc,
				    "%s has bits set past its /%d prefix; they are ignored", text,
				    l->prefix);
			return;
		}
	}
}

/*
 * One value compared with field fi: its kind must match the field's and
 * an integer must fit the field's width. `cidr` allows a prefix shorter
 * than the address (after `in`).
 */
static void check_value(struct sema *m, const struct apiary_field_info *fi,
			const struct apiary_literal *l, bool cidr)
{
	char text[80], kind[40];
	int maxp;

	loc_text(&l->loc, text, sizeof(text));
	field_kind(fi, kind, sizeof(kind));
	switch (l->kind) {
	case APIARY_LIT_INT:
		if (fi->type != APIARY_T_INT) {
			apiary_error(m->d, &l->loc, "'%s' is %s, but %s is a number", fi->name, kind,
				     text);
			return;
		}
		if (l->u > field_max(fi))
			apiary_error(m->d, &l->loc,
				     "value %s is out of range for '%s' (%u bits: 0..%llu)", text,
				     fi->name, fi->bits, (unsigned long long)field_max(fi));
		return;
	case APIARY_LIT_IPV4:
	case APIARY_LIT_IPV6:
		maxp = l->kind == APIARY_LIT_IPV4 ? 32 : 128;
		if (l->prefix != maxp && !cidr && fi->type == (l->kind == APIARY_LIT_IPV4 ?
							       APIARY_T_IPV4 : APIARY_T_IPV6)) {
			apiary_error(m->d, &l->loc,
				     "%s is a CIDR; use 'in' to match it: %s in %s", text, fi->name,
				     text);
			return;
		}
		if (l->prefix != maxp && fi->type == APIARY_T_INT) {
			apiary_error(m->d, &l->loc,
				     "CIDR %s used on '%s', which is %s; a CIDR needs an address field (ip.src, ip.dst, ip6.src, ip6.dst)",
				     text, fi->name, kind);
			return;
		}
		if ((l->kind == APIARY_LIT_IPV4 && fi->type != APIARY_T_IPV4) ||
		    (l->kind == APIARY_LIT_IPV6 && fi->type != APIARY_T_IPV6)) {
			const char *alt = "";

			if (fi->type == APIARY_T_IPV4)
				alt = " (use ip6.src/ip6.dst for IPv6)";
			else if (fi->type == APIARY_T_IPV6)
				alt = " (use ip.src/ip.dst for IPv4)";
			apiary_error(m->d, &l->loc, "'%s' is %s, but %s is %s%s", fi->name, kind, text,
				     lit_kind_name(l->kind), alt);
			return;
		}
		if (l->prefix > maxp) {
			apiary_error(m->d, &l->loc,
				     "prefix /%d is too long for an %s address (at most /%d)", l->prefix,
				     maxp == 32 ? "IPv4" : "IPv6", maxp);
			return;
		}
		check_host_bits(m, l, maxp / 8);
		return;
	case APIARY_LIT_MAC:
		if (fi->type != APIARY_T_MAC)
			apiary_error(m->d, &l->loc, "'%s' is %s, but %s is a MAC address", fi->name,
				     kind, text);
		return;
	default:
		apiary_error(m->d, &l->loc, "%s cannot be compared with '%s' here",
			     lit_kind_name(l->kind), fi->name);
	}
}

static const char *const op_text[] = { "==", "!=", "<", "<=", ">", ">=" };

/* Type-check a predicate tree. */
static void check_pred(struct sema *m, const struct apiary_pred *p)
{
	const struct apiary_field_info *fi;
	const struct apiary_literal *l;
	char kind[40], text[80];
	size_t i;

	if (!p)
		return;
	switch (p->kind) {
	case APIARY_P_AND:
	case APIARY_P_OR:
		check_pred(m, p->lhs);
		check_pred(m, p->rhs);
		return;
	case APIARY_P_NOT:
		check_pred(m, p->lhs);
		return;
	default:
		break;
	}
	if ((unsigned)p->field >= APIARY_F__COUNT)
		return; /* unknown field: reported by the parser */
	fi = &apiary_fields[p->field];
	l = &p->value;
	field_kind(fi, kind, sizeof(kind));
	switch (p->kind) {
	case APIARY_P_CMP:
		if (p->op >= APIARY_OP_LT && fi->type != APIARY_T_INT) {
			apiary_error(m->d, &p->loc,
				     "'%s' needs a number, but '%s' is %s; compare it with == or != (or use 'in')",
				     op_text[p->op], fi->name, kind);
			return;
		}
		check_value(m, fi, l, false);
		return;
	case APIARY_P_IN:
		if (l->kind == APIARY_LIT_RANGE) {
			loc_text(&l->loc, text, sizeof(text));
			if (fi->type != APIARY_T_INT) {
				apiary_error(m->d, &l->loc,
					     "range %s used on '%s', which is %s; ranges need a number field",
					     text, fi->name, kind);
				return;
			}
			if (l->lo > l->hi)
				apiary_error(m->d, &l->loc,
					     "empty range %s: the low end is above the high end; write %llu..%llu",
					     text, (unsigned long long)l->hi,
					     (unsigned long long)l->lo);
			else if (l->hi > field_max(fi))
				apiary_error(m->d, &l->loc,
					     "range %s is out of range for '%s' (%u bits: 0..%llu)",
					     text, fi->name, fi->bits,
					     (unsigned long long)field_max(fi));
			return;
		}
		if (l->kind == APIARY_LIT_SET) {
			for (i = 0; i < l->nitems; i++)
				check_value(m, fi, &l->items[i], true);
			return;
		}
		check_value(m, fi, l, true);
		return;
	case APIARY_P_HAS:
		if (p->field != APIARY_F_TCP_FLAGS) {
			apiary_error(m->d, &p->loc,
				     "'has' tests flag bits, but '%s' is not a flags field; use it with tcp.flags (tcp.flags has syn)",
				     fi->name);
			return;
		}
		check_value(m, fi, l, false);
		return;
	default:
		return;
	}
}

/* ---- declarations --------------------------------------------------- */

/* A field that can be part of the flow key (struct apiary_flow_key). */
static bool keyable(enum apiary_field f)
{
	switch (f) {
	case APIARY_F_IP_SRC:
	case APIARY_F_IP_DST:
	case APIARY_F_IP_PROTO:
	case APIARY_F_IP6_SRC:
	case APIARY_F_IP6_DST:
	case APIARY_F_IP6_PROTO:
	case APIARY_F_TCP_SPORT:
	case APIARY_F_TCP_DPORT:
	case APIARY_F_UDP_SPORT:
	case APIARY_F_UDP_DPORT:
	case APIARY_F_L4_SPORT:
	case APIARY_F_L4_DPORT:
		return true;
	default:
		return false;
	}
}

static void check_classifier(struct sema *m)
{
	struct apiary_classifier *c = m->s->classifier;
	size_t i, j;

	if (!c)
		return;
	if (!c->nkeys)
		apiary_warn(m->d, &c->name.loc,
			    "classifier '%s' has no key: every packet falls into one flow; add e.g. key ip.src, ip.dst, ip.proto, l4.sport, l4.dport",
			    NAME(c->name));
	for (i = 0; i < c->nkeys; i++) {
		if ((unsigned)c->keys[i] >= APIARY_F__COUNT)
			continue;
		for (j = 0; j < i; j++) {
			if (c->keys[j] == c->keys[i]) {
				apiary_error(m->d, &c->key_locs[i],
					     "duplicate key field '%s' in classifier '%s'; list each field once",
					     apiary_fields[c->keys[i]].name, NAME(c->name));
				break;
			}
		}
		if (j == i && !keyable(c->keys[i]))
			apiary_error(m->d, &c->key_locs[i],
				     "'%s' cannot be part of the flow key; key fields are ip.src ip.dst ip.proto ip6.src ip6.dst ip6.proto l4.sport l4.dport (or tcp./udp. ports)",
				     apiary_fields[c->keys[i]].name);
	}
	check_pred(m, c->match);
}

/* Size of a state type, resolving a classifier reference. */
static void check_type(struct sema *m, struct apiary_state *st, struct apiary_type *ty,
		       const char *which)
{
	char h[80];

	if (ty->kind == APIARY_TY_BYTES && ty->size == 0)
		apiary_error(m->d, &ty->loc, "%s of state '%s' is bytes[0]; give a size of at least 1",
			     which, NAME(st->name));
	if (ty->kind != APIARY_TY_FLOW)
		return;
	if (is_classifier(m->s, ty->ref.s)) {
		ty->size = sizeof(struct apiary_flow_key);
		return;
	}
	did_you_mean(h, sizeof(h), ty->ref.s ? near_state(m->s, ty->ref.s, true) : NULL);
	if (*h && m->s->classifier)
		apiary_error(m->d, &ty->loc, "unknown type '%s' in state '%s'%s", NAME(ty->ref),
			     NAME(st->name), h);
	else if (m->s->classifier)
		apiary_error(m->d, &ty->loc,
			     "unknown type '%s' in state '%s'; expected u8, u16, u32, u64, bytes[N] or the classifier '%s'",
			     NAME(ty->ref), NAME(st->name), NAME(m->s->classifier->name));
	else
		apiary_error(m->d, &ty->loc,
			     "unknown type '%s' in state '%s'; no classifier is declared (expected u8, u16, u32, u64 or bytes[N])",
			     NAME(ty->ref), NAME(st->name));
}

static void check_states(struct sema *m)
{
	struct apiary_spec *s = m->s;
	size_t i, j;

	for (i = 0; i < s->nstates; i++) {
		struct apiary_state *st = &s->states[i];

		if (!st->name.s)
			continue;
		for (j = 0; j < i; j++) {
			if (s->states[j].name.s && !strcmp(s->states[j].name.s, st->name.s)) {
				apiary_error(m->d, &st->name.loc,
					     "duplicate state '%s'; it was declared at line %d",
					     st->name.s, s->states[j].name.loc.line);
				break;
			}
		}
		if (is_classifier(s, st->name.s))
			apiary_error(m->d, &st->name.loc,
				     "state '%s' has the classifier's name (line %d); rename one",
				     st->name.s, s->classifier->name.loc.line);
		check_type(m, st, &st->key, "key");
		check_type(m, st, &st->value, "value");
		if (st->max_entries == 0)
			apiary_error(m->d, &st->loc,
				     "state '%s' has max 0; a map needs room for at least one entry",
				     st->name.s);
		if ((st->kind == APIARY_MAP_ARRAY || st->kind == APIARY_MAP_PERCPU_ARRAY) &&
		    st->key.kind != APIARY_TY_U32)
			apiary_error(m->d, &st->key.loc,
				     "state '%s' is an array, so its key must be u32 (arrays are indexed by number); use hash for other keys",
				     st->name.s);
		if (st->key.size > 512)
			apiary_error(m->d, &st->key.loc,
				     "key of state '%s' is %u bytes; BPF map keys are at most 512",
				     st->name.s, st->key.size);
	}
}

/* Resolve a code path against the spec's directory and check the file. */
static void check_code(struct sema *m, struct apiary_code *c)
{
	const char *kind = c->prebuilt ? "object" : "source";
	struct stat st;
	int r;

	free(c->resolved);
	c->resolved = NULL;
	if (!c->path.s)
		return;
	if (!*c->path.s) {
		apiary_error(m->d, &c->path.loc, "empty %s path; give the file name", kind);
		return;
	}
	if (c->path.s[0] == '/' || !strcmp(m->s->dir, "."))
		c->resolved = strdup(c->path.s);
	else if (asprintf(&c->resolved, "%s/%s", m->s->dir, c->path.s) < 0)
		c->resolved = NULL;
	if (!c->resolved) {
		m->oom = true;
		return;
	}
	r = stat(c->resolved, &st);
	if (r < 0)
		apiary_error(m->d, &c->path.loc, "%s file '%s' not found (looked for '%s': %s)", kind,
			     c->path.s, c->resolved, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		apiary_error(m->d, &c->path.loc, "%s file '%s' is not a regular file", kind,
			     c->resolved);
	if (c->program.s && !is_c_ident(c->program.s))
		apiary_error(m->d, &c->program.loc,
			     "program name \"%s\" is not a C identifier; give the name of the program's function",
			     c->program.s);
}

/* reads/writes names: state (or, for reads, the classifier). */
static void check_access(struct sema *m, const struct apiary_enforcer *e,
			 const struct apiary_name *v, size_t n, bool write)
{
	size_t i, j;
	char h[80];

	for (i = 0; i < n; i++) {
		const char *nm = v[i].s;

		if (!nm)
			continue;
		for (j = 0; j < i; j++)
			if (v[j].s && !strcmp(v[j].s, nm))
				break;
		if (j < i) {
			apiary_warn(m->d, &v[i].loc, "'%s' is listed twice in %s of '%s'", nm,
				    write ? "writes" : "reads", NAME(e->name));
			continue;
		}
		if (apiary_spec_state(m->s, nm))
			continue;
		if (is_classifier(m->s, nm)) {
			if (write)
				apiary_error(m->d, &v[i].loc,
					     "'%s' is the classifier's flow context and is read-only; only state can be written",
					     nm);
			continue;
		}
		did_you_mean(h, sizeof(h), near_state(m->s, nm, !write));
		if (*h)
			apiary_error(m->d, &v[i].loc, "state '%s' is not declared%s", nm, h);
		else
			apiary_error(m->d, &v[i].loc,
				     "state '%s' is not declared; declare it with 'state %s : hash(KEY -> VALUE) max N'",
				     nm, nm);
	}
}

static void check_enforcers(struct sema *m)
{
	struct apiary_spec *s = m->s;
	int per_hook[APIARY_HOOK__COUNT] = { 0 };
	const struct apiary_enforcer *prebuilt[APIARY_HOOK__COUNT] = { 0 };
	size_t i, j;

	for (i = 0; i < s->nenforcers; i++) {
		struct apiary_enforcer *e = &s->enforcers[i];
		bool valid_hook = e->hook > APIARY_HOOK_NONE && e->hook < APIARY_HOOK__COUNT;

		if (!e->name.s)
			continue;
		for (j = 0; j < i; j++) {
			if (s->enforcers[j].name.s && !strcmp(s->enforcers[j].name.s, e->name.s)) {
				apiary_error(m->d, &e->name.loc,
					     "duplicate enforcer '%s'; it was declared at line %d (to give a new version use 'update %s to version N')",
					     e->name.s, s->enforcers[j].name.loc.line, e->name.s);
				break;
			}
		}
		if (i == APIARY_MAX_ENFORCERS)
			apiary_error(m->d, &e->name.loc,
				     "too many enforcers: '%s' is number %d, and a bundle holds at most %d (APIARY_MAX_ENFORCERS)",
				     e->name.s, APIARY_MAX_ENFORCERS + 1, APIARY_MAX_ENFORCERS);
		if (valid_hook && ++per_hook[e->hook] == APIARY_MAX_CHAIN + 1)
			apiary_error(m->d, &e->name.loc,
				     "too many enforcers at %s: '%s' is number %d, and one hook chains at most %d (APIARY_MAX_CHAIN)",
				     apiary_hook_name(e->hook), e->name.s, APIARY_MAX_CHAIN + 1,
				     APIARY_MAX_CHAIN);
		if (!e->code.path.s)
			apiary_error(m->d, &e->name.loc,
				     "enforcer '%s' has no code; add source \"FILE.bpf.c\" (C that apiary compiles) or object \"FILE.bpf.o\" (prebuilt)",
				     e->name.s);
		check_code(m, &e->code);
		if (valid_hook && e->code.path.s && e->code.prebuilt) {
			if (prebuilt[e->hook])
				apiary_error(m->d, &e->code.path.loc,
					     "'%s' is a second prebuilt object at %s ('%s', line %d is the first); a prebuilt object ends the chain, so a hook has at most one",
					     e->name.s, apiary_hook_name(e->hook),
					     NAME(prebuilt[e->hook]->name),
					     prebuilt[e->hook]->name.loc.line);
			else
				prebuilt[e->hook] = e;
		}
		for (j = 0; j < e->neffects; j++) {
			const struct apiary_effect *ef = &e->effects[j];

			if (ef->verdict == APIARY_V_TX && valid_hook && e->hook != APIARY_HOOK_XDP)
				apiary_error(m->d, &ef->loc,
					     "effect tx at %s: tx (XDP_TX) exists only at xdp; use redirect or drop",
					     apiary_hook_name(e->hook));
			check_pred(m, ef->when);
		}
		check_access(m, e, e->reads, e->nreads, false);
		check_access(m, e, e->writes, e->nwrites, true);
	}
}

static void check_updates(struct sema *m)
{
	struct apiary_spec *s = m->s;
	size_t i, j;
	char h[80];

	for (i = 0; i < s->nupdates; i++) {
		struct apiary_update *u = &s->updates[i];
		const struct apiary_enforcer *e;

		if (!u->enforcer.s)
			continue;
		e = apiary_spec_enforcer(s, u->enforcer.s);
		check_code(m, &u->code);
		if (!e) {
			did_you_mean(h, sizeof(h), near_enforcer(s, u->enforcer.s));
			apiary_error(m->d, &u->enforcer.loc, "update of unknown enforcer '%s'%s",
				     u->enforcer.s, h);
			continue;
		}
		for (j = 0; j < i; j++) {
			if (s->updates[j].enforcer.s &&
			    !strcmp(s->updates[j].enforcer.s, u->enforcer.s)) {
				apiary_error(m->d, &u->loc,
					     "'%s' already has an update (line %d); two versions run side by side, so one update per enforcer",
					     u->enforcer.s, s->updates[j].loc.line);
				break;
			}
		}
		if (u->version <= e->version)
			apiary_error(m->d, &u->loc,
				     "update of '%s' to version %u must be newer than its version %u (line %d)",
				     u->enforcer.s, u->version, e->version, e->loc.line);
		/* no code given: the new version runs the same code (new config) */
		if (!u->code.path.s && e->code.path.s) {
			u->code.prebuilt = e->code.prebuilt;
			u->code.path.s = strdup(e->code.path.s);
			u->code.path.loc = e->code.path.loc;
			u->code.resolved = e->code.resolved ? strdup(e->code.resolved) : NULL;
			if (e->code.program.s) {
				u->code.program.s = strdup(e->code.program.s);
				u->code.program.loc = e->code.program.loc;
			}
			if (!u->code.path.s || (e->code.resolved && !u->code.resolved) ||
			    (e->code.program.s && !u->code.program.s))
				m->oom = true;
		}
	}
}

/* Depth-first search for cycles in the order graph; reports each cycle
 * found through a back edge, naming it "a -> b -> a". */
struct order_graph {
	int *before, *after; /* per order: enforcer indexes, -1 if invalid */
	int *color;	     /* per enforcer: 0 new, 1 on stack, 2 done */
	int *stack;
	int depth;
};

static void dfs(struct sema *m, struct order_graph *g, int u)
{
	struct apiary_spec *s = m->s;
	size_t k;

	g->color[u] = 1;
	g->stack[g->depth++] = u;
	for (k = 0; k < s->norders; k++) {
		int v = g->after[k], i, start = -1;
		char *msg = NULL;
		size_t len = 0;
		FILE *f;

		if (g->before[k] != u || v < 0)
			continue;
		if (g->color[v] == 0) {
			dfs(m, g, v);
			continue;
		}
		if (g->color[v] != 1)
			continue;
		for (i = 0; i < g->depth; i++)
			if (g->stack[i] == v)
				start = i;
		f = open_memstream(&msg, &len);
		if (!f) {
			m->oom = true;
			continue;
		}
		for (i = start; i < g->depth; i++)
			fprintf(f, "%s -> ", NAME(s->enforcers[g->stack[i]].name));
		fprintf(f, "%s", NAME(s->enforcers[v].name));
		fclose(f);
		apiary_error(m->d, &s->orders[k].loc,
			     "order cycle: %s; no order satisfies it, remove one of these orders",
			     msg ? msg : "?");
		free(msg);
	}
	g->depth--;
	g->color[u] = 2;
}

static int resolve_enforcer(struct sema *m, const struct apiary_name *n)
{
	char h[80];
	int i;

	if (!n->s)
		return -1;
	i = apiary_spec_enforcer_index(m->s, n->s);
	if (i < 0) {
		did_you_mean(h, sizeof(h), near_enforcer(m->s, n->s));
		apiary_error(m->d, &n->loc, "unknown enforcer '%s'%s", n->s, h);
	}
	return i;
}

static void check_orders(struct sema *m)
{
	struct apiary_spec *s = m->s;
	struct order_graph g = { 0 };
	size_t k, j;

	if (!s->norders)
		return;
	g.before = calloc(s->norders, sizeof(int));
	g.after = calloc(s->norders, sizeof(int));
	g.color = calloc(s->nenforcers + 1, sizeof(int));
	g.stack = calloc(s->nenforcers + 1, sizeof(int));
	if (!g.before || !g.after || !g.color || !g.stack) {
		m->oom = true;
		goto out;
	}
	for (k = 0; k < s->norders; k++) {
		struct apiary_order *o = &s->orders[k];
		int b = resolve_enforcer(m, &o->before), a = resolve_enforcer(m, &o->after);
		const struct apiary_enforcer *eb, *ea;

		g.before[k] = g.after[k] = -1;
		if (a < 0 || b < 0)
			continue;
		eb = &s->enforcers[b];
		ea = &s->enforcers[a];
		if (a == b) {
			apiary_error(m->d, &o->loc,
				     "order of '%s' before itself; an order relates two different enforcers",
				     eb->name.s);
			continue;
		}
		if (eb->hook != ea->hook && eb->hook && ea->hook) {
			apiary_error(m->d, &o->loc,
				     "order %s before %s relates different hooks (%s and %s); order only applies to enforcers at one hook",
				     eb->name.s, ea->name.s, apiary_hook_name(eb->hook),
				     apiary_hook_name(ea->hook));
			continue;
		}
		if (eb->code.prebuilt && eb->code.path.s) {
			apiary_error(m->d, &o->loc,
				     "%s is a prebuilt object: it ends the chain at %s, so it cannot run before %s",
				     eb->name.s, apiary_hook_name(eb->hook), ea->name.s);
			continue;
		}
		for (j = 0; j < k; j++) {
			if (g.before[j] == b && g.after[j] == a) {
				apiary_warn(m->d, &o->loc, "order %s before %s is declared twice",
					    eb->name.s, ea->name.s);
				break;
			}
		}
		g.before[k] = b;
		g.after[k] = a;
	}
	for (j = 0; j < s->nenforcers; j++)
		if (!g.color[j])
			dfs(m, &g, (int)j);
out:
	free(g.before);
	free(g.after);
	free(g.color);
	free(g.stack);
}

static void check_invariants(struct sema *m)
{
	struct apiary_spec *s = m->s;
	size_t i, j;
	char h[80];

	for (i = 0; i < s->ncovers; i++) {
		resolve_enforcer(m, &s->covers[i].enforcer);
		check_pred(m, s->covers[i].sees);
	}
	for (i = 0; i < s->nexclusives; i++) {
		struct apiary_exclusive *x = &s->exclusives[i];
		const struct apiary_state *st = apiary_spec_state(s, x->state.s);
		int owner = resolve_enforcer(m, &x->owner);
		const struct apiary_enforcer *oe = owner >= 0 ? &s->enforcers[owner] : NULL;

		if (!st && x->state.s) {
			did_you_mean(h, sizeof(h), near_state(s, x->state.s, false));
			if (*h)
				apiary_error(m->d, &x->state.loc, "state '%s' is not declared%s",
					     x->state.s, h);
			else
				apiary_error(m->d, &x->state.loc,
					     "state '%s' is not declared; declare it with 'state %s : hash(KEY -> VALUE) max N'",
					     x->state.s, x->state.s);
		}
		for (j = 0; j < i; j++) {
			if (s->exclusives[j].state.s && x->state.s &&
			    !strcmp(s->exclusives[j].state.s, x->state.s)) {
				apiary_error(m->d, &x->loc,
					     "state '%s' is already exclusive to '%s' (line %d); a state has one owner",
					     x->state.s, NAME(s->exclusives[j].owner),
					     s->exclusives[j].loc.line);
				break;
			}
		}
		if (!st || !oe)
			continue;
		for (j = 0; j < oe->nwrites; j++)
			if (oe->writes[j].s && !strcmp(oe->writes[j].s, st->name.s))
				break;
		if (j == oe->nwrites)
			apiary_warn(m->d, &x->loc,
				    "'%s' owns '%s' but does not declare 'writes %s'", oe->name.s,
				    st->name.s, st->name.s);
	}
	for (i = 0; i < s->nflow_consistent; i++) {
		struct apiary_flow_consistent *f = &s->flow_consistent[i];

		if (resolve_enforcer(m, &f->enforcer) < 0)
			continue;
		for (j = 0; j < s->nupdates; j++)
			if (s->updates[j].enforcer.s &&
			    !strcmp(s->updates[j].enforcer.s, f->enforcer.s))
				break;
		if (j == s->nupdates)
			apiary_warn(m->d, &f->loc,
				    "flow-consistent '%s' has no update, so there is nothing to check; add 'update %s to version N { ... }'",
				    f->enforcer.s, f->enforcer.s);
	}
}

/* migrate state X from A to B: exactly one enforcer is at version A with
 * an update to B; each new field is assigned at most once. The layouts
 * themselves live in the objects (BTF) and are checked by the checker. */
static void check_migrations(struct sema *m)
{
	struct apiary_spec *s = m->s;

	for (size_t i = 0; i < s->nmigrations; i++) {
		struct apiary_migrate *mg = &s->migrations[i];
		const struct apiary_enforcer *found = NULL;
		size_t n = 0;

		if (!mg->state.s)
			continue;
		for (size_t u = 0; u < s->nupdates; u++) {
			const struct apiary_enforcer *e;

			if (!s->updates[u].enforcer.s || s->updates[u].version != mg->to)
				continue;
			e = apiary_spec_enforcer(s, s->updates[u].enforcer.s);
			if (e && e->version == mg->from) {
				found = e;
				n++;
			}
		}
		if (!n) {
			/* the new version's own spec (apiary-check OLD --update NEW):
			 * the enforcer is at the target version, without an update */
			for (size_t e = 0; e < s->nenforcers; e++)
				if (s->enforcers[e].version == mg->to) {
					found = &s->enforcers[e];
					n++;
				}
			if (n == 1)
				apiary_warn(m->d, &mg->loc,
					    "migration of '%s' runs when this spec is the update of a bundle at version %u (apiary-check OLD.spec --update %s)",
					    mg->state.s, mg->from, s->path ? s->path : "NEW.spec");
		}
		if (n != 1) {
			apiary_error(m->d, &mg->loc,
				     n ? "migration of '%s' from %u to %u is ambiguous: several enforcers are updated from version %u to %u"
				       : "migration of '%s' from %u to %u: no enforcer at version %u has an update to version %u",
				     mg->state.s, mg->from, mg->to, mg->from, mg->to);
			continue;
		}
		free(mg->enforcer.s);
		mg->enforcer.s = strdup(found->name.s);
		mg->enforcer.loc = found->name.loc;
		if (!mg->enforcer.s)
			m->oom = true;
		for (size_t a = 0; a < mg->nassigns; a++)
			for (size_t b = 0; b < a; b++)
				if (mg->assigns[a].field.s && mg->assigns[b].field.s &&
				    !strcmp(mg->assigns[a].field.s, mg->assigns[b].field.s))
					apiary_error(m->d, &mg->assigns[a].loc,
						     "field '%s' is assigned twice in the migration of '%s' (line %d)",
						     mg->assigns[a].field.s, mg->state.s,
						     mg->assigns[b].loc.line);
	}
}

/* Warn about state no enforcer reads, writes or owns. */
static void check_unused_states(struct sema *m)
{
	struct apiary_spec *s = m->s;
	size_t i, j, k;

	for (i = 0; i < s->nstates; i++) {
		const char *nm = s->states[i].name.s;
		bool used = false;

		if (!nm)
			continue;
		for (j = 0; j < s->nenforcers && !used; j++) {
			const struct apiary_enforcer *e = &s->enforcers[j];

			for (k = 0; k < e->nreads && !used; k++)
				used = e->reads[k].s && !strcmp(e->reads[k].s, nm);
			for (k = 0; k < e->nwrites && !used; k++)
				used = e->writes[k].s && !strcmp(e->writes[k].s, nm);
		}
		for (j = 0; j < s->nexclusives && !used; j++)
			used = s->exclusives[j].state.s && !strcmp(s->exclusives[j].state.s, nm);
		if (!used)
			apiary_warn(m->d, &s->states[i].name.loc,
				    "state '%s' is never read or written; list it in an enforcer's reads or writes",
				    nm);
	}
}

/* Run every check; see spec.h. */
int apiary_spec_check(struct apiary_spec *spec, struct apiary_diags *diags)
{
	struct sema m = { .s = spec, .d = diags };
	size_t start = diags->errors, first = diags->count;

	if (!spec)
		return -EINVAL;
	check_classifier(&m);
	check_states(&m);
	check_enforcers(&m);
	check_updates(&m);
	check_orders(&m);
	check_invariants(&m);
	check_migrations(&m);
	check_unused_states(&m);
	apiary__diags_sort(diags, first);
	if (m.oom) {
		apiary_error(diags, NULL, "out of memory while checking %s", spec->path ? spec->path : "<input>");
		return -ENOMEM;
	}
	return diags->errors > start ? -EINVAL : 0;
}
