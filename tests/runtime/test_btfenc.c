// SPDX-License-Identifier: MIT
/* Unit tests of the BTF config encoder on BTF built in memory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rt_internal.h"

struct fx {
	struct btf *btf;
	int u8, u16, u32, u64, be16, be32, key, val, sec;
};

/* struct vip_key { __be32 addr; __be16 port; __u8 proto; __u8 pad; }
 * struct vip_val { __u32 vip_num; __u8 mac[6]; __u16 flags; __u8 addr6[16];
 *                  __u64 big; struct { __u8 inner; }; __u32 bits:4; }
 * DATASEC .rodata { __u32 threshold @0; __be16 port_be @4 } */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int arr6, arr16, anon, v1, v2;

	assert_non_null(f);
	f->btf = btf__new_empty();
	assert_non_null(f->btf);
	f->u8 = btf__add_int(f->btf, "__u8", 1, 0);
	f->u16 = btf__add_int(f->btf, "__u16", 2, 0);
	f->u32 = btf__add_int(f->btf, "__u32", 4, 0);
	f->u64 = btf__add_int(f->btf, "__u64", 8, 0);
	f->be16 = btf__add_typedef(f->btf, "__be16", f->u16);
	f->be32 = btf__add_typedef(f->btf, "__be32", f->u32);
	arr6 = btf__add_array(f->btf, f->u32, f->u8, 6);
	arr16 = btf__add_array(f->btf, f->u32, f->u8, 16);

	f->key = btf__add_struct(f->btf, "vip_key", 8);
	assert_int_equal(btf__add_field(f->btf, "addr", f->be32, 0, 0), 0);
	assert_int_equal(btf__add_field(f->btf, "port", f->be16, 32, 0), 0);
	assert_int_equal(btf__add_field(f->btf, "proto", f->u8, 48, 0), 0);
	assert_int_equal(btf__add_field(f->btf, "pad", f->u8, 56, 0), 0);

	anon = btf__add_struct(f->btf, NULL, 1);
	assert_int_equal(btf__add_field(f->btf, "inner", f->u8, 0, 0), 0);

	f->val = btf__add_struct(f->btf, "vip_val", 48);
	assert_int_equal(btf__add_field(f->btf, "vip_num", f->u32, 0, 0), 0);
	assert_int_equal(btf__add_field(f->btf, "mac", arr6, 32, 0), 0);
	assert_int_equal(btf__add_field(f->btf, "flags", f->u16, 80, 0), 0);
	assert_int_equal(btf__add_field(f->btf, "addr6", arr16, 96, 0), 0);
	assert_int_equal(btf__add_field(f->btf, "big", f->u64, 256, 0), 0);
	assert_int_equal(btf__add_field(f->btf, NULL, anon, 320, 0), 0);
	assert_int_equal(btf__add_field(f->btf, "bits", f->u32, 352, 4), 0);

	v1 = btf__add_var(f->btf, "threshold", BTF_VAR_GLOBAL_ALLOCATED, f->u32);
	v2 = btf__add_var(f->btf, "port_be", BTF_VAR_GLOBAL_ALLOCATED, f->be16);
	f->sec = btf__add_datasec(f->btf, ".rodata", 8);
	assert_int_equal(btf__add_datasec_var_info(f->btf, v1, 0, 4), 0);
	assert_int_equal(btf__add_datasec_var_info(f->btf, v2, 4, 2), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	btf__free(f->btf);
	free(f);
	return 0;
}

static struct apiary_literal lit_int(uint64_t u, int line)
{
	struct apiary_literal l = { .kind = APIARY_LIT_INT, .u = u };

	l.loc.file = "b.spec";
	l.loc.line = line;
	l.loc.col = 1;
	return l;
}

static struct apiary_literal lit_addr(enum apiary_lit_kind k, const uint8_t *a, size_t n,
				      int line)
{
	struct apiary_literal l = { .kind = k };

	memcpy(l.addr, a, n);
	l.prefix = k == APIARY_LIT_IPV4 ? 32 : k == APIARY_LIT_IPV6 ? 128 : 0;
	l.loc.file = "b.spec";
	l.loc.line = line;
	return l;
}

static struct apiary_cfg_field field(const char *name, struct apiary_literal v, int line)
{
	struct apiary_cfg_field f = { .value = v };

	f.name.s = (char *)name;
	f.name.loc.file = "b.spec";
	f.name.loc.line = line;
	f.name.loc.col = 3;
	return f;
}

static const uint8_t ip4[4] = { 192, 0, 2, 10 };
static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

static void test_key_struct(void **state)
{
	struct fx *f = *state;
	struct apiary_cfg_field fs[3];
	struct apiary_cfg_value v = { .fields = fs, .nfields = 3 };
	struct apiary_diags d;
	uint8_t buf[8];
	const uint8_t want[8] = { 192, 0, 2, 10, 0x00, 0x50, 6, 0 };

	fs[0] = field("addr", lit_addr(APIARY_LIT_IPV4, ip4, 4, 2), 2);
	fs[1] = field("port", lit_int(80, 2), 2);
	fs[2] = field("proto", lit_int(6, 2), 2); /* `tcp` as the parser gives it */
	apiary_diags_init(&d);
	assert_int_equal(rt_btf_encode_cfg(f->btf, f->key, &v, "vip_map", "key", buf, 8, &d), 0);
	assert_int_equal(d.errors, 0);
	assert_memory_equal(buf, want, 8);
	apiary_diags_free(&d);
}

static void test_value_struct(void **state)
{
	struct fx *f = *state;
	struct apiary_cfg_field fs[6];
	struct apiary_cfg_value v = { .fields = fs, .nfields = 6 };
	struct apiary_diags d;
	uint8_t buf[48], want[48] = { 0 };
	uint32_t num = 0x01020304;
	uint16_t flags = 0x8001;
	uint64_t big = 0x1122334455667788ull;

	fs[0] = field("vip_num", lit_int(num, 3), 3);
	fs[1] = field("mac", lit_addr(APIARY_LIT_MAC, mac, 6, 3), 3);
	fs[2] = field("flags", lit_int(flags, 3), 3);
	fs[3] = field("addr6", lit_addr(APIARY_LIT_IPV6, ip6, 16, 3), 3);
	fs[4] = field("big", lit_int(big, 3), 3);
	fs[5] = field("inner", lit_int(9, 3), 3);
	memcpy(want, &num, 4); /* host order */
	memcpy(want + 4, mac, 6);
	memcpy(want + 10, &flags, 2);
	memcpy(want + 12, ip6, 16);
	memcpy(want + 32, &big, 8);
	want[40] = 9;
	apiary_diags_init(&d);
	assert_int_equal(rt_btf_encode_cfg(f->btf, f->val, &v, "vip_map", "value", buf, 48, &d), 0);
	assert_memory_equal(buf, want, 48);
	apiary_diags_free(&d);
}

/* Each error names the spec location and what is wrong. */
static void expect_error(struct fx *f, int type, struct apiary_cfg_value *v, size_t size,
			 const char *needle, int line)
{
	struct apiary_diags d;
	uint8_t buf[64];

	apiary_diags_init(&d);
	assert_int_equal(rt_btf_encode_cfg(f->btf, type, v, "vip_map", "key", buf, size, &d),
			 -EINVAL);
	assert_int_equal(d.errors, 1);
	if (!strstr(d.items[0].msg, needle))
		fail_msg("'%s' does not mention '%s'", d.items[0].msg, needle);
	assert_int_equal(d.items[0].loc.line, line);
	assert_string_equal(d.items[0].loc.file, "b.spec");
	apiary_diags_free(&d);
}

static void test_errors(void **state)
{
	struct fx *f = *state;
	struct apiary_cfg_field fs[1];
	struct apiary_cfg_value v = { .fields = fs, .nfields = 1 };
	uint8_t raw[3] = { 1, 2, 3 };

	v.loc.file = "b.spec";
	v.loc.line = 7;
	fs[0] = field("nope", lit_int(1, 4), 4);
	expect_error(f, f->key, &v, 8, "no member 'nope'", 4);
	fs[0] = field("proto", lit_int(256, 5), 5);
	expect_error(f, f->key, &v, 8, "does not fit", 5);
	fs[0] = field("port", lit_addr(APIARY_LIT_IPV4, ip4, 4, 6), 6);
	expect_error(f, f->key, &v, 8, "IPv4", 6);
	fs[0] = field("bits", lit_int(1, 8), 8);
	expect_error(f, f->val, &v, 48, "bit field", 8);
	fs[0] = field("mac", lit_int(1, 9), 9);
	expect_error(f, f->val, &v, 48, "array", 9);
	/* No BTF type: only hex is possible. */
	fs[0] = field("x", lit_int(1, 7), 7);
	expect_error(f, 0, &v, 4, "no BTF", 7);
	/* The map's size and the BTF type's disagree. */
	expect_error(f, f->key, &v, 12, "BTF says", 7);
	/* Raw hex must match the size exactly. */
	v.raw = true;
	v.bytes = raw;
	v.nbytes = 3;
	expect_error(f, 0, &v, 4, "gives 3", 7);
}

static void test_raw_and_scalar(void **state)
{
	struct fx *f = *state;
	uint8_t raw[4] = { 0x0a, 0, 0, 1 }, buf[4];
	struct apiary_cfg_value v = { .raw = true, .bytes = raw, .nbytes = 4 };
	struct apiary_cfg_field fs[1];
	struct apiary_diags d;
	uint32_t five = 5;

	apiary_diags_init(&d);
	assert_int_equal(rt_btf_encode_cfg(NULL, 0, &v, "m", "key", buf, 4, &d), 0);
	assert_memory_equal(buf, raw, 4);
	/* A scalar key written as one `{ name value }`. */
	fs[0] = field("k", lit_int(5, 1), 1);
	v = (struct apiary_cfg_value){ .fields = fs, .nfields = 1 };
	assert_int_equal(rt_btf_encode_cfg(f->btf, f->u32, &v, "m", "key", buf, 4, &d), 0);
	assert_memory_equal(buf, &five, 4);
	/* __be32 scalar: big endian. */
	assert_int_equal(rt_btf_encode_cfg(f->btf, f->be32, &v, "m", "key", buf, 4, &d), 0);
	assert_int_equal(buf[3], 5);
	assert_int_equal(buf[0], 0);
	assert_int_equal(d.errors, 0);
	apiary_diags_free(&d);
}

static void test_globals(void **state)
{
	struct fx *f = *state;
	uint32_t off, tid, size;
	struct apiary_literal l = lit_int(443, 1);
	struct apiary_diags d;
	uint8_t buf[2];

	assert_int_equal(rt_btf_find_var(f->btf, f->sec, "port_be", &off, &tid, &size), 0);
	assert_int_equal(off, 4);
	assert_int_equal(size, 2);
	assert_int_equal(tid, f->be16);
	assert_int_equal(rt_btf_find_var(f->btf, f->sec, "missing", &off, &tid, &size), -ENOENT);
	assert_int_equal(rt_btf_find_var(f->btf, f->u32, "port_be", &off, &tid, &size), -ENOENT);
	apiary_diags_init(&d);
	assert_int_equal(rt_btf_encode_lit(f->btf, tid, &l, "port_be", buf, size, &d), 0);
	assert_int_equal(buf[0], 443 >> 8);
	assert_int_equal(buf[1], 443 & 0xff);
	apiary_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_struct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_struct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_and_scalar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_globals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
