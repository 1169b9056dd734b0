// SPDX-License-Identifier: MIT
/*
 * Test helper: `report-fixture db PATH` fills a new store with realistic
 * violations (two bundles, hostile names, one waived); `report-fixture
 * junit PATH` writes JUnit for them, for the Python checks.
 */
#include <stdio.h>
#include <string.h>

#include "apiary/report.h"
#include "apiary/store.h"
#include "fixtures.h"

static int make_db(const char *path)
{
	struct apiary_violation v[4];
	struct apiary_store *st;
	struct apiary_diags d;
	int64_t r1, r2, r3, id;
	int err;

	apiary_diags_init(&d);
	err = apiary_store_open(path, &st, &d);
	if (err) {
		apiary_diags_print(&d, stderr);
		apiary_diags_free(&d);
		return 1;
	}
	apiary_diags_free(&d);
	fx_commutativity(&v[0]);
	fx_coverage(&v[1]);
	fx_ordering_info(&v[2]);
	fx_hostile(&v[3]);
	err = apiary_store_begin_run(st, "edge", 3, "5e1f0c0ffee0ddba11", "bundle edge version 3\n",
				     &r1) ?:
	      apiary_store_add_violation(st, r1, &v[0], NULL, NULL) ?:
	      apiary_store_add_violation(st, r1, &v[0], NULL, NULL) ?:
	      apiary_store_add_violation(st, r1, &v[1], &id, NULL) ?:
	      apiary_store_waive(st, id, "meter moves to tc.ingress in v4 <see NET-12> & co") ?:
	      apiary_store_finish_run(st, r1, APIARY_RUN_VIOLATIONS) ?:
	      apiary_store_begin_run(st, "core", 1, "c0de", "bundle core version 1\n", &r2) ?:
	      apiary_store_add_violation(st, r2, &v[2], NULL, NULL) ?:
	      apiary_store_finish_run(st, r2, APIARY_RUN_CLEAN) ?:
	      apiary_store_begin_run(st, HOSTILE_IMG, 1, "bad" HOSTILE_SCRIPT, "x", &r3) ?:
	      apiary_store_add_violation(st, r3, &v[3], NULL, NULL);
	if (err)
		fprintf(stderr, "report-fixture: %s\n", apiary_store_errmsg(st));
	apiary_store_close(st);
	for (int i = 0; i < 4; i++)
		apiary_violation_free(&v[i]);
	return err ? 1 : 0;
}

static int make_junit(const char *path)
{
	struct apiary_violation v[4];
	FILE *f = fopen(path, "w");
	int err;

	if (!f)
		return 1;
	fx_commutativity(&v[0]);
	fx_coverage(&v[1]);
	fx_ordering_info(&v[2]);
	fx_hostile(&v[3]);
	err = apiary_junit_write(f, "edge <&> \"bundle\"", v, 4, 0);
	fclose(f);
	for (int i = 0; i < 4; i++)
		apiary_violation_free(&v[i]);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "db"))
		return make_db(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "junit"))
		return make_junit(argv[2]);
	fprintf(stderr, "usage: report-fixture db|junit PATH\n");
	return 2;
}
