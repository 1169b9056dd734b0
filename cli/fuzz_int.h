/* SPDX-License-Identifier: MIT */
/* apiary-fuzz internals shared by cli/fuzz.c (the campaign) and
 * cli/fuzz_seeds.c (initial corpus and dictionary). Not a public header. */
#ifndef APIARY_CLI_FUZZ_INT_H
#define APIARY_CLI_FUZZ_INT_H

#include <stddef.h>

#include "apiary/compiler.h"
#include "apiary/diag.h"
#include "apiary/input.h"
#include "apiary/spec.h"

/* A growable list of inputs (each ~24 KiB: lists stay small). */
struct fz_inputs {
	struct apiary_input *v;
	size_t n, cap;
};

int fz_inputs_add(struct fz_inputs *l, const struct apiary_input *in);
/* One input of one frame at hook. */
int fz_inputs_add_frame(struct fz_inputs *l, enum apiary_hook hook, const uint8_t *frame,
			size_t len);
void fz_inputs_free(struct fz_inputs *l);

/* z3 packets for every predicate of the spec (classifier match, effects,
 * covers), as apiary-check generates them, each at xdp (and at tc.egress
 * when enforcers run there): first with 16 payload bytes, so the engines
 * start from frames with room for a payload z3 knows nothing about, then
 * as apiary-check has them (no payload). */
int fz_seeds_z3(const struct apiary_spec *spec, struct fz_inputs *l, struct apiary_diags *d);

/* Seeds from a path: a pcap file (libpcap), an encoded input file, or a
 * directory of either (not recursive). */
int fz_seeds_path(const char *path, struct fz_inputs *l, struct apiary_diags *d);

/* Write the engines' dictionary (AFL/libFuzzer format) to path: the spec's
 * constants (ports, addresses, protocols, MACs, config values) in the byte
 * order they have in a frame, and the magic values the programs compare
 * packet bytes against (immediates of their comparisons, and runs of byte
 * comparisons at consecutive offsets as one string). *ntokens gets the
 * count. */
int fz_dict_write(const struct apiary_spec *spec, const struct apiary_build *build,
		  const char *path, size_t *ntokens, struct apiary_diags *d);

#endif
