/*
 * The plan of tests for one target: which modules to try (registry bits),
 * in registry order, each at each of its aims (the sink's SMTP port, then
 * each of its TCP targets while the web is not proven), and the best
 * verdict so far. Pure functions over the plan: the engine opens one
 * connection per step and reports each step's verdict.
 */
#ifndef PLUGHOLE_PLAN_H
#define PLUGHOLE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "probe/probe.h"

struct plan {
	const struct probe_module *module; /* the current step's module */
	uint16_t modules, left;            /* registry bits to try, and those not tried yet */
	uint8_t aim;                       /* 0: the sink's SMTP port; k: its k-th TCP target */
	uint8_t web_targets;               /* the sink's TCP targets, the aims after 0 */
	uint8_t verdict;                   /* the best so far (enum verdict) */
};

/* From the first step, with no verdict: false when no module has an aim worth a connection. */
bool plan_reset(struct plan *p, uint16_t modules, unsigned web_targets);
/* On to the next module with an aim worth trying; false when none is left. */
bool plan_advance(struct plan *p);
/* A step ended with verdict: true when it is the best so far (now p->verdict). */
bool plan_note(struct plan *p, enum verdict verdict);
/*
 * After a step's verdict (noted first): on to the next step, true, or done,
 * false. whole: the module's other aims are done too; connected: the step
 * reached the host (one that takes no connection, or answers nothing in
 * time, gets no more steps; not-proxy skips the module's whole group).
 */
bool plan_next(struct plan *p, enum verdict verdict, bool whole, bool connected);
/* How well a verdict proves a proxy: the higher the better; 0 for none. */
int plan_verdict_rank(enum verdict v);

#endif
