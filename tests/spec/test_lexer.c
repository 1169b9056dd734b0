// SPDX-License-Identifier: MIT
/*
 * Lexer unit tests: the tricky tokens (dotted names, flow-consistent, ->,
 * .., IPv4/prefix, IPv6 starting with hex letters or ::, MAC, hex, strings
 * with escapes, comments) and its error messages.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "spec_int.h"

struct lexed {
	struct token_list toks;
	struct apiary_diags d;
	int err;
};

static void lex(struct lexed *l, const char *src)
{
	apiary_diags_init(&l->d);
	l->err = apiary__tokenize("t.spec", src, strlen(src), &l->toks, &l->d);
}

static void lexed_free(struct lexed *l)
{
	apiary__tokens_free(&l->toks);
	apiary_diags_free(&l->d);
}

static void assert_tok(const struct token *t, enum tok_kind kind, const char *text)
{
	assert_int_equal(t->kind, kind);
	assert_int_equal(t->len, strlen(text));
	assert_memory_equal(t->start, text, t->len);
}

static void test_idents_and_puncts(void **state)
{
	struct lexed l;

	lex(&l, "tcp.dport tc.egress flow-consistent lb conn->u64 1..5 == != <= >= < > / [ ]");
	assert_int_equal(l.err, 0);
	assert_int_equal(l.d.count, 0);
	assert_tok(&l.toks.v[0], TK_IDENT, "tcp.dport");
	assert_tok(&l.toks.v[1], TK_IDENT, "tc.egress");
	assert_tok(&l.toks.v[2], TK_IDENT, "flow-consistent");
	assert_tok(&l.toks.v[3], TK_IDENT, "lb");
	assert_tok(&l.toks.v[4], TK_IDENT, "conn");
	assert_tok(&l.toks.v[5], TK_PUNCT, "->");
	assert_tok(&l.toks.v[6], TK_IDENT, "u64");
	assert_tok(&l.toks.v[7], TK_INT, "1");
	assert_tok(&l.toks.v[8], TK_PUNCT, "..");
	assert_tok(&l.toks.v[9], TK_INT, "5");
	assert_int_equal(l.toks.v[9].u, 5);
	assert_tok(&l.toks.v[10], TK_PUNCT, "==");
	assert_tok(&l.toks.v[11], TK_PUNCT, "!=");
	assert_tok(&l.toks.v[12], TK_PUNCT, "<=");
	assert_tok(&l.toks.v[13], TK_PUNCT, ">=");
	assert_int_equal(l.toks.v[l.toks.n - 1].kind, TK_EOF);
	lexed_free(&l);

	/* flow-consistency is not the keyword; flow-consistent2 neither */
	lex(&l, "flow-consistentx");
	assert_tok(&l.toks.v[0], TK_IDENT, "flow");
	lexed_free(&l);
}

static void test_addresses(void **state)
{
	struct lexed l;
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t fe80[16] = { 0xfe, 0x80, [15] = 1 };
	static const uint8_t lo[16] = { [15] = 1 };
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t mac2[6] = { 0xde, 0xad, 0xbe, 0xef, 0, 0x01 };

	lex(&l, "10.0.0.1 10.66.0.0/16 2001:db8::1 ::1 fe80::1/64 02:00:00:00:00:01 "
		"de:ad:be:ef:00:01 0x0a000001 cafe:");
	assert_int_equal(l.err, 0);
	assert_tok(&l.toks.v[0], TK_IPV4, "10.0.0.1");
	assert_memory_equal(l.toks.v[0].addr, "\x0a\x00\x00\x01", 4);
	assert_tok(&l.toks.v[1], TK_IPV4, "10.66.0.0");
	assert_tok(&l.toks.v[2], TK_PUNCT, "/");
	assert_tok(&l.toks.v[3], TK_INT, "16");
	assert_tok(&l.toks.v[4], TK_IPV6, "2001:db8::1");
	assert_memory_equal(l.toks.v[4].addr, v6, 16);
	assert_tok(&l.toks.v[5], TK_IPV6, "::1");
	assert_memory_equal(l.toks.v[5].addr, lo, 16);
	assert_tok(&l.toks.v[6], TK_IPV6, "fe80::1");
	assert_memory_equal(l.toks.v[6].addr, fe80, 16);
	assert_tok(&l.toks.v[7], TK_PUNCT, "/");
	assert_tok(&l.toks.v[8], TK_INT, "64");
	assert_tok(&l.toks.v[9], TK_MAC, "02:00:00:00:00:01");
	assert_memory_equal(l.toks.v[9].addr, mac, 6);
	assert_tok(&l.toks.v[10], TK_MAC, "de:ad:be:ef:00:01");
	assert_memory_equal(l.toks.v[10].addr, mac2, 6);
	assert_tok(&l.toks.v[11], TK_HEX, "0x0a000001");
	assert_int_equal(l.toks.v[11].u, 0x0a000001);
	/* a hex-looking word followed by ':' stays an identifier */
	assert_tok(&l.toks.v[12], TK_IDENT, "cafe");
	assert_tok(&l.toks.v[13], TK_PUNCT, ":");
	lexed_free(&l);

	/* `state add: hash(...)` and `s:hash` */
	lex(&l, "add: beef:hash");
	assert_int_equal(l.err, 0);
	assert_tok(&l.toks.v[0], TK_IDENT, "add");
	assert_tok(&l.toks.v[1], TK_PUNCT, ":");
	assert_tok(&l.toks.v[2], TK_IDENT, "beef");
	assert_tok(&l.toks.v[3], TK_PUNCT, ":");
	assert_tok(&l.toks.v[4], TK_IDENT, "hash");
	lexed_free(&l);
}

static void test_strings_comments(void **state)
{
	struct lexed l;

	lex(&l, "# comment \"x\" 10.0.0.1\n\"a\\\"b\\\\c\\n\\x41\" # tail\n  x");
	assert_int_equal(l.err, 0);
	assert_int_equal(l.toks.v[0].kind, TK_STRING);
	assert_string_equal(l.toks.v[0].str, "a\"b\\c\nA");
	assert_int_equal(l.toks.v[0].line, 2);
	assert_int_equal(l.toks.v[0].col, 1);
	assert_tok(&l.toks.v[1], TK_IDENT, "x");
	assert_int_equal(l.toks.v[1].line, 3);
	assert_int_equal(l.toks.v[1].col, 3);
	assert_int_equal(l.toks.n, 3);
	lexed_free(&l);
}

static void test_errors(void **state)
{
	struct lexed l;

	lex(&l, "\"open\n10.0.300.1 1.2.3 @ 0x 12ab 99999999999999999999 1:2:3:zz \"bad\\q\"");
	assert_int_equal(l.err, -EINVAL);
	assert_int_equal(l.d.errors, 8);
	assert_string_equal(l.d.items[0].msg, "unterminated string; add the closing '\"'");
	assert_int_equal(l.d.items[0].loc.line, 1);
	assert_string_equal(l.d.items[1].msg,
			    "malformed IPv4 address '10.0.300.1'; write four numbers 0..255 like 10.0.0.1");
	assert_int_equal(l.d.items[1].loc.line, 2);
	assert_int_equal(l.d.items[1].loc.col, 1);
	assert_int_equal(l.d.items[1].loc.len, 10);
	assert_string_equal(l.d.items[2].msg,
			    "malformed IPv4 address '1.2.3'; write four numbers 0..255 like 10.0.0.1");
	assert_string_equal(l.d.items[3].msg, "unexpected character '@'");
	assert_string_equal(l.d.items[4].msg, "expected hex digits after '0x'");
	assert_string_equal(l.d.items[5].msg, "malformed number '12ab'");
	assert_string_equal(l.d.items[6].msg, "malformed IPv6 or MAC address '1:2:3:zz'");
	assert_string_equal(l.d.items[7].msg, "unknown escape in string; use \\n \\t \\\\ \\\" or \\xHH");
	/* the too-large decimal is flagged on the token, for the parser */
	{
		size_t i;
		bool seen = false;

		for (i = 0; i < l.toks.n; i++)
			if (l.toks.v[i].kind == TK_INT && l.toks.v[i].overflow)
				seen = true;
		assert_true(seen);
	}
	lexed_free(&l);

	/* embedded NUL and bytes >= 0x80: reported, never read past len */
	{
		static const char bin[] = { 'a', 0, '\xff', 'b' };

		apiary_diags_init(&l.d);
		l.err = apiary__tokenize("t.spec", bin, sizeof(bin), &l.toks, &l.d);
		assert_int_equal(l.err, -EINVAL);
		assert_string_equal(l.d.items[0].msg, "unexpected character '\\x00'");
		assert_string_equal(l.d.items[1].msg, "unexpected character '\\xff'");
		lexed_free(&l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idents_and_puncts),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_strings_comments),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
