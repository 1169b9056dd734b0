// SPDX-License-Identifier: MIT
/*
 * apiary-fuzz's initial corpus and dictionary: z3 packets for the spec's
 * predicates, seeds from pcap files and input files, and the tokens the
 * engines splice into inputs (spec constants, the programs' magic values).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "apiary/fuzz.h"
#include "apiary/z3gen.h"
#include "fuzz_int.h"

#define MAX_SEEDS 2048
#define MAX_TOKENS 512
#define MAX_TOKEN_LEN 32
#define Z3_PAYLOAD 16

int fz_inputs_add(struct fz_inputs *l, const struct apiary_input *in)
{
	if (l->n == MAX_SEEDS)
		return -E2BIG;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct apiary_input *n = realloc(l->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->v = n;
		l->cap = cap;
	}
	l->v[l->n++] = *in;
	return 0;
}

int fz_inputs_add_frame(struct fz_inputs *l, enum apiary_hook hook, const uint8_t *frame,
			size_t len)
{
	static struct apiary_input in;

	memset(&in, 0, offsetof(struct apiary_input, events));
	in.update_at = APIARY_INPUT_NO_UPDATE;
	in.nevents = 1;
	in.events[0].hook = hook;
	if (len > APIARY_INPUT_MAX_FRAME)
		len = APIARY_INPUT_MAX_FRAME;
	memcpy(in.events[0].data, frame, len);
	if (len < 14) {
		memset(in.events[0].data + len, 0, 14 - len);
		len = 14;
	}
	in.events[0].len = (uint16_t)len;
	return fz_inputs_add(l, &in);
}

void fz_inputs_free(struct fz_inputs *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- z3 --------------------------------------------------------------- */

struct z3_ctx {
	struct fz_inputs *l;
	bool egress;
	int err;
};

static int on_packet(void *arg, const struct apiary_z3gen_packet *pkt)
{
	struct z3_ctx *z = arg;

	z->err = fz_inputs_add_frame(z->l, APIARY_HOOK_XDP, pkt->frame, pkt->len);
	if (!z->err && z->egress)
		z->err = fz_inputs_add_frame(z->l, APIARY_HOOK_TC_EGRESS, pkt->frame, pkt->len);
	if (z->err)
		return z->err == -E2BIG ? 1 : z->err;
	return 0;
}

int fz_seeds_z3(const struct apiary_spec *s, struct fz_inputs *l, struct apiary_diags *d)
{
	struct z3_ctx z = { .l = l };
	int err = 0;

	for (size_t e = 0; e < s->nenforcers; e++)
		z.egress |= s->enforcers[e].hook == APIARY_HOOK_TC_EGRESS;
	/* frames with room for a payload first: the engines take seeds in
	 * order, and a payload-less frame is the same frame cut short */
	for (int pass = 0; pass < 2 && !err; pass++) {
		struct apiary_z3gen_opts o = { .sz = sizeof(o), .max_packets = 256,
					       .payload_len = pass ? 0 : Z3_PAYLOAD };
		struct apiary_z3gen *g = apiary_z3gen_new(&o);

		if (!g)
			return apiary_error(d, NULL, "z3: cannot start the generator: %s",
					    strerror(errno));
		err = apiary_z3gen_add_spec(g, s);
		if (err >= 0)
			err = apiary_z3gen_run(g, on_packet, &z);
		if (err == -EIO)
			apiary_error(d, NULL, "z3: %s", apiary_z3gen_error(g));
		apiary_z3gen_free(g);
		if (err > 0)
			err = 0; /* stopped at the seed cap */
		if (!err && z.err < 0 && z.err != -E2BIG)
			err = z.err;
	}
	return err < 0 ? err : 0;
}

/* ---- seed files ---------------------------------------------------------- */

static bool is_pcap(const uint8_t *b, size_t n)
{
	static const uint8_t magics[][4] = { { 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 },
					     { 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d },
					     { 0x0a, 0x0d, 0x0d, 0x0a } };

	for (size_t i = 0; n >= 4 && i < sizeof(magics) / sizeof(magics[0]); i++)
		if (!memcmp(b, magics[i], 4))
			return true;
	return false;
}

/* One file: a capture or an encoded input; anything else is reported. */
static int seed_file(const char *path, struct fz_inputs *l, struct apiary_diags *d)
{
	static uint8_t buf[1 << 16];
	static struct apiary_input in;
	FILE *f = fopen(path, "rb");
	size_t n;
	int err;

	if (!f)
		return apiary_error(d, NULL, "--seeds: cannot read %s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (is_pcap(buf, n)) {
		struct apiary_input *v = NULL;
		size_t nv = 0;

		err = apiary_pcap_read(path, APIARY_HOOK_XDP, 0, &v, &nv, d);
		for (size_t i = 0; !err && i < nv; i++)
			err = fz_inputs_add(l, &v[i]);
		free(v);
		return err == -E2BIG ? 0 : err;
	}
	if (apiary_input_decode(buf, n, &in))
		return apiary_error(d, NULL, "--seeds: %s is neither a pcap capture nor an Apiary "
					     "input (they start with 'A' 0x01)",
				    path);
	err = fz_inputs_add(l, &in);
	return err == -E2BIG ? 0 : err;
}

int fz_seeds_path(const char *path, struct fz_inputs *l, struct apiary_diags *d)
{
	struct stat st;
	struct dirent **names = NULL;
	int n, err = 0;

	if (stat(path, &st))
		return apiary_error(d, NULL, "--seeds: %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return seed_file(path, l, d);
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		return apiary_error(d, NULL, "--seeds: cannot list %s: %s", path, strerror(errno));
	for (int i = 0; i < n; i++) {
		char *p = NULL;

		if (!err && names[i]->d_name[0] != '.' &&
		    asprintf(&p, "%s/%s", path, names[i]->d_name) >= 0) {
			if (!stat(p, &st) && S_ISREG(st.st_mode))
				err = seed_file(p, l, d);
		}
		free(p);
		free(names[i]);
	}
	free(names);
	return err;
}

/* ---- dictionary -------------------------------------------------------- */

struct dict {
	uint8_t tok[MAX_TOKENS][MAX_TOKEN_LEN];
	uint8_t len[MAX_TOKENS];
	size_t n;
};

static void dict_add(struct dict *dt, const uint8_t *b, size_t n)
{
	bool zero = true;

	if (n < 2 || n > MAX_TOKEN_LEN || dt->n == MAX_TOKENS)
		return;
	for (size_t i = 0; i < n; i++)
		zero &= !b[i];
	if (zero)
		return;
	for (size_t i = 0; i < dt->n; i++)
		if (dt->len[i] == n && !memcmp(dt->tok[i], b, n))
			return;
	memcpy(dt->tok[dt->n], b, n);
	dt->len[dt->n++] = (uint8_t)n;
}

/* An integer as `bytes` bytes in network order. */
static void dict_be(struct dict *dt, uint64_t v, size_t bytes)
{
	uint8_t b[8];

	for (size_t i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	dict_add(dt, b, bytes);
}

/* A literal as it sits in a frame when compared with a field of `bits`. */
static void dict_literal(struct dict *dt, const struct apiary_literal *lit, unsigned bits)
{
	size_t bytes = bits ? (bits + 7) / 8 : 0;

	switch (lit->kind) {
	case APIARY_LIT_INT:
		if (bytes)
			dict_be(dt, lit->u, bytes > 8 ? 8 : bytes);
		else {
			dict_be(dt, lit->u, 2);
			dict_be(dt, lit->u, 4);
		}
		break;
	case APIARY_LIT_RANGE:
		dict_be(dt, lit->lo, bytes && bytes <= 8 ? bytes : 2);
		dict_be(dt, lit->hi, bytes && bytes <= 8 ? bytes : 2);
		break;
	case APIARY_LIT_IPV4:
		dict_add(dt, lit->addr, 4);
		break;
	case APIARY_LIT_IPV6:
		dict_add(dt, lit->addr, 16);
		break;
	case APIARY_LIT_MAC:
		dict_add(dt, lit->addr, 6);
		break;
	case APIARY_LIT_SET:
		for (size_t i = 0; i < lit->nitems; i++)
			dict_literal(dt, &lit->items[i], bits);
		break;
	}
}

static void dict_pred(struct dict *dt, const struct apiary_pred *p)
{
	if (!p)
		return;
	switch (p->kind) {
	case APIARY_P_AND:
	case APIARY_P_OR:
		dict_pred(dt, p->lhs);
		dict_pred(dt, p->rhs);
		break;
	case APIARY_P_NOT:
		dict_pred(dt, p->lhs);
		break;
	default:
		dict_literal(dt, &p->value, (unsigned)p->field < APIARY_F__COUNT
						    ? apiary_fields[p->field].bits : 0);
		break;
	}
}

static void dict_cfg(struct dict *dt, const struct apiary_cfg_value *v)
{
	if (v->raw) {
		dict_add(dt, v->bytes, v->nbytes);
		return;
	}
	for (size_t i = 0; i < v->nfields; i++)
		dict_literal(dt, &v->fields[i].value, 0);
}

/* A byte compared against an immediate, loaded from base register + off. */
struct bytecmp {
	int reg;
	int16_t off;
	uint8_t val;
};

static int cmp_bytecmp(const void *a, const void *b)
{
	const struct bytecmp *x = a, *y = b;

	if (x->reg != y->reg)
		return x->reg - y->reg;
	return x->off - y->off;
}

/*
 * The magic values of one program: every `if rX ==/!= IMM` where rX was
 * loaded from memory gets IMM as the loaded bytes (little-endian, the way
 * they sit in memory for that load width); byte comparisons at consecutive
 * offsets from the same base register become one string ("APIARY").
 */
static void dict_program(struct dict *dt, const struct bpf_insn *insn, size_t n)
{
	/* per register: the value it was loaded as (size 0: not a load), and
	 * where it points (root register id + delta), so p[0] through
	 * `r3 = r1; r3 += 54` and p[1] as `r1 + 55` line up */
	typedef struct { int base; int16_t off; int size; int root; int32_t delta; } regst;
	regst r[11], (*at)[11] = calloc(n ? n : 1, sizeof(*at));
	bool *has = calloc(n ? n : 1, sizeof(*has));
	struct bytecmp *bc = calloc(n ? n : 1, sizeof(*bc));
	size_t nbc = 0;
	int fresh = 11;
	bool dead = false;

	if (!bc || !at || !has) {
		free(bc);
		free(at);
		free(has);
		return;
	}
	for (int k = 0; k < 11; k++)
		r[k] = (regst){ .root = k };
	for (size_t i = 0; i < n; i++) {
		const struct bpf_insn *in = &insn[i];
		uint8_t cls = in->code & 0x07, op = in->code & 0xf0, d = in->dst_reg;

		/* a straight-line walk with the register state carried along
		 * jumps: after goto/exit, go on with what the jump's source
		 * knew */
		if (dead) {
			if (has[i])
				memcpy(r, at[i], sizeof(r));
			else
				for (int k = 0; k < 11; k++)
					r[k] = (regst){ .root = fresh++ };
			dead = false;
		}
		if ((cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT) {
			long t = (long)i + 1 + in->off;

			if (t > (long)i && t < (long)n && !has[t]) {
				memcpy(at[t], r, sizeof(r));
				has[t] = true;
			}
			if (op == BPF_JA)
				dead = true;
		}
		if (cls == BPF_JMP && op == BPF_EXIT)
			dead = true;
		if (d >= 11 || in->src_reg >= 11)
			continue;
		if (in->code == (BPF_LD | BPF_IMM | BPF_DW)) {
			r[d] = (regst){ .root = fresh++ };
			i++;
			continue;
		}
		if (cls == BPF_LDX && (in->code & 0xe0) == BPF_MEM) {
			static const int sizes[] = { 4, 2, 1, 8 };
			int s2 = in->src_reg;

			r[d] = (regst){ .base = r[s2].root,
					       .off = (int16_t)(r[s2].delta + in->off),
					       .size = sizes[(in->code >> 3) & 3], .root = fresh++ };
			continue;
		}
		if ((cls == BPF_JMP || cls == BPF_JMP32) && (in->code & BPF_X) == 0 &&
		    (op == BPF_JEQ || op == BPF_JNE)) {
			uint64_t v = (uint64_t)(int64_t)in->imm;
			uint8_t b[8];

			if (r[d].size == 1) {
				bc[nbc++] = (struct bytecmp){ r[d].base, r[d].off, (uint8_t)v };
			} else if (r[d].size > 1) {
				for (int k = 0; k < r[d].size; k++)
					b[k] = (uint8_t)(v >> (8 * k));
				dict_add(dt, b, (size_t)r[d].size);
			}
			continue;
		}
		if (cls == BPF_ALU64 && op == BPF_MOV && (in->code & BPF_X)) {
			r[d] = r[in->src_reg];
			r[d].size = 0;
			continue;
		}
		if (cls == BPF_ALU64 && op == BPF_ADD && !(in->code & BPF_X)) {
			r[d].delta += in->imm;
			r[d].size = 0;
			continue;
		}
		if (cls == BPF_ALU || cls == BPF_ALU64 || cls == BPF_LD)
			r[d] = (regst){ .root = fresh++ };
		if (cls == BPF_JMP && op == BPF_CALL)
			for (int k = 0; k <= 5; k++)
				r[k] = (regst){ .root = fresh++ };
	}
	free(at);
	free(has);
	qsort(bc, nbc, sizeof(*bc), cmp_bytecmp);
	{
		/* one per (register, offset): inlined copies compare the same bytes */
		size_t w = 0;

		for (size_t i = 0; i < nbc; i++)
			if (!w || bc[i].reg != bc[w - 1].reg || bc[i].off != bc[w - 1].off)
				bc[w++] = bc[i];
		nbc = w;
	}
	for (size_t i = 0; i < nbc;) {
		size_t j = i + 1;
		uint8_t s[MAX_TOKEN_LEN];

		while (j < nbc && bc[j].reg == bc[i].reg && bc[j].off == bc[j - 1].off + 1 &&
		       j - i < MAX_TOKEN_LEN)
			j++;
		if (j - i >= 2) {
			for (size_t k = i; k < j; k++)
				s[k - i] = bc[k].val;
			dict_add(dt, s, j - i);
		}
		i = j;
	}
	free(bc);
}

/* The programs of one object file (opened, never loaded). */
static void dict_object(struct dict *dt, const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p;

	if (!obj)
		return;
	bpf_object__for_each_program(p, obj)
		dict_program(dt, bpf_program__insns(p), bpf_program__insn_cnt(p));
	bpf_object__close(obj);
}

int fz_dict_write(const struct apiary_spec *s, const struct apiary_build *b, const char *path,
		  size_t *ntokens, struct apiary_diags *d)
{
	struct dict *dt = calloc(1, sizeof(*dt));
	FILE *f;
	int err = 0;

	if (!dt)
		return -ENOMEM;
	if (s->classifier)
		dict_pred(dt, s->classifier->match);
	for (size_t e = 0; e < s->nenforcers; e++) {
		const struct apiary_enforcer *en = &s->enforcers[e];

		for (size_t k = 0; k < en->neffects; k++)
			dict_pred(dt, en->effects[k].when);
		for (size_t k = 0; k < en->nconfigs; k++) {
			dict_cfg(dt, &en->configs[k].key);
			dict_cfg(dt, &en->configs[k].value);
		}
		for (size_t k = 0; k < en->nglobals; k++)
			dict_literal(dt, &en->globals[k].value, 0);
	}
	for (size_t k = 0; k < s->ncovers; k++)
		dict_pred(dt, s->covers[k].sees);
	for (size_t i = 0; i < b->nprogs; i++)
		dict_object(dt, b->progs[i].object_path);
	dict_object(dt, b->sidecar_object);

	f = fopen(path, "w");
	if (!f) {
		err = apiary_error(d, NULL, "cannot write the dictionary %s: %s", path,
				   strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < dt->n; i++) {
		fprintf(f, "apiary_%zu=\"", i);
		for (size_t k = 0; k < dt->len[i]; k++)
			fprintf(f, "\\x%02x", dt->tok[i][k]);
		fprintf(f, "\"\n");
	}
	if (fclose(f))
		err = apiary_error(d, NULL, "cannot write the dictionary %s: %s", path,
				   strerror(errno));
	*ntokens = dt->n;
out:
	free(dt);
	return err;
}
