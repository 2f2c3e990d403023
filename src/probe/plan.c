#include "probe/plan.h"

#include "core/util.h"

int plan_verdict_rank(enum verdict v)
{
	/* tempfail above closed: a proxy that tried a destination and failed forwards still */
	static const enum verdict order[] = {VERDICT_UNREACHABLE,    VERDICT_TIMEOUT,	      VERDICT_NOT_PROXY,
					     VERDICT_CLOSED,	     VERDICT_TEMPFAIL,	      VERDICT_OPEN_PROXY_WEB,
					     VERDICT_OPEN_PROXY_MAIL};
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		if (order[i] == v)
			return (int)i + 1;
	return 0;
}

/* The module's first aim after `after` worth a connection: the SMTP port, then each target until the web is proven. */
static int next_aim(const struct plan *p, const struct probe_module *m, int after)
{
	if (m->family == PROBE_RELAY)
		return after < 0 ? 0 : -1;
	for (int aim = after + 1; aim <= (int)p->web_targets; aim++)
		if (aim == 0 ? (m->aims & PROBE_AIM_MAIL) != 0
			     : (m->aims & PROBE_AIM_WEB) != 0 && p->verdict != VERDICT_OPEN_PROXY_WEB)
			return aim;
	return -1;
}

bool plan_advance(struct plan *p)
{
	while (p->left != 0) {
		unsigned i = (unsigned)__builtin_ctz(p->left);
		p->left &= (uint16_t) ~(1u << i);
		const struct probe_module *m = probe_module_at(i);
		int aim = next_aim(p, m, -1);
		if (aim >= 0) {
			p->module = m;
			p->aim = (uint8_t)aim;
			return true;
		}
	}
	return false;
}

bool plan_reset(struct plan *p, uint16_t modules, unsigned web_targets)
{
	*p = (struct plan){.modules = modules, .left = modules, .web_targets = (uint8_t)web_targets,
			   .verdict = VERDICT_NONE};
	return plan_advance(p);
}

bool plan_note(struct plan *p, enum verdict verdict)
{
	if (plan_verdict_rank(verdict) <= plan_verdict_rank((enum verdict)p->verdict))
		return false;
	p->verdict = (uint8_t)verdict;
	return true;
}

bool plan_next(struct plan *p, enum verdict verdict, bool whole, bool connected)
{
	if (verdict == VERDICT_OPEN_PROXY_MAIL || verdict == VERDICT_TIMEOUT ||
	    (verdict == VERDICT_UNREACHABLE && !connected))
		return false;
	if (verdict == VERDICT_NOT_PROXY) { /* the wire protocol is not spoken here: skip its other modules */
		for (size_t i = 0; i < probe_module_count(); i++)
			if (probe_module_at(i)->group == p->module->group)
				p->left &= (uint16_t) ~(1u << i);
		whole = true;
	}
	int aim = whole ? -1 : next_aim(p, p->module, p->aim);
	if (aim >= 0) {
		p->aim = (uint8_t)aim;
		return true;
	}
	return plan_advance(p);
}
