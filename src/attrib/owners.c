#include "attrib/owners.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attrib/asnames.h"
#include "attrib/pfx2as.h"
#include "core/util.h"

const char *const owner_rung_names[RUNG_LAST] = {
    [RUNG_RANGE_ABUSE_C] = "range-abuse-c",
    [RUNG_ORG_ABUSE_C] = "org-abuse-c",
    [RUNG_IRT] = "irt",
    [RUNG_RANGE_EMAIL] = "range-remarks",
    [RUNG_PARENT_ABUSE_C] = "parent-abuse-c",
    [RUNG_PARENT_ORG_ABUSE_C] = "parent-org-abuse-c",
    [RUNG_PARENT_IRT] = "parent-irt",
    [RUNG_PARENT_EMAIL] = "parent-remarks",
    [RUNG_RDAP_ABUSE] = "rdap-abuse",
    [RUNG_AS_ABUSE] = "as-abuse",
    [RUNG_AGENCY] = "agency",
};

#define VALUE_BUF (SNAP_MAX_VALUE + 1)

/* Copies as much as fits: names and handles are cut, never overflow. */
static void copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void note(struct owner_result *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct owner_result *out, const char *fmt, ...)
{
	if (out->trace_count == OWNER_MAX_TRACE || out->collecting)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->trace[out->trace_count++], OWNER_TRACE_LINE, fmt, ap);
	va_end(ap);
}

static const char *field(const struct attrib_ref *ref, enum snap_field f, char buf[VALUE_BUF])
{
	return snap_record_get(ref->snap, ref->record, f, buf, VALUE_BUF);
}

/* Registries park the space they do not manage under placeholder objects: never an owner. */
static bool is_placeholder(const struct attrib_ref *ref)
{
	static const uint8_t zero[16], ones[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	char status[VALUE_BUF];
	const struct range *r = ref->range;
	bool whole = (addr_is_v4(&r->first) && addr_v4(&r->first) == 0 && addr_v4(&r->last) == UINT32_MAX) ||
		     (memcmp(r->first.bytes, zero, 16) == 0 && memcmp(r->last.bytes, ones, 16) == 0);
	return whole || strcasecmp(field(ref, SNAP_F_STATUS, status), "ALLOCATED UNSPECIFIED") == 0;
}

/* "inetnum CUSTOMER-A (test.db.inetnum:45)" */
static const char *describe(const struct attrib_ref *ref, char *buf, size_t buflen)
{
	char name[VALUE_BUF], key[VALUE_BUF], where[200];
	field(ref, SNAP_F_NAME, name);
	field(ref, SNAP_F_KEY, key);
	snprintf(buf, buflen, "%s %.64s%s%.64s (%.60s)",
		 snap_class_names[snap_record_class(ref->snap, ref->record)], key[0] ? key : name,
		 key[0] && name[0] ? " " : "", key[0] ? name : "",
		 attrib_ref_where(ref, where, sizeof where));
	return buf;
}

/* The abuse-mailbox of a role, person or irt; NULL with *why when there is none. */
static const char *mailbox_of(const struct owner_context *ctx, enum snap_keyspace space, const char *handle,
			      const char *registry, struct attrib_ref *found, char buf[VALUE_BUF],
			      const char **why)
{
	if (attrib_index_key(ctx->index, space, handle, strlen(handle), registry, found) != 0) {
		*why = "not in the loaded registry data";
		return NULL;
	}
	if (field(found, SNAP_F_ABUSE_MAILBOX, buf)[0] != '\0')
		return buf;
	/* an irt without abuse-mailbox still names an e-mail the registry checks (its e-mail:, not
	 * an address its remarks happen to mention) */
	if (space == SNAP_KEY_IRT && field(found, SNAP_F_OBJECT_EMAIL, buf)[0] != '\0')
		return buf;
	*why = "has no abuse-mailbox";
	return NULL;
}

/*
 * The range's address for abuse from its remarks and notify: the first whose
 * local part says abuse, else the first (remarks also name upstreams and
 * NOCs that do not handle the range's abuse). False when there is none.
 */
static bool remarks_email(const struct attrib_ref *ref, char buf[VALUE_BUF])
{
	uint32_t cursor = 0;
	size_t len, chosen_len = 0;
	const char *v, *chosen = NULL;
	while ((v = snap_record_next(ref->snap, ref->record, SNAP_F_EMAIL, &cursor, &len)) != NULL) {
		bool abuse = len >= 5 && strncasecmp(v, "abuse", 5) == 0;
		if (chosen == NULL || abuse) {
			chosen = v;
			chosen_len = len;
		}
		if (abuse)
			break;
	}
	if (chosen == NULL || chosen_len == 0)
		return false;
	snprintf(buf, VALUE_BUF, "%.*s", (int)chosen_len, chosen);
	return true;
}

/* The holder's name: its organisation's org-name, else its descr, else its netname. */
static void holder_of(const struct owner_context *ctx, const struct attrib_ref *ref, char *name,
		      size_t namelen, char *handle, size_t handlelen)
{
	char org[VALUE_BUF], value[VALUE_BUF];
	struct attrib_ref org_ref;
	handle[0] = '\0';
	if (field(ref, SNAP_F_ORG, org)[0] != '\0') {
		copy(handle, handlelen, org);
		if (attrib_index_key(ctx->index, SNAP_KEY_ORG, org, strlen(org), ref->snap->registry,
				     &org_ref) == 0 &&
		    field(&org_ref, SNAP_F_NAME, value)[0] != '\0') {
			snprintf(name, namelen, "%s", value);
			return;
		}
	}
	if (field(ref, SNAP_F_DESCR, value)[0] != '\0' || field(ref, SNAP_F_NAME, value)[0] != '\0') {
		snprintf(name, namelen, "%s", value);
		return;
	}
	snprintf(name, namelen, "%s", handle[0] ? handle : "unnamed");
}

/* A further contact: one not seen before on the ladder (the chosen one included). */
static void add_further(struct owner_result *out, enum owner_rung rung, const char *contact)
{
	if (strcasecmp(contact, out->contact) == 0 || out->further_count == OWNER_MAX_FURTHER)
		return;
	for (size_t i = 0; i < out->further_count; i++)
		if (strcasecmp(out->further[i].contact, contact) == 0)
			return;
	out->further[out->further_count].rung = rung;
	snprintf(out->further[out->further_count++].contact, sizeof out->further[0].contact, "%s", contact);
}

static void use(struct owner_result *out, enum owner_rung rung, const char *contact, const char *object)
{
	if (out->collecting) {
		add_further(out, rung, contact);
		return;
	}
	out->rung = rung;
	snprintf(out->contact, sizeof out->contact, "%s", contact);
	snprintf(out->object, sizeof out->object, "%s", object);
	note(out, "  => %s: %s", owner_rung_names[rung], contact);
}

/*
 * The rungs of one registered range, tried in this order until one gives a
 * mailbox; each is one row (a parent range's rungs are the same, with their
 * parent-* names). object: the range, described for the result.
 */
struct range_rung;
typedef bool (*range_rung_fn)(const struct owner_context *ctx, const struct range_rung *row,
			      const struct attrib_ref *ref, enum owner_rung rung, const char *object,
			      struct owner_result *out);

struct range_rung {
	enum owner_rung range, parent; /* its name on the range itself, and on a parent range */
	range_rung_fn try;
	/* for rung_handle: the range's field naming contact objects, the keyspace they are found in,
	 * the field's name in the trace and what precedes a mailbox found there */
	enum snap_field handle_field;
	enum snap_keyspace handle_space;
	const char *label, *mailbox_label;
};

/* A handle on the range (abuse-c, mnt-irt): the first object it names that has a mailbox. */
static bool rung_handle(const struct owner_context *ctx, const struct range_rung *row, const struct attrib_ref *ref,
			enum owner_rung rung, const char *object, struct owner_result *out)
{
	char handle[VALUE_BUF], box[VALUE_BUF], where[200];
	const char *why, *mail, *v;
	struct attrib_ref found;
	uint32_t cursor = 0;
	size_t len;
	bool any = false;
	while ((v = snap_record_next(ref->snap, ref->record, row->handle_field, &cursor, &len)) != NULL) {
		snprintf(handle, sizeof handle, "%.*s", (int)len, v);
		any = true;
		if ((mail = mailbox_of(ctx, row->handle_space, handle, ref->snap->registry, &found, box, &why)) != NULL) {
			note(out, "  %s: %s %s (%s) %s%s", owner_rung_names[rung], row->label, handle,
			     attrib_ref_where(&found, where, sizeof where), row->mailbox_label, mail);
			holder_of(ctx, ref, out->organisation, sizeof out->organisation, out->org_handle,
				  sizeof out->org_handle);
			use(out, rung, mail, object);
			return true;
		}
		note(out, "  %s: %s %s %s", owner_rung_names[rung], row->label, handle, why);
	}
	if (!any)
		note(out, "  %s: the range has no %s", owner_rung_names[rung], row->label);
	return false;
}

/* The range's organisation: its abuse-c, else (written before abuse-c existed) its abuse-mailbox. */
static bool rung_org_abuse_c(const struct owner_context *ctx, const struct range_rung *row,
			     const struct attrib_ref *ref, enum owner_rung rung, const char *object,
			     struct owner_result *out)
{
	const char *registry = ref->snap->registry;
	char org[VALUE_BUF], handle[VALUE_BUF], box[VALUE_BUF], where[200];
	struct attrib_ref org_ref, found;
	if (field(ref, SNAP_F_ORG, org)[0] == '\0') {
		note(out, "  %s: the range has no org", owner_rung_names[rung]);
		return false;
	}
	if (attrib_index_key(ctx->index, SNAP_KEY_ORG, org, strlen(org), registry, &org_ref) != 0) {
		note(out, "  %s: org %s is not in the loaded registry data", owner_rung_names[rung], org);
		return false;
	}
	char org_object[200], org_name[VALUE_BUF];
	describe(&org_ref, org_object, sizeof org_object);
	field(&org_ref, SNAP_F_NAME, org_name);
	const char *mail = NULL, *why, *v;
	uint32_t cursor = 0;
	size_t len;
	bool any = false;
	while (mail == NULL && (v = snap_record_next(org_ref.snap, org_ref.record, SNAP_F_ABUSE_C, &cursor, &len))) {
		snprintf(handle, sizeof handle, "%.*s", (int)len, v);
		any = true;
		mail = mailbox_of(ctx, SNAP_KEY_CONTACT, handle, org_ref.snap->registry, &found, box, &why);
		if (mail != NULL)
			note(out, "  %s: %s abuse-c %s (%s) abuse-mailbox %s", owner_rung_names[rung], org_object,
			     handle, attrib_ref_where(&found, where, sizeof where), mail);
		else
			note(out, "  %s: %s abuse-c %s %s", owner_rung_names[rung], org_object, handle, why);
	}
	if (mail == NULL && field(&org_ref, SNAP_F_ABUSE_MAILBOX, box)[0] != '\0') {
		mail = box; /* organisations written before abuse-c existed */
		note(out, "  %s: %s abuse-mailbox %s", owner_rung_names[rung], org_object, mail);
	} else if (mail == NULL && !any) {
		note(out, "  %s: %s has no abuse-c", owner_rung_names[rung], org_object);
	}
	if (mail == NULL)
		return false;
	snprintf(out->organisation, sizeof out->organisation, "%s", org_name[0] ? org_name : org);
	copy(out->org_handle, sizeof out->org_handle, org);
	use(out, rung, mail, org_object);
	return true;
}

/* An e-mail address in the range's remarks or notify. */
static bool rung_remarks(const struct owner_context *ctx, const struct range_rung *row, const struct attrib_ref *ref,
			 enum owner_rung rung, const char *object, struct owner_result *out)
{
	char box[VALUE_BUF];
	if (!remarks_email(ref, box)) {
		note(out, "  %s: no e-mail address in remarks or notify", owner_rung_names[rung]);
		return false;
	}
	note(out, "  %s: e-mail address in remarks/notify: %s", owner_rung_names[rung], box);
	holder_of(ctx, ref, out->organisation, sizeof out->organisation, out->org_handle, sizeof out->org_handle);
	use(out, rung, box, object);
	return true;
}

static const struct range_rung range_rungs[] = {
	{.range = RUNG_RANGE_ABUSE_C, .parent = RUNG_PARENT_ABUSE_C, .try = rung_handle,
	 .handle_field = SNAP_F_ABUSE_C, .handle_space = SNAP_KEY_CONTACT, .label = "abuse-c",
	 .mailbox_label = "abuse-mailbox "},
	{.range = RUNG_ORG_ABUSE_C, .parent = RUNG_PARENT_ORG_ABUSE_C, .try = rung_org_abuse_c},
	/* an incident response team's abuse-mailbox or its e-mail (mailbox_of): the trace says neither */
	{.range = RUNG_IRT, .parent = RUNG_PARENT_IRT, .try = rung_handle, .handle_field = SNAP_F_MNT_IRT,
	 .handle_space = SNAP_KEY_IRT, .label = "mnt-irt", .mailbox_label = ""},
	{.range = RUNG_RANGE_EMAIL, .parent = RUNG_PARENT_EMAIL, .try = rung_remarks},
};

/* The rungs of one range; true when one gave a mailbox. */
static bool try_range(const struct owner_context *ctx, const struct attrib_ref *ref, bool parent,
		      struct owner_result *out)
{
	char object[200];
	describe(ref, object, sizeof object);
	for (size_t i = 0; i < ARRAY_SIZE(range_rungs); i++)
		if (range_rungs[i].try(ctx, &range_rungs[i], ref, parent ? range_rungs[i].parent : range_rungs[i].range,
				       object, out))
			return true;
	return false;
}

/* The origin AS's abuse contact: its aut-num's abuse-c, else its organisation's. */
static bool try_as(const struct owner_context *ctx, uint32_t asn, struct owner_result *out)
{
	char key[16], handle[VALUE_BUF], box[VALUE_BUF], object[200], org[VALUE_BUF];
	struct attrib_ref aut, found, org_ref;
	const char *why, *v, *mail = NULL;
	uint32_t cursor = 0;
	size_t len;
	snprintf(key, sizeof key, "AS%u", asn);
	if (attrib_index_key(ctx->index, SNAP_KEY_ASN, key, strlen(key), NULL, &aut) != 0) {
		note(out, "  %s: no aut-num %s in the loaded registry data", owner_rung_names[RUNG_AS_ABUSE],
		     key);
		return false;
	}
	describe(&aut, object, sizeof object);
	while (mail == NULL &&
	       (v = snap_record_next(aut.snap, aut.record, SNAP_F_ABUSE_C, &cursor, &len)) != NULL) {
		snprintf(handle, sizeof handle, "%.*s", (int)len, v);
		mail = mailbox_of(ctx, SNAP_KEY_CONTACT, handle, aut.snap->registry, &found, box, &why);
		note(out, "  %s: %s abuse-c %s %s%s", owner_rung_names[RUNG_AS_ABUSE], object, handle,
		     mail ? "abuse-mailbox " : "", mail ? mail : why);
	}
	field(&aut, SNAP_F_ORG, org);
	if (mail == NULL && org[0] != '\0' &&
	    attrib_index_key(ctx->index, SNAP_KEY_ORG, org, strlen(org), aut.snap->registry, &org_ref) == 0) {
		cursor = 0;
		while (mail == NULL &&
		       (v = snap_record_next(org_ref.snap, org_ref.record, SNAP_F_ABUSE_C, &cursor, &len))) {
			snprintf(handle, sizeof handle, "%.*s", (int)len, v);
			mail = mailbox_of(ctx, SNAP_KEY_CONTACT, handle, org_ref.snap->registry, &found, box,
					  &why);
			note(out, "  %s: %s org %s abuse-c %s %s%s", owner_rung_names[RUNG_AS_ABUSE], key,
			     org, handle, mail ? "abuse-mailbox " : "", mail ? mail : why);
		}
	}
	if (mail == NULL) {
		note(out, "  %s: %s gives no abuse-mailbox", owner_rung_names[RUNG_AS_ABUSE], object);
		return false;
	}
	char name[VALUE_BUF];
	struct attrib_ref named;
	if (out->collecting) {
		use(out, RUNG_AS_ABUSE, mail, object);
		return true;
	}
	if (org[0] != '\0' &&
	    attrib_index_key(ctx->index, SNAP_KEY_ORG, org, strlen(org), aut.snap->registry, &named) == 0 &&
	    field(&named, SNAP_F_NAME, name)[0] != '\0') {
		snprintf(out->organisation, sizeof out->organisation, "%s", name);
		copy(out->org_handle, sizeof out->org_handle, org);
	} else {
		snprintf(out->organisation, sizeof out->organisation, "%s %s", key,
			 field(&aut, SNAP_F_NAME, name));
	}
	use(out, RUNG_AS_ABUSE, mail, object);
	return true;
}

static void set_country(struct owner_result *out, const char *cc, const char *from)
{
	/* ZZ (unknown) and EU (a region) name no jurisdiction: a parent or the AS may */
	if (out->country[0] != '\0' || strlen(cc) != 2 || strcasecmp(cc, "ZZ") == 0 || strcasecmp(cc, "EU") == 0)
		return;
	out->country[0] = (char)(cc[0] >= 'a' && cc[0] <= 'z' ? cc[0] - 32 : cc[0]);
	out->country[1] = (char)(cc[1] >= 'a' && cc[1] <= 'z' ? cc[1] - 32 : cc[1]);
	out->country[2] = '\0';
	snprintf(out->country_from, sizeof out->country_from, "%s", from);
}

/* Origin AS from the most specific route, and its name. */
static void find_origin(const struct owner_context *ctx, const struct addr *a, struct owner_result *out,
			uint32_t origins[PFX2AS_MAX_ORIGINS], size_t *count)
{
	struct attrib_ref routes[ATTRIB_MAX_CHAIN];
	char text[VALUE_BUF], range[100], where[200];
	*count = 0;
	if (attrib_index_chain(ctx->index, SNAP_KIND_PFX2AS, a, routes, 1) == 0) {
		note(out, "origin: no route in the loaded prefix-to-AS data holds it");
		return;
	}
	field(&routes[0], SNAP_F_ORIGIN, text);
	for (const char *p = text; *p && *count < PFX2AS_MAX_ORIGINS;) {
		size_t n = strcspn(p, "_,");
		if (asn_parse(p, n, &origins[*count]) == 0)
			(*count)++;
		p += n + (p[n] != '\0');
	}
	if (*count == 0)
		return;
	out->asn = origins[0];
	char key[16], name[VALUE_BUF];
	struct attrib_ref named;
	snprintf(key, sizeof key, "AS%u", out->asn);
	if (attrib_index_key(ctx->index, SNAP_KEY_ASNAME, key, strlen(key), NULL, &named) == 0 &&
	    snap_record_class(named.snap, named.record) == SNAP_ASNAME)
		snprintf(out->as_name, sizeof out->as_name, "%s", field(&named, SNAP_F_NAME, name));
	else if (attrib_index_key(ctx->index, SNAP_KEY_ASN, key, strlen(key), NULL, &named) == 0)
		snprintf(out->as_name, sizeof out->as_name, "%s", field(&named, SNAP_F_NAME, name));
	note(out, "origin: %s %s%s(route %s, %s%s%s)", key, out->as_name, out->as_name[0] ? " " : "",
	     range_format(routes[0].range, range, sizeof range),
	     attrib_ref_where(&routes[0], where, sizeof where), *count > 1 ? ", origins " : "",
	     *count > 1 ? text : "");
}

/* What the ladder's steps learn about one address, for the steps after them. */
struct ladder {
	const struct owner_context *ctx;
	const struct addr *address;
	struct attrib_ref ranges[ATTRIB_MAX_CHAIN]; /* registered ranges holding it, the smallest first */
	size_t n;
	struct attrib_ref delegated[1];
	size_t nd;
	struct store_rdap_net net;
	bool have_net;
};

/* The registered ranges, smallest first: each gives a country, and its rungs (range_rungs) are tried. */
static void step_ranges(struct ladder *l, struct owner_result *out)
{
	struct attrib_ref chain[ATTRIB_MAX_CHAIN];
	char range[100], object[200];
	size_t total = attrib_index_chain(l->ctx->index, SNAP_KIND_RPSL, l->address, chain, ATTRIB_MAX_CHAIN);
	for (size_t i = 0; i < total; i++) {
		if (is_placeholder(&chain[i]))
			note(out, "skip %s %s: a placeholder for space the registry does not manage",
			     range_format(chain[i].range, range, sizeof range),
			     describe(&chain[i], object, sizeof object));
		else
			l->ranges[l->n++] = chain[i];
	}
	if (l->n == 0)
		note(out, "no registered range in the loaded registry data holds it");
	else
		range_format(l->ranges[0].range, out->range, sizeof out->range);
	for (size_t i = 0; i < l->n; i++) {
		note(out, "%s %s %s", i == 0 ? "range " : "parent", range_format(l->ranges[i].range, range, sizeof range),
		     describe(&l->ranges[i], object, sizeof object));
		char cc[VALUE_BUF];
		if (field(&l->ranges[i], SNAP_F_COUNTRY, cc)[0] != '\0')
			set_country(out, cc, i == 0 ? "range country" : "parent range country");
		if (out->rung == RUNG_LAST)
			try_range(l->ctx, &l->ranges[i], i > 0, out);
	}
}

/* The RIR's delegated statistics: a country, and a holder's name. */
static void step_delegated(struct ladder *l, struct owner_result *out)
{
	char range[100], object[200];
	l->nd = attrib_index_chain(l->ctx->index, SNAP_KIND_DELEGATED, l->address, l->delegated, 1);
	if (l->nd == 0)
		return;
	char cc[VALUE_BUF], holder[VALUE_BUF], reg[VALUE_BUF];
	field(&l->delegated[0], SNAP_F_COUNTRY, cc);
	field(&l->delegated[0], SNAP_F_HOLDER, holder);
	field(&l->delegated[0], SNAP_F_REGISTRY, reg);
	note(out, "delegated %s %s %s%s%s (%s)", range_format(l->delegated[0].range, range, sizeof range), reg,
	     cc[0] ? cc : "no country", holder[0] ? " holder " : "", holder,
	     attrib_ref_where(&l->delegated[0], object, sizeof object));
	set_country(out, cc, "delegated statistics");
}

/* The smallest range's organisation: a country. */
static void step_org_country(struct ladder *l, struct owner_result *out)
{
	char org[VALUE_BUF], cc[VALUE_BUF];
	struct attrib_ref org_ref;
	if (l->n > 0 && field(&l->ranges[0], SNAP_F_ORG, org)[0] != '\0' &&
	    attrib_index_key(l->ctx->index, SNAP_KEY_ORG, org, strlen(org), l->ranges[0].snap->registry, &org_ref) == 0)
		set_country(out, field(&org_ref, SNAP_F_COUNTRY, cc), "organisation country");
}

/* Rung rdap-abuse: the registry's RDAP answer, asked only when the bulk data gave no mailbox. */
static void step_rdap(struct ladder *l, struct owner_result *out)
{
	char text[ADDR_STRLEN], object[200], value[VALUE_BUF];
	if (l->ctx->rdap == NULL || out->rung != RUNG_LAST)
		return;
	struct store_rdap_net *net = &l->net;
	int rc = rdap_lookup(l->ctx->rdap, l->address, net);
	out->rdap_used = true;
	if (rc != 1) {
		note(out, "rdap: %s", rc == 0 ? "no network registered (or no registry serves it)" : "lookup failed");
		return;
	}
	l->have_net = true;
	snprintf(object, sizeof object, "rdap %.60s %.60s (%.70s)", net->handle, net->name, net->url);
	note(out, "rdap: %s %s-%s country %s", object, addr_format(&net->range.first, text),
	     addr_format(&net->range.last, value), net->country[0] ? net->country : "none");
	set_country(out, net->country, "RDAP");
	if (net->abuse[0] != '\0') {
		snprintf(out->organisation, sizeof out->organisation, "%s", net->org[0] ? net->org : net->name);
		use(out, RUNG_RDAP_ABUSE, net->abuse, object);
	} else {
		note(out, "  %s: the answer names no abuse entity", owner_rung_names[RUNG_RDAP_ABUSE]);
	}
	if (out->range[0] == '\0')
		range_format(&net->range, out->range, sizeof out->range);
}

/* Rung as-abuse: the origin AS of the most specific route; and its country. */
static void step_as(struct ladder *l, struct owner_result *out)
{
	uint32_t origins[PFX2AS_MAX_ORIGINS];
	size_t origin_count;
	find_origin(l->ctx, l->address, out, origins, &origin_count);
	for (size_t i = 0; i < origin_count && out->rung == RUNG_LAST; i++)
		try_as(l->ctx, origins[i], out);
	if (out->asn != 0) {
		char key[16], cc[VALUE_BUF];
		struct attrib_ref named;
		snprintf(key, sizeof key, "AS%u", out->asn);
		if (attrib_index_key(l->ctx->index, SNAP_KEY_ASNAME, key, strlen(key), NULL, &named) == 0)
			set_country(out, field(&named, SNAP_F_COUNTRY, cc), "AS country");
	}
}

/* The agency for the country; rung agency: its national contact, when no rung above gave a mailbox. */
static void step_agency(struct ladder *l, struct owner_result *out)
{
	char object[200], value[VALUE_BUF];
	out->agency = agencies_for_country(l->ctx->agencies, out->country);
	bool jurisdiction = false;
	for (size_t i = 0; i < out->agency->country_count; i++)
		jurisdiction |= strcmp(out->agency->countries[i], out->country) == 0;
	note(out, "country: %s (%s); agency %s%s", out->country[0] ? out->country : "unknown",
	     out->country[0] ? out->country_from : "no data says", out->agency->short_name,
	     jurisdiction ? "" : ", the lead agency: no participant's jurisdiction");
	if (out->rung != RUNG_LAST)
		return;
	const struct store_rdap_net *net = &l->net;
	if (l->n > 0)
		holder_of(l->ctx, &l->ranges[0], out->organisation, sizeof out->organisation, out->org_handle,
			  sizeof out->org_handle);
	else if (l->have_net && (net->org[0] || net->name[0]))
		snprintf(out->organisation, sizeof out->organisation, "%s", net->org[0] ? net->org : net->name);
	else if (l->nd > 0 && field(&l->delegated[0], SNAP_F_HOLDER, value)[0] != '\0') {
		char reg[VALUE_BUF];
		snprintf(out->organisation, sizeof out->organisation, "%.40s holder %.200s",
			 field(&l->delegated[0], SNAP_F_REGISTRY, reg), value);
	} else if (out->asn != 0)
		snprintf(out->organisation, sizeof out->organisation, "AS%u %s", out->asn, out->as_name);
	else
		snprintf(out->organisation, sizeof out->organisation, "unregistered");
	snprintf(object, sizeof object, "agency %s (national contact for %s)", out->agency->short_name,
		 out->country[0] ? out->country : "no known country");
	use(out, RUNG_AGENCY, out->agency->contact, object);
}

/*
 * The ladder, top to bottom: each step adds to the trace, may set the
 * country (the first source that names one wins) and may be a rung (or, for
 * the ranges, a set of rungs: range_rungs); a rung is tried only while no
 * rung above it gave a mailbox.
 */
static void (*const ladder_steps[])(struct ladder *l, struct owner_result *out) = {
	step_ranges, step_delegated, step_org_country, step_rdap, step_as, step_agency,
};

/*
 * The second walk, once the contact is known: every rung of the ranges and
 * the AS again, in the same order, each mailbox that is not the contact a
 * further one. RDAP is not asked again (its abuse entity, when it gave the
 * contact, is the contact).
 */
static void collect_further(struct ladder *l, struct owner_result *out)
{
	if (out->rung == RUNG_AGENCY)
		return; /* the last rung: nothing below it */
	/* the rungs above the contact's gave no mailbox (the first walk stopped at it), and
	 * use() skips the contact itself: every mailbox found is below it */
	out->collecting = true;
	/* the rungs name the holder as they go: the owner stays the first walk's */
	char organisation[sizeof out->organisation], org_handle[sizeof out->org_handle], object[200];
	memcpy(organisation, out->organisation, sizeof organisation);
	memcpy(org_handle, out->org_handle, sizeof org_handle);
	for (size_t i = 0; i < l->n; i++) {
		describe(&l->ranges[i], object, sizeof object);
		for (size_t r = 0; r < ARRAY_SIZE(range_rungs); r++)
			range_rungs[r].try(l->ctx, &range_rungs[r], &l->ranges[i],
					   i > 0 ? range_rungs[r].parent : range_rungs[r].range, object, out);
	}
	uint32_t origins[PFX2AS_MAX_ORIGINS];
	size_t origin_count = 0;
	find_origin(l->ctx, l->address, out, origins, &origin_count);
	for (size_t i = 0; i < origin_count; i++)
		try_as(l->ctx, origins[i], out);
	memcpy(out->organisation, organisation, sizeof organisation);
	memcpy(out->org_handle, org_handle, sizeof org_handle);
	out->collecting = false;
}

int owner_resolve(const struct owner_context *ctx, const struct addr *a, struct owner_result *out)
{
	char text[ADDR_STRLEN];
	memset(out, 0, sizeof *out);
	out->rung = RUNG_LAST;
	if (ctx->agencies == NULL || ctx->agencies->lead == NULL)
		return -1;
	note(out, "address %s", addr_format(a, text));
	struct ladder l = {.ctx = ctx, .address = a};
	for (size_t i = 0; i < ARRAY_SIZE(ladder_steps); i++)
		ladder_steps[i](&l, out);
	note(out, "owner: %s <%s>, %s", out->organisation, out->contact, owner_rung_names[out->rung]);
	collect_further(&l, out);
	for (size_t i = 0; i < out->further_count; i++)
		note(out, "  further %zu: %s <%s>", i + 1, owner_rung_names[out->further[i].rung],
		     out->further[i].contact);
	return 0;
}
