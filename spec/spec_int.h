/* SPDX-License-Identifier: MIT */
/*
 * Internal boundary between the phases of spec/: lexer -> parser -> sema.
 * Not a public header; tests include it to check the lexer directly.
 */
#ifndef APIARY_SPEC_INT_H
#define APIARY_SPEC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apiary/spec.h"

enum tok_kind {
	TK_EOF,
	TK_IDENT,  /* also dotted (tcp.dport) and the keyword flow-consistent */
	TK_INT,    /* decimal */
	TK_HEX,    /* 0x...: value in u, digits kept in the source text */
	TK_IPV4,   /* addr[0..3] network order */
	TK_IPV6,   /* addr[0..15] */
	TK_MAC,    /* addr[0..5] */
	TK_STRING, /* decoded text in str */
	TK_PUNCT,
};

struct token {
	enum tok_kind kind;
	const char *start; /* into the spec's text */
	size_t len;
	int line, col;
	uint64_t u;
	bool overflow; /* INT/HEX did not fit in 64 bits */
	uint8_t addr[16];
	char *str;
};

struct token_list {
	struct token *v;
	size_t n, cap;
};

/* Split text[0..len) into tokens (always ending with TK_EOF). Lexical
 * errors go to diags; the list is usable even then. Returns 0, -EINVAL on
 * lexical errors, -ENOMEM. file/src are borrowed for locations. */
int apiary__tokenize(const char *file, const char *src, size_t len, struct token_list *out,
		     struct apiary_diags *diags);
void apiary__tokens_free(struct token_list *t);

/* A struct apiary_loc for token t. */
struct apiary_loc apiary__tok_loc(const char *file, const char *src, const struct token *t);

/* Free helpers shared by the parser and apiary_spec_free(). */
void apiary__literal_fini(struct apiary_literal *l);
void apiary__pred_free(struct apiary_pred *p);
void apiary__classifier_fini(struct apiary_classifier *c);
void apiary__state_fini(struct apiary_state *s);
void apiary__enforcer_fini(struct apiary_enforcer *e);
void apiary__update_fini(struct apiary_update *u);
void apiary__code_fini(struct apiary_code *c);
void apiary__config_fini(struct apiary_config *c);

/* Append one zeroed element to a growable array whose capacity follows its
 * count (see push_cap in spec.c). NULL on ENOMEM. */
void *apiary__push(void *arrp, size_t *n, size_t elsz);

/* Stable-sort the messages from index `from` on by line and column, so
 * a phase's messages read top to bottom; unlocated ones go last. */
void apiary__diags_sort(struct apiary_diags *d, size_t from);

/* Levenshtein distance, capped: used for "did you mean" hints. */
int apiary__edit_distance(const char *a, const char *b);

/* Value of a literal NAME (tcp, syn, ipv4, ...); false if unknown. */
bool apiary__name_value(const char *name, uint64_t *v);
extern const char *const apiary__literal_names[];

/* Parse; *hard_errors counts syntax errors after which the parser had to
 * skip input (the AST is then incomplete and sema should not run). */
int apiary__parse(const char *path, const char *text, size_t len, struct apiary_spec **out,
		  struct apiary_diags *diags, int *hard_errors);

#define APIARY_FIELD_INVALID APIARY_F__COUNT

#endif
