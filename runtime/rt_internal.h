/* SPDX-License-Identifier: MIT */
/*
 * Pieces of the loader shared between its files and exposed to the unit
 * tests (tests/runtime): the BTF value encoder and the verifier-log parser.
 * Not a public header.
 */
#ifndef APIARY_RT_INTERNAL_H
#define APIARY_RT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpf/btf.h>

#include "apiary/abi.h"
#include "apiary/compiler.h"
#include "apiary/diag.h"
#include "apiary/spec.h"

/* ---- BTF encoder (btfenc.c) ------------------------------------------- */

/* Encode a spec config value (`{ f v, ... }` or raw hex) into buf of exactly
 * size bytes, typed by BTF type type_id of btf (0 / NULL btf: no BTF, only
 * raw bytes are accepted). what names the part ("key", "value") and map the
 * map, for messages. Errors go to diags at the spec location. */
int rt_btf_encode_cfg(const struct btf *btf, uint32_t type_id, const struct apiary_cfg_value *v,
		      const char *map, const char *what, void *buf, size_t size,
		      struct apiary_diags *diags);

/* Encode one literal into size bytes at buf as BTF type type_id wants it
 * (integers in host order unless the type is a __be16/__be32/__be64 typedef,
 * addresses as they sit in the packet). name is used in messages. */
int rt_btf_encode_lit(const struct btf *btf, uint32_t type_id, const struct apiary_literal *lit,
		      const char *name, void *buf, size_t size, struct apiary_diags *diags);

/* Find global variable name in the DATASEC type datasec_id: its offset and
 * type in the section. Returns 0 or -ENOENT. */
int rt_btf_find_var(const struct btf *btf, uint32_t datasec_id, const char *name,
		    uint32_t *offset, uint32_t *type_id, uint32_t *size);

/* Process-lifetime copies of a path and of that file's text (NULL if it
 * cannot be read), so diagnostics may point into them after the loader is
 * gone (struct apiary_loc borrows its strings). */
const char *rt_intern_path(const char *path);
const char *rt_intern_text(const char *path);

/* ---- verifier log (vlog.c) -------------------------------------------- */

#define RT_VLOG_TAIL_LINES 8

struct rt_vlog {
	int line;          /* source line of the failing instruction, 0 if unknown */
	char file[256];    /* file named in the line info ("bad.c"), "" if unknown */
	char src[256];     /* the source text the verifier quoted */
	char error[256];   /* the verifier's error line */
	char tail[2048];   /* the last RT_VLOG_TAIL_LINES lines, newline separated */
	const char *hint;  /* plain explanation, NULL if not a known class */
};

/* Parse a verifier log (kernel 6.x, log_level 1). Never fails: unknown
 * fields stay empty. */
void rt_vlog_parse(const char *log, struct rt_vlog *out);

/* Plain one-line explanation of a verifier error line, NULL if unknown. */
const char *rt_vlog_explain(const char *text);

/* ---- the loaded bundle (loader.c, state.c) ---------------------------- */

struct bpf_object;

struct rt_prog {
	const struct apiary_build_prog *bp; /* borrowed from the build */
	struct bpf_object *obj;
	int fd;                             /* -1 if not loaded */
	uint32_t *map_ids;                  /* maps the program references */
	uint32_t nmap_ids;
};

struct rt_map {
	char *name;
	int fd;               /* borrowed from its object */
	int owner;            /* -1: shared; else enforcer index */
	uint32_t type, key_size, value_size, max_entries, id;
	size_t vsize;         /* value bytes in user space (per-CPU: rounded x ncpus) */
	bool percpu;
	const struct btf *btf; /* of its object, NULL without BTF */
	uint32_t key_type, value_type; /* BTF ids, 0 if unknown */
};

struct apiary_rt {
	const struct apiary_build *b;
	const struct apiary_spec *spec;
	struct bpf_object *sidecar;
	int cpu, ncpus;
	uint32_t max_flows; /* 0: as compiled */
	int ctx_fd, progs_xdp_fd, progs_tc_fd, chain_fd, routes_fd, flows_fd, pins_fd;
	int disp_fd[APIARY_NHOOKS];
	struct rt_prog *progs;
	size_t nprogs;
	struct rt_map *maps;
	size_t nmaps;
	void *ctx_buf;
	size_t ctx_stride;
	char *log_buf;
	size_t log_size;
};

#endif
