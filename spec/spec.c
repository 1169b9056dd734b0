// SPDX-License-Identifier: MIT
/*
 * Tables (hooks, fields, literal names), lookups, freeing the AST, printing
 * predicates back in spec syntax, and the load entry points.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiary/abi.h"
#include "spec_int.h"

_Static_assert(APIARY_HOOK_XDP == APIARY_HOOK_ID_XDP, "hook ids match abi.h");
_Static_assert(APIARY_HOOK_TC_INGRESS == APIARY_HOOK_ID_TC_INGRESS, "hook ids match abi.h");
_Static_assert(APIARY_HOOK_TC_EGRESS == APIARY_HOOK_ID_TC_EGRESS, "hook ids match abi.h");
_Static_assert(APIARY_HOOK__COUNT == APIARY_NHOOKS, "hook count matches abi.h");

/* ---- hooks ---------------------------------------------------------- */

static const char *const hook_names[APIARY_HOOK__COUNT] = {
	[APIARY_HOOK_NONE] = "none",
	[APIARY_HOOK_XDP] = "xdp",
	[APIARY_HOOK_TC_INGRESS] = "tc.ingress",
	[APIARY_HOOK_TC_EGRESS] = "tc.egress",
};

/* Spec spelling of a hook ("tc.egress"); "none" for NONE or out of range. */
const char *apiary_hook_name(enum apiary_hook h)
{
	if ((unsigned)h >= APIARY_HOOK__COUNT)
		return "none";
	return hook_names[h];
}

/* Hook from its spec spelling; NONE if unknown. */
enum apiary_hook apiary_hook_parse(const char *name)
{
	int h;

	if (!name)
		return APIARY_HOOK_NONE;
	for (h = APIARY_HOOK_XDP; h < APIARY_HOOK__COUNT; h++)
		if (!strcmp(name, hook_names[h]))
			return (enum apiary_hook)h;
	return APIARY_HOOK_NONE;
}

/* ---- fields --------------------------------------------------------- */

#define ETH APIARY_L_ETH
const struct apiary_field_info apiary_fields[APIARY_F__COUNT] = {
	{ APIARY_F_ETH_TYPE, "eth.type", APIARY_T_INT, 16, ETH },
	{ APIARY_F_ETH_SRC, "eth.src", APIARY_T_MAC, 48, ETH },
	{ APIARY_F_ETH_DST, "eth.dst", APIARY_T_MAC, 48, ETH },
	{ APIARY_F_VLAN_ID, "vlan.id", APIARY_T_INT, 12, ETH | APIARY_L_VLAN },
	{ APIARY_F_IP_SRC, "ip.src", APIARY_T_IPV4, 32, ETH | APIARY_L_IPV4 },
	{ APIARY_F_IP_DST, "ip.dst", APIARY_T_IPV4, 32, ETH | APIARY_L_IPV4 },
	{ APIARY_F_IP_PROTO, "ip.proto", APIARY_T_INT, 8, ETH | APIARY_L_IPV4 },
	{ APIARY_F_IP_TTL, "ip.ttl", APIARY_T_INT, 8, ETH | APIARY_L_IPV4 },
	{ APIARY_F_IP6_SRC, "ip6.src", APIARY_T_IPV6, 128, ETH | APIARY_L_IPV6 },
	{ APIARY_F_IP6_DST, "ip6.dst", APIARY_T_IPV6, 128, ETH | APIARY_L_IPV6 },
	{ APIARY_F_IP6_PROTO, "ip6.proto", APIARY_T_INT, 8, ETH | APIARY_L_IPV6 },
	{ APIARY_F_IP6_TTL, "ip6.ttl", APIARY_T_INT, 8, ETH | APIARY_L_IPV6 },
	{ APIARY_F_TCP_SPORT, "tcp.sport", APIARY_T_INT, 16, ETH | APIARY_L_TCP },
	{ APIARY_F_TCP_DPORT, "tcp.dport", APIARY_T_INT, 16, ETH | APIARY_L_TCP },
	{ APIARY_F_TCP_FLAGS, "tcp.flags", APIARY_T_INT, 8, ETH | APIARY_L_TCP },
	{ APIARY_F_UDP_SPORT, "udp.sport", APIARY_T_INT, 16, ETH | APIARY_L_UDP },
	{ APIARY_F_UDP_DPORT, "udp.dport", APIARY_T_INT, 16, ETH | APIARY_L_UDP },
	{ APIARY_F_ICMP_TYPE, "icmp.type", APIARY_T_INT, 8, ETH | APIARY_L_ICMP },
	{ APIARY_F_L4_SPORT, "l4.sport", APIARY_T_INT, 16, ETH | APIARY_L_L4 },
	{ APIARY_F_L4_DPORT, "l4.dport", APIARY_T_INT, 16, ETH | APIARY_L_L4 },
};
#undef ETH

/* Field by its spec name ("tcp.dport"); NULL if unknown. */
const struct apiary_field_info *apiary_field_lookup(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < APIARY_F__COUNT; i++)
		if (!strcmp(apiary_fields[i].name, name))
			return &apiary_fields[i];
	return NULL;
}

/* ---- literal names -------------------------------------------------- */

static const struct {
	const char *name;
	uint64_t v;
} lit_names[] = {
	{ "tcp", 6 },	     { "udp", 17 },	  { "icmp", 1 },      { "syn", 0x02 },
	{ "ack", 0x10 },     { "fin", 0x01 },	  { "rst", 0x04 },    { "psh", 0x08 },
	{ "urg", 0x20 },     { "ipv4", 0x0800 }, { "ipv6", 0x86dd }, { "arp", 0x0806 },
	{ "vlan", 0x8100 },
};

const char *const apiary__literal_names[] = {
	"tcp", "udp", "icmp", "syn", "ack", "fin", "rst", "psh", "urg", "ipv4", "ipv6", "arp",
	"vlan", NULL,
};

/* Value of a NAME literal (tcp = 6, syn = 0x02, ipv4 = 0x0800, ...). */
bool apiary__name_value(const char *name, uint64_t *v)
{
	size_t i;

	for (i = 0; i < sizeof(lit_names) / sizeof(lit_names[0]); i++) {
		if (!strcmp(lit_names[i].name, name)) {
			*v = lit_names[i].v;
			return true;
		}
	}
	return false;
}

/* ---- small helpers -------------------------------------------------- */

/*
 * Append a zeroed element to *arrp (count *n). The capacity is implied by
 * the count (4, then powers of two), so the public structs need no cap
 * field: grow when n is 0 or a power of two >= 4.
 */
void *apiary__push(void *arrp, size_t *n, size_t elsz)
{
	void **arr = arrp;
	size_t cnt = *n;
	char *v;

	if (cnt == 0 || (cnt >= 4 && !(cnt & (cnt - 1)))) {
		size_t cap = cnt ? cnt * 2 : 4;

		v = realloc(*arr, cap * elsz);
		if (!v)
			return NULL;
		*arr = v;
	}
	v = (char *)*arr + cnt * elsz;
	memset(v, 0, elsz);
	*n = cnt + 1;
	return v;
}

/* Edit distance (Levenshtein with adjacent transpositions, so "tpc" is one
 * step from "tcp") between two short names; longer ones: 99. */
int apiary__edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int d[65][65];

	if (la > 64 || lb > 64)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* ---- freeing -------------------------------------------------------- */

void apiary__literal_fini(struct apiary_literal *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nitems; i++)
		apiary__literal_fini(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->nitems = 0;
}

void apiary__pred_free(struct apiary_pred *p)
{
	if (!p)
		return;
	apiary__pred_free(p->lhs);
	apiary__pred_free(p->rhs);
	apiary__literal_fini(&p->value);
	free(p);
}

void apiary__classifier_fini(struct apiary_classifier *c)
{
	free(c->name.s);
	free(c->keys);
	free(c->key_locs);
	apiary__pred_free(c->match);
	memset(c, 0, sizeof(*c));
}

void apiary__state_fini(struct apiary_state *s)
{
	free(s->name.s);
	free(s->key.ref.s);
	free(s->value.ref.s);
	memset(s, 0, sizeof(*s));
}

void apiary__code_fini(struct apiary_code *c)
{
	free(c->path.s);
	free(c->resolved);
	free(c->program.s);
	memset(c, 0, sizeof(*c));
}

static void cfg_value_fini(struct apiary_cfg_value *v)
{
	size_t i;

	free(v->bytes);
	for (i = 0; i < v->nfields; i++) {
		free(v->fields[i].name.s);
		apiary__literal_fini(&v->fields[i].value);
	}
	free(v->fields);
}

void apiary__config_fini(struct apiary_config *c)
{
	free(c->map.s);
	cfg_value_fini(&c->key);
	cfg_value_fini(&c->value);
	memset(c, 0, sizeof(*c));
}

static void configs_free(struct apiary_config *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		apiary__config_fini(&c[i]);
	free(c);
}

static void globals_free(struct apiary_global *g, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(g[i].name.s);
		apiary__literal_fini(&g[i].value);
	}
	free(g);
}

static void names_free(struct apiary_name *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].s);
	free(v);
}

void apiary__enforcer_fini(struct apiary_enforcer *e)
{
	size_t i;

	free(e->name.s);
	free(e->team.s);
	apiary__code_fini(&e->code);
	for (i = 0; i < e->neffects; i++)
		apiary__pred_free(e->effects[i].when);
	free(e->effects);
	names_free(e->reads, e->nreads);
	names_free(e->writes, e->nwrites);
	configs_free(e->configs, e->nconfigs);
	globals_free(e->globals, e->nglobals);
	memset(e, 0, sizeof(*e));
}

void apiary__update_fini(struct apiary_update *u)
{
	free(u->enforcer.s);
	apiary__code_fini(&u->code);
	configs_free(u->configs, u->nconfigs);
	globals_free(u->globals, u->nglobals);
	memset(u, 0, sizeof(*u));
}

/* Free the spec and everything hanging off it; NULL is fine. */
void apiary_spec_free(struct apiary_spec *s)
{
	size_t i;

	if (!s)
		return;
	free(s->path);
	free(s->dir);
	free(s->text);
	free(s->bundle.s);
	if (s->classifier) {
		apiary__classifier_fini(s->classifier);
		free(s->classifier);
	}
	for (i = 0; i < s->nstates; i++)
		apiary__state_fini(&s->states[i]);
	free(s->states);
	for (i = 0; i < s->nenforcers; i++)
		apiary__enforcer_fini(&s->enforcers[i]);
	free(s->enforcers);
	for (i = 0; i < s->nupdates; i++)
		apiary__update_fini(&s->updates[i]);
	free(s->updates);
	for (i = 0; i < s->norders; i++) {
		free(s->orders[i].before.s);
		free(s->orders[i].after.s);
	}
	free(s->orders);
	for (i = 0; i < s->ncovers; i++) {
		free(s->covers[i].enforcer.s);
		apiary__pred_free(s->covers[i].sees);
	}
	free(s->covers);
	for (i = 0; i < s->nexclusives; i++) {
		free(s->exclusives[i].state.s);
		free(s->exclusives[i].owner.s);
	}
	free(s->exclusives);
	for (i = 0; i < s->nflow_consistent; i++)
		free(s->flow_consistent[i].enforcer.s);
	free(s->flow_consistent);
	for (i = 0; i < s->nmigrations; i++) {
		struct apiary_migrate *m = &s->migrations[i];

		free(m->state.s);
		free(m->enforcer.s);
		for (size_t k = 0; k < m->nassigns; k++) {
			free(m->assigns[k].field.s);
			free(m->assigns[k].from.s);
			apiary__literal_fini(&m->assigns[k].value);
		}
		free(m->assigns);
	}
	free(s->migrations);
	free(s);
}

/* ---- lookups -------------------------------------------------------- */

/* Index of enforcer `name` in spec->enforcers (the numbering used by the
 * ABI's chain and trace), -1 if absent. */
int apiary_spec_enforcer_index(const struct apiary_spec *s, const char *name)
{
	size_t i;

	if (!s || !name)
		return -1;
	for (i = 0; i < s->nenforcers; i++)
		if (s->enforcers[i].name.s && !strcmp(s->enforcers[i].name.s, name))
			return (int)i;
	return -1;
}

const struct apiary_enforcer *apiary_spec_enforcer(const struct apiary_spec *s, const char *name)
{
	int i = apiary_spec_enforcer_index(s, name);

	return i < 0 ? NULL : &s->enforcers[i];
}

const struct apiary_state *apiary_spec_state(const struct apiary_spec *s, const char *name)
{
	size_t i;

	if (!s || !name)
		return NULL;
	for (i = 0; i < s->nstates; i++)
		if (s->states[i].name.s && !strcmp(s->states[i].name.s, name))
			return &s->states[i];
	return NULL;
}

/* ---- printing predicates -------------------------------------------- */

/* snprintf-like accumulator: counts every byte even when truncated. */
struct sbuf {
	char *buf;
	size_t size;
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->len < b->size ? b->size - b->len : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? b->buf + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}

static const char *const op_names[] = { "==", "!=", "<", "<=", ">", ">=" };

/* Literal in spec syntax; integers of eth.type and tcp.flags in hex and
 * protocols by name, as people write them. */
static void format_literal(struct sbuf *b, const struct apiary_literal *l, enum apiary_field f)
{
	char ip[INET6_ADDRSTRLEN];
	size_t i;

	switch (l->kind) {
	case APIARY_LIT_INT:
		if (f == APIARY_F_ETH_TYPE)
			sb_printf(b, "0x%04llx", (unsigned long long)l->u);
		else if (f == APIARY_F_TCP_FLAGS)
			sb_printf(b, "0x%02llx", (unsigned long long)l->u);
		else if ((f == APIARY_F_IP_PROTO || f == APIARY_F_IP6_PROTO) &&
			 (l->u == 6 || l->u == 17 || l->u == 1))
			sb_printf(b, "%s", l->u == 6 ? "tcp" : l->u == 17 ? "udp" : "icmp");
		else
			sb_printf(b, "%llu", (unsigned long long)l->u);
		break;
	case APIARY_LIT_IPV4:
		inet_ntop(AF_INET, l->addr, ip, sizeof(ip));
		sb_printf(b, "%s", ip);
		if (l->prefix != 32)
			sb_printf(b, "/%d", l->prefix);
		break;
	case APIARY_LIT_IPV6:
		inet_ntop(AF_INET6, l->addr, ip, sizeof(ip));
		sb_printf(b, "%s", ip);
		if (l->prefix != 128)
			sb_printf(b, "/%d", l->prefix);
		break;
	case APIARY_LIT_MAC:
		sb_printf(b, "%02x:%02x:%02x:%02x:%02x:%02x", l->addr[0], l->addr[1], l->addr[2],
			  l->addr[3], l->addr[4], l->addr[5]);
		break;
	case APIARY_LIT_RANGE:
		sb_printf(b, "%llu..%llu", (unsigned long long)l->lo, (unsigned long long)l->hi);
		break;
	case APIARY_LIT_SET:
		sb_printf(b, "{ ");
		for (i = 0; i < l->nitems; i++) {
			if (i)
				sb_printf(b, ", ");
			format_literal(b, &l->items[i], f);
		}
		sb_printf(b, " }");
		break;
	}
}

/* Precedence for parenthesising: or < and < not/test. */
static int pred_prec(const struct apiary_pred *p)
{
	switch (p->kind) {
	case APIARY_P_OR:
		return 1;
	case APIARY_P_AND:
		return 2;
	default:
		return 3;
	}
}

/* Print p, in parentheses when its precedence is below `min`. */
static void format_pred(struct sbuf *b, const struct apiary_pred *p, int min)
{
	const char *fname;
	bool paren;

	if (!p) {
		sb_printf(b, "?");
		return;
	}
	paren = pred_prec(p) < min;
	if (paren)
		sb_printf(b, "(");
	fname = (unsigned)p->field < APIARY_F__COUNT ? apiary_fields[p->field].name : "?";
	switch (p->kind) {
	case APIARY_P_OR:
	case APIARY_P_AND:
		/* left-assoc: the right operand needs parens at equal precedence */
		format_pred(b, p->lhs, pred_prec(p));
		sb_printf(b, p->kind == APIARY_P_OR ? " or " : " and ");
		format_pred(b, p->rhs, pred_prec(p) + 1);
		break;
	case APIARY_P_NOT:
		sb_printf(b, "not ");
		format_pred(b, p->lhs, 3);
		break;
	case APIARY_P_CMP:
		sb_printf(b, "%s %s ", fname, (unsigned)p->op < 6 ? op_names[p->op] : "?");
		format_literal(b, &p->value, p->field);
		break;
	case APIARY_P_IN:
		sb_printf(b, "%s in ", fname);
		format_literal(b, &p->value, p->field);
		break;
	case APIARY_P_HAS:
		sb_printf(b, "%s has ", fname);
		format_literal(b, &p->value, p->field);
		break;
	}
	if (paren)
		sb_printf(b, ")");
}

/* Print a predicate in spec syntax; returns its full length like snprintf
 * (the output is truncated, NUL-terminated, when size is too small). */
int apiary_pred_format(const struct apiary_pred *p, char *buf, size_t size)
{
	struct sbuf b = { .buf = buf, .size = size };

	if (buf && size)
		buf[0] = 0;
	format_pred(&b, p, 0);
	return (int)b.len;
}

/* ---- entry points --------------------------------------------------- */

/* Parse text; see spec.h. */
int apiary_spec_parse(const char *path, const char *text, size_t len, struct apiary_spec **out,
		      struct apiary_diags *diags)
{
	int hard;

	return apiary__parse(path, text, len, out, diags, &hard);
}

/* Read a whole file into a malloc'd buffer. */
static int read_file(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *n;
	size_t cap = 0, used = 0, r;
	int err = 0;

	if (!f)
		return -errno;
	do {
		if (used == cap) {
			cap = cap ? cap * 2 : 4096;
			n = realloc(buf, cap);
			if (!n) {
				err = -ENOMEM;
				goto out;
			}
			buf = n;
		}
		r = fread(buf + used, 1, cap - used, f);
		used += r;
	} while (r > 0);
	if (ferror(f))
		err = -EIO;
out:
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	*text = buf;
	*len = used;
	return 0;
}

static int parse_file(const char *path, struct apiary_spec **out, struct apiary_diags *diags,
		      int *hard)
{
	char *text = NULL;
	size_t len = 0;
	int err;

	*out = NULL;
	err = read_file(path, &text, &len);
	if (err) {
		*hard = 1;
		return apiary_error(diags, NULL, "cannot read spec '%s': %s", path, strerror(-err));
	}
	err = apiary__parse(path, text, len, out, diags, hard);
	free(text);
	return err;
}

/* Read the file and parse it. */
int apiary_spec_parse_file(const char *path, struct apiary_spec **out, struct apiary_diags *diags)
{
	int hard;

	return parse_file(path, out, diags, &hard);
}

/*
 * Parse and check. Semantic checks also run after syntax errors the parser
 * could absorb without skipping input (an unknown field or hook, say), so
 * the user sees those together with e.g. an order cycle; after real syntax
 * errors the AST is incomplete and checking it would only add noise.
 */
int apiary_spec_load(const char *path, struct apiary_spec **out, struct apiary_diags *diags)
{
	int hard = 0, err, cerr;

	err = parse_file(path, out, diags, &hard);
	if (!*out || hard)
		return err ? err : -EINVAL;
	cerr = apiary_spec_check(*out, diags);
	return err ? err : cerr;
}

/* See spec.h: the enforcers of a newer spec as updates of this one. */
int apiary_spec_add_update(struct apiary_spec *spec, struct apiary_spec *newer,
			   struct apiary_diags *diags)
{
	size_t start = diags->errors, added = 0;

	for (size_t i = 0; i < newer->nenforcers; i++) {
		struct apiary_enforcer *ne = &newer->enforcers[i];
		const struct apiary_enforcer *oe = apiary_spec_enforcer(spec, ne->name.s);
		struct apiary_update *u;

		if (!oe) {
			apiary_error(diags, &ne->name.loc,
				     "enforcer '%s' is not in %s: an update gives new versions of existing enforcers",
				     ne->name.s, spec->path ? spec->path : "the bundle");
			continue;
		}
		if (ne->version == oe->version)
			continue;
		if (ne->version < oe->version || ne->hook != oe->hook) {
			apiary_error(diags, &ne->loc,
				     ne->hook != oe->hook ?
					     "update of '%s' moves it to another hook; an update keeps the hook (line %d of the bundle)"
					     : "update of '%s' must be newer than its version in the bundle (line %d)",
				     ne->name.s, oe->loc.line);
			continue;
		}
		for (size_t j = 0; j < spec->nupdates; j++)
			if (spec->updates[j].enforcer.s && !strcmp(spec->updates[j].enforcer.s, ne->name.s))
				apiary_error(diags, &ne->loc, "'%s' already has an update in the bundle (line %d)",
					     ne->name.s, spec->updates[j].loc.line);
		u = apiary__push(&spec->updates, &spec->nupdates, sizeof(*u));
		if (!u)
			return -ENOMEM;
		u->enforcer.s = strdup(ne->name.s);
		if (!u->enforcer.s)
			return -ENOMEM;
		u->enforcer.loc = ne->name.loc;
		u->version = ne->version;
		u->loc = ne->loc;
		u->code = ne->code;
		memset(&ne->code, 0, sizeof(ne->code));
		u->configs = ne->configs;
		u->nconfigs = ne->nconfigs;
		ne->configs = NULL;
		ne->nconfigs = 0;
		u->globals = ne->globals;
		u->nglobals = ne->nglobals;
		ne->globals = NULL;
		ne->nglobals = 0;
		added++;
	}
	for (size_t i = 0; i < newer->nmigrations; i++) {
		struct apiary_migrate *m = &newer->migrations[i], *dst;
		const struct apiary_enforcer *oe = m->enforcer.s ? apiary_spec_enforcer(spec, m->enforcer.s) : NULL;

		if (!oe || oe->version != m->from) {
			apiary_error(diags, &m->loc, "migration of '%s' from version %u: the bundle has %s",
				     m->state.s, m->from, oe ? "another version" : "no such enforcer");
			continue;
		}
		dst = apiary__push(&spec->migrations, &spec->nmigrations, sizeof(*dst));
		if (!dst)
			return -ENOMEM;
		*dst = *m;
		memset(m, 0, sizeof(*m));
	}
	for (size_t i = 0; i < newer->nflow_consistent; i++) {
		struct apiary_flow_consistent *f = &newer->flow_consistent[i], *dst;
		bool have = false;

		for (size_t j = 0; j < spec->nflow_consistent && !have; j++)
			have = !strcmp(spec->flow_consistent[j].enforcer.s, f->enforcer.s);
		if (have || !apiary_spec_enforcer(spec, f->enforcer.s))
			continue;
		dst = apiary__push(&spec->flow_consistent, &spec->nflow_consistent, sizeof(*dst));
		if (!dst)
			return -ENOMEM;
		*dst = *f;
		memset(f, 0, sizeof(*f));
	}
	if (!added && diags->errors == start)
		apiary_error(diags, NULL, "%s gives no enforcer a new version: nothing to update",
			     newer->path ? newer->path : "the update");
	return diags->errors > start ? -EINVAL : 0;
}

void apiary_spec_must_precede(const struct apiary_spec *s, bool *before, size_t stride)
{
	size_t ne = s->nenforcers;

	for (size_t i = 0; i < s->norders; i++) {
		int a = apiary_spec_enforcer_index(s, s->orders[i].before.s);
		int b = apiary_spec_enforcer_index(s, s->orders[i].after.s);

		if (a >= 0 && b >= 0)
			before[(size_t)a * stride + (size_t)b] = true;
	}
	for (size_t p = 0; p < ne; p++)
		for (size_t o = 0; s->enforcers[p].code.prebuilt && o < ne; o++)
			if (o != p && s->enforcers[o].hook == s->enforcers[p].hook)
				before[o * stride + p] = true;
	for (size_t k = 0; k < ne; k++)
		for (size_t i = 0; i < ne; i++)
			for (size_t j = 0; j < ne; j++)
				if (before[i * stride + k] && before[k * stride + j])
					before[i * stride + j] = true;
}
