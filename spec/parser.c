// SPDX-License-Identifier: MIT
/*
 * Recursive-descent parser for bundle specs. One function per grammar rule,
 * the rule in a comment above it; the cursor lives in struct parser, passed
 * first to every function.
 *
 * Errors come in two kinds. A "soft" error (unknown field, unknown hook,
 * number too large, both source and object, ...) is reported and parsing
 * goes on as if the input were right, so the AST stays complete. A "hard"
 * error means the input does not fit the grammar: the rule gives up, its
 * partial node is freed, and the caller skips to the next item keyword or
 * '}' (inside a body) or to the next top-level keyword. Either way every
 * error of a file is reported, and nothing allocated is lost.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_int.h"

#define MAX_ERRORS 50	   /* stop after this many: the rest is noise */
#define MAX_PRED_DEPTH 64  /* nesting of not/( */
#define MAX_PRED_TERMS 1024 /* tests in one predicate */

struct parser {
	struct apiary_spec *spec;
	struct token *tok;
	size_t ntok;
	size_t pos;
	struct apiary_diags *d;
	size_t errors_at_start;
	size_t last_err; /* token index of the last error, to avoid cascades */
	int hard;
	bool oom;
	bool stop;
	int terms; /* tests in the predicate being parsed */
	size_t *match; /* per '{' token: index of its '}', NO_MATCH if none */
};

#define NO_MATCH ((size_t)-1)

static const char *const decl_kws[] = {
	"bundle", "classifier", "state", "enforcer", "update", "order", "cover", "exclusive",
	"flow-consistent", "migrate", NULL,
};
static const char *const item_kws[] = {
	"source", "object", "program", "effect", "reads", "writes", "config", "global", NULL,
};
static const char *const classifier_kws[] = { "key", "match", "flows", "idle", NULL };
static const char *const mapkind_list[] = {
	"hash", "lru_hash", "array", "percpu_hash", "percpu_array", NULL,
};
static const char *const verdict_list[] = { "drop", "pass", "tx", "redirect", "aborted", NULL };

/* ---- cursor --------------------------------------------------------- */

static struct token *peek(struct parser *p)
{
	return &p->tok[p->pos];
}

/* The current token; moves on unless at the end. */
static struct token *next(struct parser *p)
{
	struct token *t = &p->tok[p->pos];

	if (t->kind != TK_EOF)
		p->pos++;
	return t;
}

/* The last token consumed (for spans). */
static struct token *prev(struct parser *p)
{
	return &p->tok[p->pos ? p->pos - 1 : 0];
}

static bool tok_is(const struct token *t, const char *s)
{
	size_t n = strlen(s);

	return (t->kind == TK_IDENT || t->kind == TK_PUNCT) && t->len == n &&
	       !memcmp(t->start, s, n);
}

static bool is(struct parser *p, const char *s)
{
	return tok_is(peek(p), s);
}

static bool at_eof(struct parser *p)
{
	return peek(p)->kind == TK_EOF || p->stop;
}

static bool accept(struct parser *p, const char *s)
{
	if (!is(p, s))
		return false;
	next(p);
	return true;
}

static bool tok_in(const struct token *t, const char *const *list)
{
	for (; *list; list++)
		if (tok_is(t, *list))
			return true;
	return false;
}

static bool at_decl_kw(struct parser *p)
{
	return peek(p)->kind == TK_IDENT && tok_in(peek(p), decl_kws);
}

static struct apiary_loc loc_of(struct parser *p, const struct token *t)
{
	return apiary__tok_loc(p->spec->path, p->spec->text, t);
}

/* Location from token a to token b, when they sit on one line. */
static struct apiary_loc span(struct parser *p, const struct token *a, const struct token *b)
{
	struct apiary_loc l = loc_of(p, a);

	if (b->line == a->line && b->col >= a->col) {
		int len = b->col + (int)b->len - a->col;

		l.len = len > 200 ? 200 : len;
	}
	return l;
}

/* A copy of a token's text. */
static char *tok_str(struct parser *p, const struct token *t)
{
	char *s = strndup(t->start, t->len);

	if (!s)
		p->oom = true;
	return s;
}

/* How a token reads in a message: 'text', "a string" or "end of file". */
static void describe(const struct token *t, char *buf, size_t size)
{
	if (t->kind == TK_EOF)
		snprintf(buf, size, "end of file");
	else if (t->kind == TK_STRING)
		snprintf(buf, size, "a string");
	else if (t->len > 40)
		snprintf(buf, size, "'%.40s...'", t->start);
	else
		snprintf(buf, size, "'%.*s'", (int)t->len, t->start);
}

/* ---- errors --------------------------------------------------------- */

/* Report an error at token t, unless one was already reported there (one
 * mistake gives one message). Returns -EINVAL. */
__attribute__((format(printf, 3, 4))) static int error_at(struct parser *p, const struct token *t,
							  const char *fmt, ...)
{
	struct apiary_loc l = loc_of(p, t);
	size_t idx = (size_t)(t - p->tok);
	char *msg = NULL;
	va_list ap;

	if (idx == p->last_err)
		return -EINVAL;
	p->last_err = idx;
	if (p->d->errors - p->errors_at_start >= MAX_ERRORS) {
		p->stop = true;
		return -EINVAL;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	apiary_error(p->d, &l, "%s", msg ? msg : "(out of memory)");
	free(msg);
	if (p->d->errors - p->errors_at_start >= MAX_ERRORS) {
		apiary_note(p->d, NULL, "too many errors in %s; stopping here", p->spec->path);
		p->stop = true;
	}
	return -EINVAL;
}

static int oom(struct parser *p)
{
	if (!p->oom)
		apiary_error(p->d, NULL, "out of memory while parsing %s", p->spec->path);
	p->oom = true;
	p->stop = true;
	return -ENOMEM;
}

/* Closest candidate to word within a small edit distance, or NULL. */
static const char *suggest(const char *word, const char *const *cands)
{
	const char *best = NULL;
	int bestd = strlen(word) <= 3 ? 2 : 3;

	for (; *cands; cands++) {
		int dist = apiary__edit_distance(word, *cands);

		if (dist < bestd) {
			bestd = dist;
			best = *cands;
		}
	}
	return best;
}

/* "; did you mean 'x'?" or "" */
static void hint(char *buf, size_t size, const char *word, const char *const *cands)
{
	const char *s = suggest(word, cands);

	if (s)
		snprintf(buf, size, "; did you mean '%s'?", s);
	else
		buf[0] = 0;
}

/* Expect punctuation or keyword s; `after` says where, for the message. */
static int expect(struct parser *p, const char *s, const char *after)
{
	char found[64];

	if (accept(p, s))
		return 0;
	if (p->oom)
		return -ENOMEM;
	describe(peek(p), found, sizeof(found));
	return error_at(p, peek(p), "expected '%s' %s, found %s", s, after, found);
}

/* Skip to the next top-level keyword, or past the '}' that ends the
 * broken declaration's body: the recovery point after a broken
 * declaration. */
static void sync_top(struct parser *p)
{
	p->hard++;
	while (!at_eof(p) && !at_decl_kw(p)) {
		size_t i = p->pos, m, k;
		struct token *t = next(p);

		if (tok_is(t, "}"))
			return;
		if (!tok_is(t, "{") || !p->match || p->match[i] == NO_MATCH)
			continue;
		m = p->match[i];
		for (k = i + 1; k < m; k++)
			if (p->tok[k].kind == TK_IDENT && tok_in(&p->tok[k], decl_kws))
				break;
		if (k == m) {
			p->pos = m + 1;
			return;
		}
	}
}

/* Skip to the next item keyword of a body (kws), its closing '}' or a
 * top-level keyword, stepping over nested { } groups. */
static void sync_body(struct parser *p, const char *const *kws)
{
	int depth = 0;

	p->hard++;
	while (!at_eof(p)) {
		struct token *t = peek(p);

		if (depth == 0 && (tok_is(t, "}") || at_decl_kw(p) ||
				   (t->kind == TK_IDENT && tok_in(t, kws))))
			return;
		if (tok_is(t, "{"))
			depth++;
		else if (tok_is(t, "}"))
			depth--;
		next(p);
	}
}

static void skip_to_close(struct parser *p, size_t open, bool same_line);

/* ---- terminals ------------------------------------------------------ */

/* IDENT into a name; `what` names the expected thing for the message. */
static int ident(struct parser *p, struct apiary_name *out, const char *what)
{
	struct token *t = peek(p);
	char found[64];

	if (t->kind != TK_IDENT || tok_in(t, decl_kws)) {
		describe(t, found, sizeof(found));
		return error_at(p, t, "expected %s, found %s", what, found);
	}
	next(p);
	out->s = tok_str(p, t);
	if (!out->s)
		return oom(p);
	out->loc = loc_of(p, t);
	return 0;
}

/* A declared name (enforcer, state, classifier) becomes part of C
 * identifiers and map names, so dots are refused. */
static int decl_name(struct parser *p, struct apiary_name *out, const char *what)
{
	int err = ident(p, out, what);

	if (!err && strchr(out->s, '.'))
		error_at(p, prev(p),
			 "'%s' cannot be a name: names are letters, digits and '_' (they become C identifiers)",
			 out->s);
	return err;
}

/* A number that must fit in 32 bits (versions, max entries). */
static int u32_number(struct parser *p, uint32_t *out, const char *what)
{
	struct token *t = peek(p);
	char found[64];

	if (t->kind != TK_INT && t->kind != TK_HEX) {
		describe(t, found, sizeof(found));
		return error_at(p, t, "expected %s (a number), found %s", what, found);
	}
	next(p);
	if (t->overflow || t->u > UINT32_MAX)
		error_at(p, t, "%s %.*s is too large; it must fit in 32 bits (at most 4294967295)",
			 what, (int)t->len, t->start);
	*out = (uint32_t)t->u;
	return 0;
}

/* STRING into a name (paths, program names). */
static int string(struct parser *p, struct apiary_name *out, const char *what)
{
	struct token *t = peek(p);
	char found[64];

	if (t->kind != TK_STRING) {
		describe(t, found, sizeof(found));
		return error_at(p, t, "expected %s (a \"quoted string\"), found %s", what, found);
	}
	next(p);
	out->s = strdup(t->str);
	if (!out->s)
		return oom(p);
	out->loc = loc_of(p, t);
	return 0;
}

/* hook = "xdp" | "tc.ingress" | "tc.egress" */
static int hook(struct parser *p, enum apiary_hook *out, struct apiary_loc *loc)
{
	struct token *t = peek(p);
	char found[64], name[64];

	if (t->kind != TK_IDENT) {
		describe(t, found, sizeof(found));
		return error_at(p, t, "expected a hook (xdp, tc.ingress or tc.egress), found %s",
				found);
	}
	next(p);
	*loc = loc_of(p, t);
	snprintf(name, sizeof(name), "%.*s", (int)t->len, t->start);
	*out = apiary_hook_parse(name);
	if (*out == APIARY_HOOK_NONE)
		error_at(p, t, "unknown hook '%s'; expected xdp, tc.ingress or tc.egress", name);
	return 0;
}

/* ---- literals ------------------------------------------------------- */

static int parse_prefix(struct parser *p, struct apiary_literal *l)
{
	struct token *t;
	char found[64];

	if (!accept(p, "/"))
		return 0;
	t = peek(p);
	if (t->kind != TK_INT) {
		describe(t, found, sizeof(found));
		return error_at(p, t, "expected a prefix length after '/', found %s", found);
	}
	next(p);
	l->prefix = t->overflow || t->u > 9999 ? 9999 : (int)t->u;
	return 0;
}

// literal = INT | HEX | IPV4 ["/" INT] | IPV6 ["/" INT] | MAC | NAME
static int literal(struct parser *p, struct apiary_literal *l)
{
	struct token *t = peek(p);
	char found[64], name[64], h[80];

	memset(l, 0, sizeof(*l));
	l->loc = loc_of(p, t);
	switch (t->kind) {
	case TK_INT:
	case TK_HEX:
		next(p);
		l->kind = APIARY_LIT_INT;
		l->u = t->u;
		if (t->overflow)
			error_at(p, t, "number %.*s is too large (at most 64 bits)", (int)t->len,
				 t->start);
		return 0;
	case TK_IPV4:
	case TK_IPV6:
		next(p);
		l->kind = t->kind == TK_IPV4 ? APIARY_LIT_IPV4 : APIARY_LIT_IPV6;
		memcpy(l->addr, t->addr, sizeof(l->addr));
		l->prefix = t->kind == TK_IPV4 ? 32 : 128;
		if (parse_prefix(p, l))
			return -EINVAL;
		l->loc = span(p, t, prev(p));
		return 0;
	case TK_MAC:
		next(p);
		l->kind = APIARY_LIT_MAC;
		memcpy(l->addr, t->addr, 6);
		return 0;
	case TK_IDENT:
		if (tok_in(t, decl_kws) || tok_in(t, item_kws) || tok_is(t, "and") ||
		    tok_is(t, "or") || tok_is(t, "not"))
			break;
		next(p);
		l->kind = APIARY_LIT_INT;
		snprintf(name, sizeof(name), "%.*s", (int)t->len, t->start);
		if (!apiary__name_value(name, &l->u)) {
			hint(h, sizeof(h), name, apiary__literal_names);
			error_at(p, t,
				 "unknown value '%s'%s%s", name, h,
				 *h ? "" : "; expected a number, an address or one of tcp, udp, icmp, syn, ack, fin, rst, psh, urg, ipv4, ipv6, arp, vlan");
		}
		return 0;
	default:
		break;
	}
	describe(t, found, sizeof(found));
	return error_at(p, t, "expected a value (a number, an address or a name like tcp), found %s",
			found);
}

/* Set: "{" literal ("," literal)* "}" */
static int literal_set(struct parser *p, struct apiary_literal *l)
{
	size_t oi = p->pos;
	struct token *open = next(p);
	int err;

	l->kind = APIARY_LIT_SET;
	do {
		struct apiary_literal *it = apiary__push(&l->items, &l->nitems, sizeof(*it));

		if (!it)
			return oom(p);
		err = literal(p, it);
		if (err)
			break;
	} while (accept(p, ","));
	err = err ?: expect(p, "}", "to close the set (separate values with ',')");
	if (err && !p->oom)
		skip_to_close(p, oi, true);
	l->loc = span(p, open, prev(p));
	return err;
}

/* The right side of `in`: CIDR | INT ".." INT | "{" literal ("," literal)* "}" */
static int in_value(struct parser *p, struct apiary_literal *l)
{
	struct token *t = peek(p), *hi;
	char found[64];

	memset(l, 0, sizeof(*l));
	l->loc = loc_of(p, t);
	if (t->kind == TK_IPV4 || t->kind == TK_IPV6)
		return literal(p, l);
	if (tok_is(t, "{"))
		return literal_set(p, l);
	if (t->kind == TK_INT || t->kind == TK_HEX) {
		next(p);
		if (!accept(p, "..")) {
			describe(peek(p), found, sizeof(found));
			return error_at(p, peek(p),
					"expected '..' after %.*s in a range (write LO..HI, or use '==' for one value), found %s",
					(int)t->len, t->start, found);
		}
		hi = peek(p);
		if (hi->kind != TK_INT && hi->kind != TK_HEX) {
			describe(hi, found, sizeof(found));
			return error_at(p, hi, "expected the upper bound of the range, found %s",
					found);
		}
		next(p);
		l->kind = APIARY_LIT_RANGE;
		l->lo = t->u;
		l->hi = hi->u;
		if (t->overflow || hi->overflow)
			error_at(p, t->overflow ? t : hi, "number is too large (at most 64 bits)");
		l->loc = span(p, t, hi);
		return 0;
	}
	describe(t, found, sizeof(found));
	return error_at(p, t,
			"'in' needs a CIDR (10.0.0.0/8), a range (1024..65535) or a set ({ 22, 80 }), found %s",
			found);
}

/* ---- predicates ----------------------------------------------------- */

static struct apiary_pred *pred(struct parser *p, int depth);

static struct apiary_pred *new_pred(struct parser *p, enum apiary_pred_kind kind,
				    struct apiary_loc loc)
{
	struct apiary_pred *n = calloc(1, sizeof(*n));

	if (!n) {
		oom(p);
		return NULL;
	}
	n->kind = kind;
	n->loc = loc;
	return n;
}

/* Binary node over lhs and rhs; frees both on failure. */
static struct apiary_pred *binary(struct parser *p, enum apiary_pred_kind kind,
				  struct apiary_pred *lhs, struct apiary_pred *rhs)
{
	struct apiary_pred *n;
	struct apiary_loc l = lhs->loc;

	if (rhs->loc.line == l.line && rhs->loc.col >= l.col) {
		int len = rhs->loc.col + rhs->loc.len - l.col;

		l.len = len > 200 ? 200 : len;
	}
	n = new_pred(p, kind, l);
	if (!n) {
		apiary__pred_free(lhs);
		apiary__pred_free(rhs);
		return NULL;
	}
	n->lhs = lhs;
	n->rhs = rhs;
	return n;
}

static const char *const cmp_ops[] = { "==", "!=", "<", "<=", ">", ">=" };

// test = field ("==" | "!=" | "<" | "<=" | ">" | ">=") literal
//      | field "in" ( CIDR | INT ".." INT | "{" literal ("," literal)* "}" )
//      | field "has" literal
static struct apiary_pred *test(struct parser *p)
{
	struct token *ft = peek(p), *op;
	const struct apiary_field_info *fi;
	struct apiary_pred *n;
	char found[64], name[64], h[80];
	size_t i;
	int err;

	if (ft->kind != TK_IDENT || tok_in(ft, decl_kws) || tok_in(ft, item_kws) ||
	    tok_is(ft, "and") || tok_is(ft, "or")) {
		describe(ft, found, sizeof(found));
		error_at(p, ft, "expected a test such as 'tcp.dport == 23', found %s", found);
		return NULL;
	}
	if (++p->terms > MAX_PRED_TERMS) {
		error_at(p, ft, "predicate has more than %d tests; split it", MAX_PRED_TERMS);
		return NULL;
	}
	next(p);
	n = new_pred(p, APIARY_P_CMP, loc_of(p, ft));
	if (!n)
		return NULL;
	snprintf(name, sizeof(name), "%.*s", (int)ft->len, ft->start);
	fi = apiary_field_lookup(name);
	if (fi) {
		n->field = fi->id;
	} else {
		const char *names[APIARY_F__COUNT + 1];

		for (i = 0; i < APIARY_F__COUNT; i++)
			names[i] = apiary_fields[i].name;
		names[i] = NULL;
		n->field = APIARY_FIELD_INVALID;
		hint(h, sizeof(h), name, names);
		error_at(p, ft, "unknown field '%s'%s", name,
			 *h ? h : "; fields are eth.type eth.src eth.dst vlan.id ip.src ip.dst ip.proto ip.ttl ip6.src ip6.dst ip6.proto ip6.ttl tcp.sport tcp.dport tcp.flags udp.sport udp.dport icmp.type l4.sport l4.dport");
	}
	op = peek(p);
	for (i = 0; i < 6; i++)
		if (tok_is(op, cmp_ops[i]))
			break;
	if (i < 6) {
		next(p);
		n->kind = APIARY_P_CMP;
		n->op = (enum apiary_cmp_op)i;
		err = literal(p, &n->value);
	} else if (tok_is(op, "in")) {
		next(p);
		n->kind = APIARY_P_IN;
		err = in_value(p, &n->value);
	} else if (tok_is(op, "has")) {
		next(p);
		n->kind = APIARY_P_HAS;
		err = literal(p, &n->value);
	} else {
		describe(op, found, sizeof(found));
		err = error_at(p, op,
			       "expected a comparison (==, !=, <, <=, >, >=, in or has) after '%s', found %s",
			       name, found);
	}
	if (err) {
		apiary__pred_free(n);
		return NULL;
	}
	n->loc = span(p, ft, prev(p));
	return n;
}

// unary = "not" unary | "(" pred ")" | test
static struct apiary_pred *unary(struct parser *p, int depth)
{
	struct token *t = peek(p);
	struct apiary_pred *sub, *n;

	if (depth > MAX_PRED_DEPTH) {
		error_at(p, t, "predicate nested more than %d levels deep", MAX_PRED_DEPTH);
		return NULL;
	}
	if (accept(p, "not")) {
		sub = unary(p, depth + 1);
		if (!sub)
			return NULL;
		n = new_pred(p, APIARY_P_NOT, loc_of(p, t));
		if (!n) {
			apiary__pred_free(sub);
			return NULL;
		}
		n->lhs = sub;
		if (sub->loc.line == t->line)
			n->loc.len = sub->loc.col + sub->loc.len - t->col;
		return n;
	}
	if (accept(p, "(")) {
		sub = pred(p, depth + 1);
		if (!sub)
			return NULL;
		if (expect(p, ")", "to close the '(' of the predicate")) {
			apiary__pred_free(sub);
			return NULL;
		}
		return sub;
	}
	return test(p);
}

// and = unary ( "and" unary )*
static struct apiary_pred *and_expr(struct parser *p, int depth)
{
	struct apiary_pred *lhs = unary(p, depth), *rhs;

	while (lhs && accept(p, "and")) {
		rhs = unary(p, depth);
		if (!rhs) {
			apiary__pred_free(lhs);
			return NULL;
		}
		lhs = binary(p, APIARY_P_AND, lhs, rhs);
	}
	return lhs;
}

// pred = and ( "or" and )*
static struct apiary_pred *pred(struct parser *p, int depth)
{
	struct apiary_pred *lhs = and_expr(p, depth), *rhs;

	while (lhs && accept(p, "or")) {
		rhs = and_expr(p, depth);
		if (!rhs) {
			apiary__pred_free(lhs);
			return NULL;
		}
		lhs = binary(p, APIARY_P_OR, lhs, rhs);
	}
	return lhs;
}

/* A whole predicate (after when/match/sees). */
static struct apiary_pred *predicate(struct parser *p)
{
	p->terms = 0;
	return pred(p, 0);
}

/* ---- classifier ----------------------------------------------------- */

/* One key field of a classifier. */
static int key_field(struct parser *p, struct apiary_classifier *c)
{
	struct token *t = peek(p);
	const struct apiary_field_info *fi;
	const char *names[APIARY_F__COUNT + 1];
	char found[64], name[64], h[80];
	size_t n1 = c->nkeys, n2 = c->nkeys, i;
	enum apiary_field *k;
	struct apiary_loc *kl;

	if (t->kind != TK_IDENT || tok_in(t, classifier_kws)) {
		describe(t, found, sizeof(found));
		return error_at(p, t, "expected a key field such as ip.src, found %s", found);
	}
	next(p);
	k = apiary__push(&c->keys, &n1, sizeof(*k));
	if (!k)
		return oom(p);
	kl = apiary__push(&c->key_locs, &n2, sizeof(*kl));
	if (!kl)
		return oom(p);
	c->nkeys = n1;
	*kl = loc_of(p, t);
	snprintf(name, sizeof(name), "%.*s", (int)t->len, t->start);
	fi = apiary_field_lookup(name);
	if (fi) {
		*k = fi->id;
		return 0;
	}
	*k = APIARY_FIELD_INVALID;
	for (i = 0; i < APIARY_F__COUNT; i++)
		names[i] = apiary_fields[i].name;
	names[i] = NULL;
	hint(h, sizeof(h), name, names);
	error_at(p, t, "unknown field '%s'%s", name,
		 *h ? h : "; key fields are ip.src ip.dst ip.proto ip6.src ip6.dst ip6.proto l4.sport l4.dport tcp.sport tcp.dport udp.sport udp.dport");
	return 0;
}

/* Closing '}' of a body, or the error for a missing one. A missing brace
 * keeps what was parsed (the error is reported, sema does not run). */
static void close_body(struct parser *p, const char *what, const char *name, int line)
{
	char found[64];

	if (accept(p, "}"))
		return;
	describe(peek(p), found, sizeof(found));
	error_at(p, peek(p), "expected '}' to close %s '%s' (opened at line %d), found %s", what,
		 name ? name : "?", line, found);
	p->hard++;
}

// classifier = "classifier" IDENT "at" hook "{" ( "key" field ("," field)* | "match" pred
//              | "flows" "max" INT | "idle" INT )* "}"
static int classifier(struct parser *p)
{
	struct token *kw = next(p), *open;
	struct apiary_classifier *c = calloc(1, sizeof(*c));
	char found[64];
	int err;

	if (!c)
		return oom(p);
	c->loc = loc_of(p, kw);
	err = decl_name(p, &c->name, "a classifier name");
	err = err ?: expect(p, "at", "after the classifier name");
	err = err ?: hook(p, &c->hook, &c->hook_loc);
	open = peek(p);
	err = err ?: expect(p, "{", "to open the classifier body");
	while (!err && !is(p, "}") && !at_eof(p) && !at_decl_kw(p)) {
		struct token *it = peek(p);
		int ierr = 0;

		if (accept(p, "key")) {
			do
				ierr = key_field(p, c);
			while (!ierr && accept(p, ","));
		} else if (accept(p, "match")) {
			struct apiary_pred *m = predicate(p);

			if (!m) {
				ierr = -EINVAL;
			} else if (c->match) {
				error_at(p, it,
					 "classifier '%s' has a second 'match'; combine both with 'and' in one match",
					 c->name.s);
				apiary__pred_free(m);
			} else {
				c->match = m;
			}
		} else if (accept(p, "flows")) {
			c->max_flows_loc = loc_of(p, it);
			ierr = expect(p, "max", "after 'flows' (write flows max N)");
			ierr = ierr ?: u32_number(p, &c->max_flows, "the size of the flow table");
		} else if (accept(p, "idle")) {
			c->idle_loc = loc_of(p, it);
			ierr = u32_number(p, &c->idle, "the idle timeout in clock ticks");
		} else {
			describe(it, found, sizeof(found));
			ierr = error_at(p, it,
					"expected 'key', 'match', 'flows' or 'idle' in classifier '%s', found %s",
					c->name.s, found);
		}
		if (p->oom) {
			err = -ENOMEM;
			break;
		}
		if (ierr)
			sync_body(p, classifier_kws);
	}
	if (!err)
		close_body(p, "classifier", c->name.s, open->line);
	if (err) {
		apiary__classifier_fini(c);
		free(c);
		return err;
	}
	if (p->spec->classifier) {
		error_at(p, kw,
			 "more than one classifier: a bundle has one classifier ('%s', line %d); merge their keys and match",
			 p->spec->classifier->name.s, p->spec->classifier->loc.line);
		apiary__classifier_fini(c);
		free(c);
		return 0;
	}
	p->spec->classifier = c;
	return 0;
}

// type = "u8" | "u16" | "u32" | "u64" | "bytes" "[" INT "]" | IDENT
static int type(struct parser *p, struct apiary_type *ty)
{
	struct token *t = peek(p);
	static const char *const scalars[] = { "u8", "u16", "u32", "u64" };
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	char found[64];
	uint32_t n = 0;
	int i, err;

	ty->loc = loc_of(p, t);
	for (i = 0; i < 4; i++) {
		if (accept(p, scalars[i])) {
			ty->kind = APIARY_TY_U8 + i;
			ty->size = sizes[i];
			return 0;
		}
	}
	if (accept(p, "bytes")) {
		err = expect(p, "[", "after 'bytes' (write bytes[N])");
		err = err ?: u32_number(p, &n, "the size of bytes[N]");
		err = err ?: expect(p, "]", "to close bytes[N]");
		ty->kind = APIARY_TY_BYTES;
		ty->size = n;
		ty->loc = span(p, t, prev(p));
		return err;
	}
	if (t->kind == TK_IDENT && !tok_is(t, "max")) {
		ty->kind = APIARY_TY_FLOW;
		return ident(p, &ty->ref, "a type");
	}
	describe(t, found, sizeof(found));
	return error_at(p, t,
			"expected a type (u8, u16, u32, u64, bytes[N] or the classifier's name), found %s",
			found);
}

// state = "state" IDENT ":" mapkind "(" type "->" type ")" "max" INT
// mapkind = "hash" | "lru_hash" | "array" | "percpu_hash" | "percpu_array"
static int state(struct parser *p)
{
	struct token *kw = next(p), *mk;
	struct apiary_state *s;
	size_t idx;
	char found[64], name[64], h[80];
	int i, err;

	s = apiary__push(&p->spec->states, &p->spec->nstates, sizeof(*s));
	if (!s)
		return oom(p);
	idx = p->spec->nstates - 1;
	s->loc = loc_of(p, kw);
	err = decl_name(p, &s->name, "a state name");
	err = err ?: expect(p, ":", "after the state name (write state NAME : hash(KEY -> VALUE) max N)");
	mk = peek(p);
	if (!err && mk->kind != TK_IDENT) {
		describe(mk, found, sizeof(found));
		err = error_at(p, mk,
			       "expected a map kind (hash, lru_hash, array, percpu_hash or percpu_array), found %s",
			       found);
	}
	if (!err) {
		next(p);
		snprintf(name, sizeof(name), "%.*s", (int)mk->len, mk->start);
		for (i = 0; mapkind_list[i]; i++)
			if (!strcmp(name, mapkind_list[i]))
				break;
		if (mapkind_list[i]) {
			s->kind = (enum apiary_map_kind)i;
		} else {
			hint(h, sizeof(h), name, mapkind_list);
			error_at(p, mk,
				 "unknown map kind '%s'%s%s", name, h,
				 *h ? "" : "; expected hash, lru_hash, array, percpu_hash or percpu_array");
		}
	}
	err = err ?: expect(p, "(", "after the map kind");
	err = err ?: type(p, &s->key);
	err = err ?: expect(p, "->", "between the key and value types");
	err = err ?: type(p, &s->value);
	err = err ?: expect(p, ")", "after the value type");
	err = err ?: expect(p, "max", "after the map type (write max N)");
	err = err ?: u32_number(p, &s->max_entries, "max entries");
	if (err) {
		apiary__state_fini(&p->spec->states[idx]);
		p->spec->nstates--;
	}
	return err;
}

/* ---- enforcer bodies ------------------------------------------------ */

/* source|object STRING ["program" STRING] */
static int code(struct parser *p, struct apiary_enforcer *e, const char *owner)
{
	struct token *kw = next(p);
	struct apiary_code c = { .prebuilt = tok_is(kw, "object") };
	int err;

	err = string(p, &c.path, c.prebuilt ? "the object file path" : "the source file path");
	if (!err && accept(p, "program"))
		err = string(p, &c.program, "the program name");
	if (err) {
		apiary__code_fini(&c);
		return err;
	}
	if (e->code.path.s) {
		if (e->code.prebuilt == c.prebuilt)
			error_at(p, kw, "%s already has %s \"%s\" (line %d); keep one", owner,
				 c.prebuilt ? "an object" : "a source", e->code.path.s,
				 e->code.path.loc.line);
		else
			error_at(p, kw,
				 "%s has both source and object; keep exactly one (source: C that apiary compiles, object: a prebuilt program used unchanged)",
				 owner);
		apiary__code_fini(&c);
		return 0;
	}
	e->code = c;
	return 0;
}

// cfgval = HEX | "{" IDENT literal ("," IDENT literal)* "}"
static int cfgval(struct parser *p, struct apiary_cfg_value *v)
{
	struct token *t = peek(p);
	char found[64];
	size_t nd, i, oi;
	const char *digits;
	int err;

	v->loc = loc_of(p, t);
	if (t->kind == TK_HEX) {
		next(p);
		v->raw = true;
		digits = t->start + 2;
		nd = t->len - 2;
		if (nd % 2)
			error_at(p, t,
				 "raw bytes need an even number of hex digits (two per byte, e.g. 0x0a000001)");
		v->nbytes = (nd + 1) / 2;
		v->bytes = calloc(v->nbytes ? v->nbytes : 1, 1);
		if (!v->bytes)
			return oom(p);
		/* odd count: the first digit is the low nibble of byte 0 */
		for (i = 0; i < nd; i++) {
			int c = digits[nd - 1 - i];
			int x = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

			v->bytes[v->nbytes - 1 - i / 2] |= (uint8_t)(x << (4 * (i % 2)));
		}
		return 0;
	}
	oi = p->pos;
	if (!accept(p, "{")) {
		describe(t, found, sizeof(found));
		return error_at(p, t,
				"expected raw bytes (0x...) or fields ({ name value, ... }), found %s",
				found);
	}
	do {
		struct apiary_cfg_field *f = apiary__push(&v->fields, &v->nfields, sizeof(*f));

		if (!f)
			return oom(p);
		err = ident(p, &f->name, "a field name");
		err = err ?: literal(p, &f->value);
		if (err)
			break;
	} while (accept(p, ","));
	err = err ?: expect(p, "}", "to close the fields (separate them with ',')");
	if (err && !p->oom)
		skip_to_close(p, oi, true);
	v->loc = span(p, t, prev(p));
	return err;
}

/* Skip to the '}' closing a group whose '{' was consumed (a config body
 * that went wrong), so the enclosing body does not end early. */
static void skip_group(struct parser *p)
{
	int depth = 1;

	while (!at_eof(p) && !at_decl_kw(p)) {
		struct token *t = next(p);

		if (tok_is(t, "{"))
			depth++;
		else if (tok_is(t, "}") && --depth == 0)
			return;
	}
}

/*
 * After an error inside the group opened by token `open`, continue after
 * its matching '}' (paired up front by pair_braces), so the enclosing body
 * does not end early. Only when no top-level keyword lies in between, and
 * for one-line groups (sets, config values) only on the same line: a
 * missing '}' must not swallow the rest of the enforcer.
 */
static void skip_to_close(struct parser *p, size_t open, bool same_line)
{
	size_t m = p->match ? p->match[open] : NO_MATCH, i;

	if (m != NO_MATCH && m >= p->pos && (!same_line || p->tok[m].line == p->tok[open].line)) {
		for (i = p->pos; i < m; i++)
			if (p->tok[i].kind == TK_IDENT && tok_in(&p->tok[i], decl_kws))
				break;
		if (i == m) {
			p->pos = m + 1;
			return;
		}
	}
	if (!same_line) {
		skip_group(p);
		return;
	}
	while (!at_eof(p) && peek(p)->line == p->tok[open].line && !is(p, "}"))
		next(p);
	if (peek(p)->line == p->tok[open].line)
		accept(p, "}");
}

/* "config" IDENT "{" "key" cfgval "value" cfgval "}" */
static int config(struct parser *p, struct apiary_enforcer *e)
{
	struct token *kw = next(p);
	struct apiary_config *c;
	size_t idx, open = 0;
	int err;

	c = apiary__push(&e->configs, &e->nconfigs, sizeof(*c));
	if (!c)
		return oom(p);
	idx = e->nconfigs - 1;
	c->loc = loc_of(p, kw);
	err = ident(p, &c->map, "the map name after 'config'");
	open = p->pos;
	err = err ?: expect(p, "{", "after the map name (write config MAP { key ... value ... })");
	if (!err) {
		err = expect(p, "key", "first in a config entry");
		err = err ?: cfgval(p, &c->key);
		err = err ?: expect(p, "value", "after the config key");
		err = err ?: cfgval(p, &c->value);
		err = err ?: expect(p, "}", "to close the config entry");
		if (err && !p->oom)
			skip_to_close(p, open, false);
	}
	if (err) {
		apiary__config_fini(&e->configs[idx]);
		e->nconfigs--;
	}
	return err;
}

/* "global" IDENT "=" literal */
static int global(struct parser *p, struct apiary_enforcer *e)
{
	struct token *kw = next(p);
	struct apiary_global *g;
	size_t idx;
	int err;

	g = apiary__push(&e->globals, &e->nglobals, sizeof(*g));
	if (!g)
		return oom(p);
	idx = e->nglobals - 1;
	g->loc = loc_of(p, kw);
	err = ident(p, &g->name, "the global variable name");
	err = err ?: expect(p, "=", "after the global name (write global NAME = VALUE)");
	err = err ?: literal(p, &g->value);
	if (err) {
		free(e->globals[idx].name.s);
		apiary__literal_fini(&e->globals[idx].value);
		e->nglobals--;
	}
	return err;
}

/* "effect" verdict "when" pred */
static int effect(struct parser *p, struct apiary_enforcer *e)
{
	struct token *kw = next(p), *vt = peek(p);
	struct apiary_effect *ef;
	char found[64], name[64], h[80];
	int i, verdict = 0;
	struct apiary_pred *w;

	if (vt->kind != TK_IDENT) {
		describe(vt, found, sizeof(found));
		return error_at(p, vt,
				"expected a verdict (drop, pass, tx, redirect or aborted), found %s",
				found);
	}
	next(p);
	snprintf(name, sizeof(name), "%.*s", (int)vt->len, vt->start);
	for (i = 0; verdict_list[i]; i++)
		if (!strcmp(name, verdict_list[i]))
			break;
	if (verdict_list[i]) {
		verdict = i;
	} else {
		hint(h, sizeof(h), name, verdict_list);
		error_at(p, vt, "unknown verdict '%s'%s%s", name, h,
			 *h ? "" : "; expected drop, pass, tx, redirect or aborted");
	}
	if (expect(p, "when", "after the verdict (write effect drop when PREDICATE)"))
		return -EINVAL;
	w = predicate(p);
	if (!w)
		return -EINVAL;
	ef = apiary__push(&e->effects, &e->neffects, sizeof(*ef));
	if (!ef) {
		apiary__pred_free(w);
		return oom(p);
	}
	ef->verdict = (enum apiary_verdict_kind)verdict;
	ef->when = w;
	ef->loc = loc_of(p, kw);
	return 0;
}

/* ("reads" | "writes") IDENT ("," IDENT)* */
static int name_list(struct parser *p, struct apiary_name **v, size_t *n)
{
	struct token *kw = next(p);
	int err;

	do {
		struct apiary_name *nm;
		char found[64];

		if (tok_in(peek(p), item_kws)) {
			describe(peek(p), found, sizeof(found));
			return error_at(p, peek(p),
					"expected a state or classifier name after '%.*s', found %s",
					(int)kw->len, kw->start, found);
		}
		nm = apiary__push(v, n, sizeof(*nm));
		if (!nm)
			return oom(p);
		err = ident(p, nm, "a state or classifier name");
		if (err) {
			(*n)--;
			return err;
		}
	} while (accept(p, ","));
	return 0;
}

// item = ("source" STRING | "object" STRING) [ "program" STRING ]
//      | "effect" verdict "when" pred
//      | "reads" IDENT ("," IDENT)*
//      | "writes" IDENT ("," IDENT)*
//      | "config" IDENT "{" "key" cfgval "value" cfgval "}"
//      | "global" IDENT "=" literal
static int item(struct parser *p, struct apiary_enforcer *e, bool update, const char *owner)
{
	struct token *t = peek(p);
	char found[64];

	if (update && (tok_is(t, "effect") || tok_is(t, "reads") || tok_is(t, "writes")))
		error_at(p, t,
			 "'%.*s' is not allowed in an update; an update gives only source, object, program, config and global (declare %.*s on the enforcer)",
			 (int)t->len, t->start, (int)t->len, t->start);
	if (tok_is(t, "source") || tok_is(t, "object"))
		return code(p, e, owner);
	if (tok_is(t, "effect"))
		return effect(p, e);
	if (tok_is(t, "reads"))
		return name_list(p, &e->reads, &e->nreads);
	if (tok_is(t, "writes"))
		return name_list(p, &e->writes, &e->nwrites);
	if (tok_is(t, "config"))
		return config(p, e);
	if (tok_is(t, "global"))
		return global(p, e);
	if (tok_is(t, "program"))
		return error_at(p, t,
				"'program' must follow the source or object path (source \"x.c\" program \"main\")");
	describe(t, found, sizeof(found));
	return error_at(p, t,
			"expected source, object, effect, reads, writes, config or global in %s, found %s",
			owner, found);
}

/* "{" item* "}" of an enforcer or an update. */
static int body(struct parser *p, struct apiary_enforcer *e, bool update, const char *what,
		const char *name)
{
	struct token *open = peek(p);
	char owner[128];
	int err;

	snprintf(owner, sizeof(owner), "%s '%s'", what, name ? name : "?");
	err = expect(p, "{", update ? "to open the update body" : "to open the enforcer body");
	if (err)
		return err;
	while (!is(p, "}") && !at_eof(p) && !at_decl_kw(p)) {
		size_t before = p->pos;

		err = item(p, e, update, owner);
		if (p->oom)
			return -ENOMEM;
		if (err)
			sync_body(p, item_kws);
		if (p->pos == before && !is(p, "}") && !at_decl_kw(p))
			next(p);
	}
	close_body(p, what, name, open->line);
	return 0;
}

// enforcer = "enforcer" IDENT "team" IDENT "version" INT "at" hook "{" item* "}"
static int enforcer(struct parser *p)
{
	struct token *kw = next(p);
	struct apiary_enforcer *e;
	size_t idx;
	int err;

	e = apiary__push(&p->spec->enforcers, &p->spec->nenforcers, sizeof(*e));
	if (!e)
		return oom(p);
	idx = p->spec->nenforcers - 1;
	e->loc = loc_of(p, kw);
	err = decl_name(p, &e->name, "an enforcer name");
	err = err ?: expect(p, "team", "after the enforcer name (write enforcer NAME team TEAM version N at HOOK)");
	err = err ?: ident(p, &e->team, "a team name");
	err = err ?: expect(p, "version", "after the team (write ... team TEAM version N at HOOK)");
	err = err ?: u32_number(p, &e->version, "the enforcer version");
	err = err ?: expect(p, "at", "after the version (write ... version N at HOOK)");
	err = err ?: hook(p, &e->hook, &e->hook_loc);
	err = err ?: body(p, e, false, "enforcer", e->name.s);
	if (err) {
		apiary__enforcer_fini(&p->spec->enforcers[idx]);
		p->spec->nenforcers--;
	}
	return err;
}

// update = "update" IDENT "to" "version" INT "{" item* "}"
static int update(struct parser *p)
{
	struct token *kw = next(p);
	struct apiary_enforcer scratch = { 0 };
	struct apiary_update *u;
	size_t idx;
	int err;

	u = apiary__push(&p->spec->updates, &p->spec->nupdates, sizeof(*u));
	if (!u)
		return oom(p);
	idx = p->spec->nupdates - 1;
	u->loc = loc_of(p, kw);
	err = ident(p, &u->enforcer, "the enforcer to update");
	err = err ?: expect(p, "to", "after the enforcer name (write update NAME to version N { ... })");
	err = err ?: expect(p, "version", "after 'to' (write update NAME to version N { ... })");
	err = err ?: u32_number(p, &u->version, "the new version");
	err = err ?: body(p, &scratch, true, "update of", u->enforcer.s);
	u = &p->spec->updates[idx];
	/* keep what an update may carry; effects/reads/writes were refused */
	u->code = scratch.code;
	u->configs = scratch.configs;
	u->nconfigs = scratch.nconfigs;
	u->globals = scratch.globals;
	u->nglobals = scratch.nglobals;
	memset(&scratch.code, 0, sizeof(scratch.code));
	scratch.configs = NULL;
	scratch.nconfigs = 0;
	scratch.globals = NULL;
	scratch.nglobals = 0;
	apiary__enforcer_fini(&scratch);
	if (err) {
		apiary__update_fini(u);
		p->spec->nupdates--;
	}
	return err;
}

// order = "order" IDENT "before" IDENT
static int order(struct parser *p)
{
	struct token *kw = next(p);
	struct apiary_order *o;
	int err;

	o = apiary__push(&p->spec->orders, &p->spec->norders, sizeof(*o));
	if (!o)
		return oom(p);
	err = ident(p, &o->before, "an enforcer name after 'order'");
	err = err ?: expect(p, "before", "(write order A before B)");
	err = err ?: ident(p, &o->after, "an enforcer name after 'before'");
	o->loc = span(p, kw, prev(p));
	if (err) {
		free(o->before.s);
		free(o->after.s);
		p->spec->norders--;
	}
	return err;
}

// cover = "cover" IDENT "sees" pred
static int cover(struct parser *p)
{
	struct token *kw = next(p);
	struct apiary_cover *c;
	int err;

	c = apiary__push(&p->spec->covers, &p->spec->ncovers, sizeof(*c));
	if (!c)
		return oom(p);
	c->loc = loc_of(p, kw);
	err = ident(p, &c->enforcer, "an enforcer name after 'cover'");
	err = err ?: expect(p, "sees", "(write cover ENFORCER sees PREDICATE)");
	if (!err) {
		c->sees = predicate(p);
		if (!c->sees)
			err = -EINVAL;
	}
	if (err) {
		free(c->enforcer.s);
		p->spec->ncovers--;
	}
	return err;
}

// exclusive = "exclusive" IDENT "by" IDENT
static int exclusive(struct parser *p)
{
	struct token *kw = next(p);
	struct apiary_exclusive *x;
	int err;

	x = apiary__push(&p->spec->exclusives, &p->spec->nexclusives, sizeof(*x));
	if (!x)
		return oom(p);
	err = ident(p, &x->state, "a state name after 'exclusive'");
	err = err ?: expect(p, "by", "(write exclusive STATE by ENFORCER)");
	err = err ?: ident(p, &x->owner, "the owning enforcer after 'by'");
	x->loc = span(p, kw, prev(p));
	if (err) {
		free(x->state.s);
		free(x->owner.s);
		p->spec->nexclusives--;
	}
	return err;
}

// flowcons = "flow-consistent" IDENT
static int flowcons(struct parser *p)
{
	struct token *kw = next(p);
	struct apiary_flow_consistent *f;
	int err;

	f = apiary__push(&p->spec->flow_consistent, &p->spec->nflow_consistent, sizeof(*f));
	if (!f)
		return oom(p);
	err = ident(p, &f->enforcer, "an enforcer name after 'flow-consistent'");
	f->loc = span(p, kw, prev(p));
	if (err) {
		free(f->enforcer.s);
		p->spec->nflow_consistent--;
	}
	return err;
}

/* One `NEW = old.OLD` or `NEW = literal` line of a migration. */
static int migrate_assign(struct parser *p, struct apiary_migrate *m)
{
	struct token *t = peek(p), *src;
	struct apiary_migrate_assign *a;
	int err;

	a = apiary__push(&m->assigns, &m->nassigns, sizeof(*a));
	if (!a)
		return oom(p);
	a->loc = loc_of(p, t);
	err = ident(p, &a->field, "a field of the new layout");
	err = err ?: expect(p, "=", "after the field (write FIELD = old.FIELD or FIELD = VALUE)");
	if (err)
		return err;
	src = peek(p);
	if (src->kind == TK_IDENT && src->len > 4 && !strncmp(src->start, "old.", 4)) {
		next(p);
		a->from.s = strndup(src->start + 4, src->len - 4);
		if (!a->from.s)
			return oom(p);
		a->from.loc = loc_of(p, src);
		return 0;
	}
	return literal(p, &a->value);
}

// migrate = "migrate" "state" IDENT "from" INT "to" INT
//           "{" ( IDENT "=" ( "old." IDENT | literal ) [","] )* "}"
static int migrate(struct parser *p)
{
	struct token *kw = next(p), *open;
	struct apiary_migrate *m;
	size_t idx;
	int err;

	m = apiary__push(&p->spec->migrations, &p->spec->nmigrations, sizeof(*m));
	if (!m)
		return oom(p);
	idx = p->spec->nmigrations - 1;
	m->loc = loc_of(p, kw);
	err = expect(p, "state", "after 'migrate' (write migrate state X from 7 to 8 { ... })");
	err = err ?: ident(p, &m->state, "the state to migrate");
	err = err ?: expect(p, "from", "after the state name (write migrate state X from 7 to 8)");
	err = err ?: u32_number(p, &m->from, "the old version");
	err = err ?: expect(p, "to", "after the old version (write migrate state X from 7 to 8)");
	err = err ?: u32_number(p, &m->to, "the new version");
	open = peek(p);
	err = err ?: expect(p, "{", "to open the migration body");
	while (!err && !is(p, "}") && !at_eof(p) && !at_decl_kw(p)) {
		m = &p->spec->migrations[idx];
		err = migrate_assign(p, m);
		if (p->oom)
			return -ENOMEM;
		accept(p, ",");
	}
	m = &p->spec->migrations[idx];
	if (!err)
		close_body(p, "migration of", m->state.s, open->line);
	return err;
}

// decl = classifier | state | enforcer | update | order | cover | exclusive | flowcons | migrate
static int decl(struct parser *p)
{
	struct token *t = peek(p);
	char found[64], h[80];
	char name[64];

	if (is(p, "classifier"))
		return classifier(p);
	if (is(p, "state"))
		return state(p);
	if (is(p, "enforcer"))
		return enforcer(p);
	if (is(p, "update"))
		return update(p);
	if (is(p, "order"))
		return order(p);
	if (is(p, "cover"))
		return cover(p);
	if (is(p, "exclusive"))
		return exclusive(p);
	if (is(p, "flow-consistent"))
		return flowcons(p);
	if (is(p, "migrate"))
		return migrate(p);
	if (is(p, "bundle")) {
		next(p);
		return error_at(p, t, "a spec has one 'bundle' line, at the top");
	}
	describe(t, found, sizeof(found));
	h[0] = 0;
	if (t->kind == TK_IDENT) {
		snprintf(name, sizeof(name), "%.*s", (int)t->len, t->start);
		hint(h, sizeof(h), name, decl_kws + 1);
	}
	if (*h)
		return error_at(p, t, "unknown declaration %s%s", found, h);
	return error_at(p, t,
			"expected a declaration (classifier, state, enforcer, update, order, cover, exclusive, flow-consistent or migrate), found %s",
			found);
}

// spec = "bundle" IDENT "version" INT decl*
static void spec_rule(struct parser *p)
{
	struct token *t = peek(p);
	char found[64];

	if (accept(p, "bundle")) {
		if (!ident(p, &p->spec->bundle, "the bundle name after 'bundle'")) {
			if (accept(p, "version"))
				u32_number(p, &p->spec->version, "the bundle version");
			else
				error_at(p, prev(p),
					 "bundle '%s' has no version; write 'bundle %s version N' (N = 1 for a new bundle)",
					 p->spec->bundle.s, p->spec->bundle.s);
		} else {
			sync_top(p);
		}
	} else {
		describe(t, found, sizeof(found));
		error_at(p, t, "a spec starts with 'bundle NAME version N', found %s", found);
		if (!at_decl_kw(p))
			sync_top(p);
	}
	while (!at_eof(p)) {
		size_t before = p->pos;

		if (decl(p) < 0) {
			if (p->oom)
				return;
			sync_top(p);
		}
		if (p->pos == before)
			next(p);
	}
	if (p->stop)
		p->hard++;
}

/* Directory part of path: "." when there is none. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Pair every '{' with its '}' (NO_MATCH when unbalanced) so recovery
 * inside a group can jump over the rest of it. NULL on ENOMEM: recovery
 * then falls back to scanning. */
static size_t *pair_braces(const struct token_list *t)
{
	size_t *match = malloc(t->n * sizeof(*match)), *stack, depth = 0, i;

	if (!match)
		return NULL;
	stack = malloc(t->n * sizeof(*stack));
	if (!stack) {
		free(match);
		return NULL;
	}
	for (i = 0; i < t->n; i++) {
		match[i] = NO_MATCH;
		if (tok_is(&t->v[i], "{"))
			stack[depth++] = i;
		else if (tok_is(&t->v[i], "}") && depth)
			match[stack[--depth]] = i;
	}
	free(stack);
	return match;
}

/* Tokenize and parse; see spec_int.h. */
int apiary__parse(const char *path, const char *text, size_t len, struct apiary_spec **out,
		  struct apiary_diags *diags, int *hard_errors)
{
	struct apiary_spec *spec;
	struct token_list toks;
	struct parser p = { 0 };
	size_t start = diags->errors, first = diags->count;
	int err;

	*out = NULL;
	*hard_errors = 0;
	spec = calloc(1, sizeof(*spec));
	if (!spec)
		goto nomem;
	spec->path = strdup(path ? path : "<input>");
	spec->dir = spec->path ? dir_of(spec->path) : NULL;
	spec->text = malloc(len + 1);
	if (!spec->path || !spec->dir || !spec->text)
		goto nomem;
	if (len)
		memcpy(spec->text, text, len);
	spec->text[len] = 0;

	err = apiary__tokenize(spec->path, spec->text, len, &toks, diags);
	if (err == -ENOMEM) {
		apiary__tokens_free(&toks);
		apiary_spec_free(spec);
		*hard_errors = 1;
		return err;
	}
	p.spec = spec;
	p.tok = toks.v;
	p.ntok = toks.n;
	p.d = diags;
	p.errors_at_start = start;
	p.last_err = (size_t)-1;
	p.match = pair_braces(&toks);
	spec_rule(&p);
	free(p.match);
	apiary__tokens_free(&toks);
	apiary__diags_sort(diags, first);
	*out = spec;
	*hard_errors = p.hard + (err ? 1 : 0);
	if (p.oom)
		return -ENOMEM;
	return diags->errors > start ? -EINVAL : 0;

nomem:
	apiary_spec_free(spec);
	*hard_errors = 1;
	apiary_error(diags, NULL, "out of memory while reading %s", path ? path : "<input>");
	return -ENOMEM;
}
