/* The probe module registry: every protocol the engine can test. */
#include <string.h>

#include "probe/probe.h"

static const struct probe_module *const modules[] = {
	&probe_smtp_relay,
};

const struct probe_module *probe_module_find(const char *name)
{
	for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++)
		if (strcmp(modules[i]->name, name) == 0)
			return modules[i];
	return NULL;
}

const struct probe_module *probe_module_for(enum probe_family family, uint16_t port)
{
	/* Relays are tested on any port a candidate names (25, 587, 2525, ...). */
	for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++)
		if (modules[i]->family == family)
			return modules[i];
	(void)port;
	return NULL;
}
