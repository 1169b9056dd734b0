// SPDX-License-Identifier: MIT
/*
 * spec_lint: load a spec (parse + check) and print its diagnostics to
 * stdout. Exit 2 on errors, 0 otherwise. Used by the golden tests.
 */
#include <stdio.h>

#include "apiary/spec.h"

int main(int argc, char **argv)
{
	struct apiary_diags d;
	struct apiary_spec *s = NULL;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE.spec\n", argv[0]);
		return 2;
	}
	apiary_diags_init(&d);
	err = apiary_spec_load(argv[1], &s, &d);
	apiary_diags_print(&d, stdout);
	apiary_diags_free(&d);
	apiary_spec_free(s);
	return err ? 2 : 0;
}
