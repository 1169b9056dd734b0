// SPDX-License-Identifier: MIT
/*
 * SARIF 2.1.0 for code-scanning UIs: one result per violation, located at
 * the `enforcer` declarations of its parties in the spec, so a reviewer
 * lands on the lines that conflict. Built with json-c so escaping is right
 * by construction.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "apiary/report.h"

static const char *const rule_help[APIARY_INV__COUNT] = {
	[APIARY_INV_ORDERING] = "A declared order between two enforcers matters for some input.",
	[APIARY_INV_COVERAGE] = "An enforcer did not run on an input its `cover` predicate matches.",
	[APIARY_INV_COMMUTATIVITY] = "Two enforcers without a declared order give different "
				     "results depending on which runs first.",
	[APIARY_INV_EXCLUSIVE] = "State declared `exclusive` was written by another enforcer.",
	[APIARY_INV_EFFECT] = "An enforcer's declared effect was contradicted.",
	[APIARY_INV_NONDETERMINISM] = "The same input and state gave different outcomes.",
	[APIARY_INV_FLOW_CONSISTENT] = "One flow was handled by two versions of an enforcer.",
	[APIARY_INV_MIGRATION] = "An update lost state or left it unconverted.",
};

/* Percent-encode a relative path for artifactLocation.uri. */
static char *path_uri(const char *path)
{
	size_t n = strlen(path);
	char *u = malloc(n * 3 + 1), *o = u;

	if (!u)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~/", *p))
			*o++ = (char)*p;
		else
			o += sprintf(o, "%%%02X", *p);
	}
	*o = 0;
	return u;
}

static struct json_object *text_obj(const char *s)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "text", json_object_new_string(s ? s : ""));
	return o;
}

static struct json_object *location(const char *uri, const struct apiary_party *p)
{
	struct json_object *loc = json_object_new_object(), *phys = json_object_new_object();
	struct json_object *art = json_object_new_object(), *reg = json_object_new_object();
	char msg[256];

	json_object_object_add(art, "uri", json_object_new_string(uri));
	json_object_object_add(phys, "artifactLocation", art);
	json_object_object_add(reg, "startLine", json_object_new_int(p->spec_line > 0 ? p->spec_line : 1));
	if (p->spec_col > 0)
		json_object_object_add(reg, "startColumn", json_object_new_int(p->spec_col));
	json_object_object_add(phys, "region", reg);
	json_object_object_add(loc, "physicalLocation", phys);
	snprintf(msg, sizeof(msg), "enforcer %s (team %s, version %u)",
		 p->enforcer ? p->enforcer : "?", p->team ? p->team : "?", p->version);
	json_object_object_add(loc, "message", text_obj(msg));
	return loc;
}

int apiary_sarif_write(FILE *out, const char *spec_path, const struct apiary_violation *v,
		       size_t n, const struct apiary_sarif_opts *opts)
{
	struct apiary_sarif_opts o = { .sz = sizeof(o) };
	struct json_object *root, *runs, *run, *tool, *driver, *rules, *results, *arts, *art;
	bool used[APIARY_INV__COUNT] = { 0 };
	int rule_index[APIARY_INV__COUNT];
	char *uri;
	int nrules = 0, err = 0;

	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	uri = path_uri(spec_path ? spec_path : "bundle.spec");
	if (!uri)
		return -ENOMEM;
	root = json_object_new_object();
	json_object_object_add(root, "$schema",
			       json_object_new_string("https://json.schemastore.org/sarif-2.1.0.json"));
	json_object_object_add(root, "version", json_object_new_string("2.1.0"));
	runs = json_object_new_array();
	run = json_object_new_object();
	tool = json_object_new_object();
	driver = json_object_new_object();
	json_object_object_add(driver, "name", json_object_new_string("apiary"));
	json_object_object_add(driver, "version",
			       json_object_new_string(o.tool_version ? o.tool_version : "0.1.0"));
	rules = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		if ((unsigned)v[i].invariant < APIARY_INV__COUNT)
			used[v[i].invariant] = true;
	for (int k = 0; k < APIARY_INV__COUNT; k++) {
		struct json_object *r;

		rule_index[k] = -1;
		if (!used[k])
			continue;
		r = json_object_new_object();
		json_object_object_add(r, "id", json_object_new_string(apiary_invariant_name(k)));
		json_object_object_add(r, "shortDescription", text_obj(rule_help[k]));
		json_object_array_add(rules, r);
		rule_index[k] = nrules++;
	}
	json_object_object_add(driver, "rules", rules);
	json_object_object_add(tool, "driver", driver);
	json_object_object_add(run, "tool", tool);
	arts = json_object_new_array();
	art = json_object_new_object();
	json_object_object_add(art, "location", json_object_new_object());
	json_object_object_add(json_object_object_get(art, "location"), "uri",
			       json_object_new_string(uri));
	json_object_array_add(arts, art);
	json_object_object_add(run, "artifacts", arts);

	results = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		const struct apiary_violation *x = &v[i];
		struct json_object *res = json_object_new_object(), *locs = json_object_new_array();
		struct json_object *fp = json_object_new_object(), *props = json_object_new_object();
		int k = (unsigned)x->invariant < APIARY_INV__COUNT ? (int)x->invariant : -1;

		json_object_object_add(res, "ruleId",
				       json_object_new_string(apiary_invariant_name(x->invariant)));
		if (k >= 0)
			json_object_object_add(res, "ruleIndex", json_object_new_int(rule_index[k]));
		json_object_object_add(res, "level", json_object_new_string(
				       x->severity == APIARY_VS_INFO ? "note" : "error"));
		json_object_object_add(res, "message", text_obj(x->summary ? x->summary :
							       apiary_invariant_name(x->invariant)));
		for (size_t p = 0; p < x->nparties; p++)
			json_object_array_add(locs, location(uri, &x->parties[p]));
		if (!x->nparties) {
			struct apiary_party whole = { .spec_line = 1 };

			json_object_array_add(locs, location(uri, &whole));
		}
		json_object_object_add(res, "locations", locs);
		if (x->dedup_key)
			json_object_object_add(fp, "apiary/dedup",
					       json_object_new_string(x->dedup_key));
		json_object_object_add(res, "partialFingerprints", fp);
		json_object_object_add(props, "apiary", apiary_violation_to_json(x));
		if (x->replay)
			json_object_object_add(props, "replay", json_object_new_string(x->replay));
		json_object_object_add(res, "properties", props);
		json_object_array_add(results, res);
	}
	json_object_object_add(run, "results", results);
	json_object_array_add(runs, run);
	json_object_object_add(root, "runs", runs);

	fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_NOSLASHESCAPE), out);
	fputc('\n', out);
	json_object_put(root);
	free(uri);
	fflush(out);
	if (ferror(out))
		err = -EIO;
	return err;
}
