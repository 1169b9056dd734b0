// SPDX-License-Identifier: MIT
/*
 * apiary-report: render the store as one self-contained HTML page for
 * reviewers, and record their decisions (waive with a reason, confirm).
 *
 *   apiary-report --db FILE [--bundle NAME] [--title TEXT] -o report.html
 *   apiary-report --db FILE --waive ID --reason TEXT
 *   apiary-report --db FILE --confirm ID
 *
 * Exit status: 0 done, 2 usage or store error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apiary/report.h"
#include "apiary/store.h"

static void usage(FILE *out)
{
	fputs("usage: apiary-report --db FILE [--bundle NAME] [--title TEXT] -o report.html\n"
	      "       apiary-report --db FILE --waive ID --reason TEXT\n"
	      "       apiary-report --db FILE --confirm ID\n"
	      "Renders the violations of an Apiary store as one HTML file (-o - for stdout),\n"
	      "or records a review decision. Exit 0 on success, 2 on usage or store errors.\n",
	      out);
}

static int parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v <= 0)
		return -EINVAL;
	*id = v;
	return 0;
}

/* Render to a temporary file next to the output, then rename, so a reader
 * never sees half a report. */
static int render(struct apiary_store *st, const char *bundle, const char *title,
		  const char *path)
{
	struct apiary_store_filter f = { .sz = sizeof(f), .bundle = bundle, .include_waived = true };
	struct apiary_stored_violation *sv = NULL;
	struct apiary_store_run *runs = NULL;
	size_t nsv = 0, nruns = 0;
	char *tmp = NULL;
	FILE *out = NULL;
	int err;

	err = apiary_store_list_violations(st, &f, &sv, &nsv);
	if (!err)
		err = apiary_store_list_runs(st, bundle, &runs, &nruns);
	if (err) {
		fprintf(stderr, "apiary-report: reading the store: %s\n", apiary_store_errmsg(st));
		goto out;
	}
	if (!strcmp(path, "-")) {
		out = stdout;
	} else {
		if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0) {
			tmp = NULL;
			err = -ENOMEM;
			goto out;
		}
		out = fopen(tmp, "w");
		if (!out) {
			err = -errno;
			fprintf(stderr, "apiary-report: %s: %s\n", tmp, strerror(errno));
			goto out;
		}
	}
	err = apiary_html_write(out, &(struct apiary_report){
		.sz = sizeof(struct apiary_report),
		.title = title,
		.violations = sv,
		.nviolations = nsv,
		.runs = runs,
		.nruns = nruns,
	});
	if (out != stdout) {
		if (fclose(out) && !err)
			err = -EIO;
		out = NULL;
		if (!err && rename(tmp, path) < 0)
			err = -errno;
		if (err) {
			fprintf(stderr, "apiary-report: writing %s: %s\n", path, strerror(-err));
			unlink(tmp);
		}
	}
	if (!err && out != stdout)
		fprintf(stderr, "apiary-report: %zu violation(s) from %zu run(s) written to %s\n", nsv,
			nruns, path);
out:
	free(tmp);
	apiary_stored_violations_free(sv, nsv);
	apiary_store_runs_free(runs, nruns);
	return err;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },	   { "bundle", required_argument, NULL, 'b' },
		{ "output", required_argument, NULL, 'o' }, { "title", required_argument, NULL, 't' },
		{ "waive", required_argument, NULL, 'w' },  { "reason", required_argument, NULL, 'r' },
		{ "confirm", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *db = NULL, *bundle = NULL, *output = NULL, *title = NULL, *reason = NULL;
	const char *waive = NULL, *confirm = NULL;
	struct apiary_store *st = NULL;
	struct apiary_diags diags;
	int64_t id = 0;
	int c, err, actions;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'b':
			bundle = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 't':
			title = optarg;
			break;
		case 'w':
			waive = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'c':
			confirm = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	actions = !!output + !!waive + !!confirm;
	if (optind != argc || !db || actions != 1 || (waive && (!reason || !*reason)) ||
	    (reason && !waive)) {
		if (waive && (!reason || !*reason))
			fputs("apiary-report: --waive needs --reason TEXT\n", stderr);
		usage(stderr);
		return 2;
	}
	if ((waive && parse_id(waive, &id)) || (confirm && parse_id(confirm, &id))) {
		fprintf(stderr, "apiary-report: not a violation id: %s\n", waive ? waive : confirm);
		return 2;
	}

	apiary_diags_init(&diags);
	/* A report only reads; a decision needs write access. */
	err = apiary_store_open_opts(db, &(struct apiary_store_opts){
		.sz = sizeof(struct apiary_store_opts),
		.read_only = output != NULL,
	}, &st, &diags);
	if (err) {
		apiary_diags_print(&diags, stderr);
		apiary_diags_free(&diags);
		return 2;
	}
	apiary_diags_free(&diags);
	if (output)
		err = render(st, bundle, title, output);
	else if (waive)
		err = apiary_store_waive(st, id, reason);
	else
		err = apiary_store_confirm(st, id);
	if (err && !output)
		fprintf(stderr, "apiary-report: %s\n", apiary_store_errmsg(st));
	apiary_store_close(st);
	return err ? 2 : 0;
}
