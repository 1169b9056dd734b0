/* SPDX-License-Identifier: MIT */
/* Helpers shared by the files of reports/ only. */
#ifndef APIARY_REPORTS_INTERNAL_H
#define APIARY_REPORTS_INTERNAL_H

#include <stdio.h>

#include "apiary/store.h"

struct json_object;

/* vjson.c: parse the store's columns back. */
int apiary__parties_from_json(struct json_object *a, struct apiary_violation *v);
int apiary__runs_from_json(struct json_object *a, struct apiary_violation *v);
int apiary__invariant_parse(const char *name);

#endif
