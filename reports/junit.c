// SPDX-License-Identifier: MIT
/*
 * JUnit XML for CI dashboards: one testcase per invariant kind, so a CI
 * page reads "commutativity: failed (2)" next to "coverage: passed". All
 * text goes through apiary_markup_escape(), which also keeps the document
 * valid XML 1.0 (no control characters, valid UTF-8).
 */
#include <errno.h>
#include <string.h>

#include "apiary/report.h"

#define esc apiary_markup_escape

/* One violation as plain lines inside <failure> or <system-out>. */
static void violation_text(FILE *out, const struct apiary_violation *v, size_t nth)
{
	fprintf(out, "[%zu] ", nth);
	esc(out, v->summary ? v->summary : "(no summary)");
	fputc('\n', out);
	for (size_t p = 0; p < v->nparties; p++) {
		fputs("    party: ", out);
		esc(out, v->parties[p].enforcer);
		fputs(" (team ", out);
		esc(out, v->parties[p].team);
		fprintf(out, ", version %u) at spec line %d:%d\n", v->parties[p].version,
			v->parties[p].spec_line, v->parties[p].spec_col);
	}
	for (size_t r = 0; r < v->nruns && r < 2; r++) {
		fputs("    run: ", out);
		esc(out, v->runs[r].label);
		fputc('\n', out);
	}
	if (v->replay) {
		fputs("    replay: ", out);
		esc(out, v->replay);
		fputc('\n', out);
	}
}

int apiary_junit_write(FILE *out, const char *suite, const struct apiary_violation *v, size_t n,
		       unsigned checked)
{
	size_t fails[APIARY_INV__COUNT] = { 0 }, infos[APIARY_INV__COUNT] = { 0 };
	size_t tests = 0, failures = 0;

	if (!checked)
		checked = (1u << APIARY_INV__COUNT) - 1;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)v[i].invariant >= APIARY_INV__COUNT)
			continue;
		checked |= 1u << v[i].invariant; /* a found violation was checked */
		if (v[i].severity == APIARY_VS_INFO)
			infos[v[i].invariant]++;
		else
			fails[v[i].invariant]++;
	}
	for (int k = 0; k < APIARY_INV__COUNT; k++) {
		if (!(checked & (1u << k)))
			continue;
		tests++;
		failures += fails[k] ? 1 : 0;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out, "<testsuites name=\"apiary\" tests=\"%zu\" failures=\"%zu\" errors=\"0\">\n",
		tests, failures);
	fputs("  <testsuite name=\"", out);
	esc(out, suite ? suite : "bundle");
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\">\n", tests,
		failures);
	for (int k = 0; k < APIARY_INV__COUNT; k++) {
		size_t nth = 0;

		if (!(checked & (1u << k)))
			continue;
		fputs("    <testcase classname=\"apiary.", out);
		esc(out, suite ? suite : "bundle");
		fputs("\" name=\"", out);
		esc(out, apiary_invariant_name(k));
		fputs("\">\n", out);
		if (fails[k]) {
			fprintf(out, "      <failure type=\"%s\" message=\"%zu violation%s of ",
				apiary_invariant_name(k), fails[k], fails[k] == 1 ? "" : "s");
			esc(out, apiary_invariant_name(k));
			fputs("\">", out);
			for (size_t i = 0; i < n; i++)
				if (v[i].invariant == (enum apiary_invariant)k &&
				    v[i].severity != APIARY_VS_INFO)
					violation_text(out, &v[i], ++nth);
			fputs("</failure>\n", out);
		}
		if (infos[k]) {
			nth = 0;
			fputs("      <system-out>", out);
			for (size_t i = 0; i < n; i++)
				if (v[i].invariant == (enum apiary_invariant)k &&
				    v[i].severity == APIARY_VS_INFO)
					violation_text(out, &v[i], ++nth);
			fputs("</system-out>\n", out);
		}
		fputs("    </testcase>\n", out);
	}
	fputs("  </testsuite>\n</testsuites>\n", out);
	fflush(out);
	return ferror(out) ? -EIO : 0;
}
