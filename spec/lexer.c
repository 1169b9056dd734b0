// SPDX-License-Identifier: MIT
/*
 * Lexer for bundle specs. Reads exactly len bytes (the text may hold NULs,
 * it may come from a fuzzer), never past them, and keeps going after a bad
 * character so the parser can report every error of a file.
 *
 * The tricky tokens: dotted identifiers (tcp.dport, tc.egress), the keyword
 * flow-consistent, `->` and `..`, IPv4 with an optional /prefix (the `/` is
 * its own token), IPv6 (also starting with a hex letter: fe80::1, or with
 * `::`), MAC addresses, 0x hex numbers, strings with escapes, # comments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spec_int.h"

struct lexer {
	const char *file;
	const char *src;
	const char *p, *end;
	int line;
	const char *line_start;
	struct token_list *out;
	struct apiary_diags *d;
	int err;
};

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}

static int hex_val(int c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

/* Character at p + i, or 0 past the end: lookahead never reads out of
 * bounds. */
static int at(const struct lexer *lx, const char *p, size_t i)
{
	return p + i < lx->end ? (unsigned char)p[i] : 0;
}

/* Location of the text [start, start+len) on the current line. */
struct apiary_loc apiary__tok_loc(const char *file, const char *src, const struct token *t)
{
	struct apiary_loc l = {
		.file = file,
		.src = src,
		.line = t->line,
		.col = t->col,
		.len = t->len > 200 ? 200 : (int)t->len,
	};
	return l;
}

static void lex_error(struct lexer *lx, const char *start, size_t len, const char *fmt,
		      const char *arg)
{
	struct apiary_loc l = {
		.file = lx->file,
		.src = lx->src,
		.line = lx->line,
		.col = (int)(start - lx->line_start) + 1,
		.len = len > 200 ? 200 : (int)len,
	};

	apiary_error(lx->d, &l, fmt, arg);
	lx->err = -EINVAL;
}

/* Append a token for [start, start+len); NULL on ENOMEM. */
static struct token *add(struct lexer *lx, enum tok_kind kind, const char *start, size_t len)
{
	struct token_list *o = lx->out;
	struct token *t;

	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		struct token *v = realloc(o->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		o->v = v;
		o->cap = cap;
	}
	t = &o->v[o->n++];
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->start = start;
	t->len = len;
	t->line = lx->line;
	t->col = (int)(start - lx->line_start) + 1;
	return t;
}

/* A short printable rendering of [s, s+n) for messages. */
static void snippet(char *buf, size_t size, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\'') {
			buf[o++] = (char)c;
		} else {
			snprintf(buf + o, size - o, "\\x%02x", c);
			o += 4;
		}
	}
	buf[o] = 0;
}

/* MAC: exactly six pairs of hex digits separated by ':'. */
static bool parse_mac(const char *s, size_t n, uint8_t *addr)
{
	size_t i;

	if (n != 17)
		return false;
	for (i = 0; i < 6; i++) {
		const char *g = s + i * 3;

		if (!is_hex(g[0]) || !is_hex(g[1]) || (i < 5 && g[2] != ':'))
			return false;
		addr[i] = (uint8_t)(hex_val(g[0]) << 4 | hex_val(g[1]));
	}
	return true;
}

/*
 * IPv6 or MAC at p: a run of hex digits and ':' (and '.' for an embedded
 * IPv4 tail) that contains a ':' and is not followed by an identifier
 * character. Returns the run length, 0 if p does not start an address;
 * *kind is TK_IPV6/TK_MAC, or TK_EOF if it looked like an address but was
 * malformed (only when it starts with a digit or ':', so `cafe:` still
 * lexes as an identifier).
 */
static size_t scan_addr6(struct lexer *lx, const char *p, enum tok_kind *kind, uint8_t *addr)
{
	size_t n = 0;
	bool colon = false;
	char buf[64];

	for (;;) {
		int c = at(lx, p, n);

		if (is_hex(c)) {
			n++;
		} else if (c == ':') {
			colon = true;
			n++;
		} else if (c == '.' && colon && is_digit(at(lx, p, n + 1))) {
			n++;
		} else {
			break;
		}
	}
	if (!colon)
		return 0;
	if (is_alnum(at(lx, p, n))) {
		/* 02:00:00:00:00:0g is a broken address, cafe:hash an identifier */
		if (!is_digit(p[0]) && p[0] != ':')
			return 0;
		while (is_alnum(at(lx, p, n)) || at(lx, p, n) == ':')
			n++;
		*kind = TK_EOF;
		return n;
	}
	if (parse_mac(p, n, addr)) {
		*kind = TK_MAC;
		return n;
	}
	if (n < sizeof(buf)) {
		memcpy(buf, p, n);
		buf[n] = 0;
		if (inet_pton(AF_INET6, buf, addr) == 1) {
			*kind = TK_IPV6;
			return n;
		}
	}
	if (is_digit(p[0]) || p[0] == ':') {
		*kind = TK_EOF;
		return n;
	}
	return 0;
}

/* Dotted quad at p (p starts with a digit and a '.' follows the first
 * digits). Returns its length; *ok says whether it is a valid address. */
static size_t scan_ipv4(struct lexer *lx, const char *p, uint8_t *addr, bool *ok)
{
	size_t n = 0;
	int parts = 0, digits = 0;
	unsigned v = 0;

	*ok = true;
	for (;;) {
		int c = at(lx, p, n);

		if (is_digit(c)) {
			v = v * 10 + (unsigned)(c - '0');
			if (v > 255 || ++digits > 3)
				*ok = false;
			n++;
		} else if (c == '.' && is_digit(at(lx, p, n + 1))) {
			if (parts < 4)
				addr[parts] = (uint8_t)v;
			parts++;
			v = 0;
			digits = 0;
			n++;
		} else {
			break;
		}
	}
	if (parts < 4)
		addr[parts] = (uint8_t)v;
	parts++;
	if (parts != 4)
		*ok = false;
	/* 10.0.0.1x or 1.2.3.4.: swallow the garbage into the error */
	while (is_alnum(at(lx, p, n)) || (at(lx, p, n) == '.' && at(lx, p, n + 1) != '.')) {
		*ok = false;
		n++;
	}
	return n;
}

/* Number: 0x hex or decimal. */
static int lex_number(struct lexer *lx)
{
	const char *p = lx->p;
	struct token *t;
	size_t n = 0;
	uint64_t v = 0;
	bool overflow = false;
	enum tok_kind kind = TK_INT;

	if (p[0] == '0' && (at(lx, p, 1) == 'x' || at(lx, p, 1) == 'X')) {
		kind = TK_HEX;
		n = 2;
		while (is_hex(at(lx, p, n))) {
			if (v >> 60)
				overflow = true;
			v = v << 4 | (uint64_t)hex_val(p[n]);
			n++;
		}
		if (n == 2) {
			lex_error(lx, p, n, "expected hex digits after '%s'", "0x");
			kind = TK_INT;
		}
	} else {
		while (is_digit(at(lx, p, n))) {
			uint64_t d = (uint64_t)(p[n] - '0');

			if (v > (UINT64_MAX - d) / 10)
				overflow = true;
			v = v * 10 + d;
			n++;
		}
	}
	if (is_alpha(at(lx, p, n))) {
		char buf[48];
		size_t m = n;

		while (is_alnum(at(lx, p, m)))
			m++;
		snippet(buf, sizeof(buf), p, m);
		lex_error(lx, p, m, "malformed number '%s'", buf);
		n = m;
	}
	t = add(lx, kind, p, n);
	if (!t)
		return -ENOMEM;
	t->u = v;
	t->overflow = overflow;
	lx->p += n;
	return 0;
}

/* Identifier, possibly dotted (tc.ingress), or the keyword flow-consistent. */
static int lex_ident(struct lexer *lx)
{
	const char *p = lx->p;
	size_t n = 0;
	static const char fc[] = "flow-consistent";

	for (;;) {
		while (is_alnum(at(lx, p, n)))
			n++;
		if (at(lx, p, n) == '.' && is_alpha(at(lx, p, n + 1)))
			n++;
		else
			break;
	}
	if (n == 4 && (size_t)(lx->end - p) >= sizeof(fc) - 1 &&
	    !memcmp(p, fc, sizeof(fc) - 1) && !is_alnum(at(lx, p, sizeof(fc) - 1)))
		n = sizeof(fc) - 1;
	if (!add(lx, TK_IDENT, p, n))
		return -ENOMEM;
	lx->p += n;
	return 0;
}

/* "..." with \n \t \\ \" \xHH escapes; ends at the closing quote, and is
 * unterminated at a newline or the end of input. */
static int lex_string(struct lexer *lx)
{
	const char *p = lx->p;
	size_t n = 1, o = 0;
	struct token *t;
	char *s;

	s = malloc((size_t)(lx->end - p) + 1);
	if (!s)
		return -ENOMEM;
	for (;;) {
		int c = at(lx, p, n);

		if (p + n >= lx->end || c == '\n') {
			lex_error(lx, p, n, "unterminated string; add the closing '%s'", "\"");
			break;
		}
		n++;
		if (c == '"')
			break;
		if (c == '\\') {
			int e = at(lx, p, n);

			if (p + n >= lx->end || e == '\n')
				continue;
			n++;
			switch (e) {
			case 'n':
				s[o++] = '\n';
				break;
			case 't':
				s[o++] = '\t';
				break;
			case '\\':
			case '"':
				s[o++] = (char)e;
				break;
			case 'x':
				if (is_hex(at(lx, p, n)) && is_hex(at(lx, p, n + 1))) {
					s[o++] = (char)(hex_val(p[n]) << 4 | hex_val(p[n + 1]));
					n += 2;
					break;
				}
				/* fall through */
			default:
				lex_error(lx, p + n - 2, 2,
					  "unknown escape in string; use %s", "\\n \\t \\\\ \\\" or \\xHH");
			}
			continue;
		}
		s[o++] = (char)c;
	}
	s[o] = 0;
	t = add(lx, TK_STRING, p, n);
	if (!t) {
		free(s);
		return -ENOMEM;
	}
	t->str = s;
	lx->p += n;
	return 0;
}

static const char *const puncts[] = {
	"->", "..", "==", "!=", "<=", ">=", "{", "}", "(", ")", ",", ":", "=", "<", ">", "/",
	"[", "]",
};

/* Tokenize the whole input; see spec_int.h. */
int apiary__tokenize(const char *file, const char *src, size_t len, struct token_list *out,
		     struct apiary_diags *diags)
{
	struct lexer lx = {
		.file = file,
		.src = src,
		.p = src,
		.end = src + len,
		.line = 1,
		.line_start = src,
		.out = out,
		.d = diags,
	};
	int err = 0;

	memset(out, 0, sizeof(*out));
	while (lx.p < lx.end && !err) {
		int c = (unsigned char)*lx.p;
		enum tok_kind kind;
		uint8_t addr[16] = { 0 };
		size_t n, i;

		if (c == '\n') {
			lx.p++;
			lx.line++;
			lx.line_start = lx.p;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			lx.p++;
			continue;
		}
		if (c == '#') {
			while (lx.p < lx.end && *lx.p != '\n')
				lx.p++;
			continue;
		}
		if (is_hex(c) || (c == ':' && at(&lx, lx.p, 1) == ':')) {
			n = scan_addr6(&lx, lx.p, &kind, addr);
			if (n) {
				struct token *t;

				if (kind == TK_EOF) {
					char buf[80];

					snippet(buf, sizeof(buf), lx.p, n);
					lex_error(&lx, lx.p, n, "malformed IPv6 or MAC address '%s'",
						  buf);
					kind = TK_IPV6;
				}
				t = add(&lx, kind, lx.p, n);
				if (!t) {
					err = -ENOMEM;
					break;
				}
				memcpy(t->addr, addr, sizeof(addr));
				lx.p += n;
				continue;
			}
		}
		if (is_digit(c)) {
			i = 0;
			while (is_digit(at(&lx, lx.p, i)))
				i++;
			if (at(&lx, lx.p, i) == '.' && is_digit(at(&lx, lx.p, i + 1))) {
				struct token *t;
				bool ok;

				n = scan_ipv4(&lx, lx.p, addr, &ok);
				if (!ok) {
					char buf[80];

					snippet(buf, sizeof(buf), lx.p, n);
					lex_error(&lx, lx.p, n,
						  "malformed IPv4 address '%s'; write four numbers 0..255 like 10.0.0.1",
						  buf);
				}
				t = add(&lx, TK_IPV4, lx.p, n);
				if (!t) {
					err = -ENOMEM;
					break;
				}
				memcpy(t->addr, addr, 4);
				lx.p += n;
				continue;
			}
			err = lex_number(&lx);
			continue;
		}
		if (is_alpha(c)) {
			err = lex_ident(&lx);
			continue;
		}
		if (c == '"') {
			err = lex_string(&lx);
			continue;
		}
		for (i = 0; i < sizeof(puncts) / sizeof(puncts[0]); i++) {
			n = strlen(puncts[i]);
			if ((size_t)(lx.end - lx.p) >= n && !memcmp(lx.p, puncts[i], n))
				break;
		}
		if (i < sizeof(puncts) / sizeof(puncts[0])) {
			if (!add(&lx, TK_PUNCT, lx.p, n)) {
				err = -ENOMEM;
				break;
			}
			lx.p += n;
			continue;
		}
		{
			char buf[8];

			snippet(buf, sizeof(buf), lx.p, 1);
			lex_error(&lx, lx.p, 1, "unexpected character '%s'", buf);
			lx.p++;
		}
	}
	if (!err && !add(&lx, TK_EOF, lx.p, 0))
		err = -ENOMEM;
	if (err == -ENOMEM) {
		apiary_error(diags, NULL, "out of memory while reading %s", file);
		return err;
	}
	return lx.err;
}

/* Free the token list and the decoded strings it holds. */
void apiary__tokens_free(struct token_list *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i].str);
	free(t->v);
	memset(t, 0, sizeof(*t));
}
