/* SQL for attribution: registry snapshots, the RDAP cache, owners and attributions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/store_internal.h"
#include "core/util.h"

#define PART_CHUNK (8u << 20) /* bytes per stored blob row: big enough to be few, small enough to page */

#define OWNERS_SELECT \
	"SELECT o.id AS owner, o.organisation, o.org_handle, o.abuse, o.country, o.agency," \
	" count(*) AS hosts," \
	" sum(coalesce(f.verdict IN ('open-relay', 'open-proxy-mail', 'open-proxy-web'), 0)) AS open" \
	" FROM owners o JOIN attributions a ON a.owner_id = o.id" \
	" LEFT JOIN findings f ON f.candidate_id = a.candidate_id GROUP BY o.id"

const char *const store_attrib_sql[STMT_COUNT] = {
	[STMT_SNAPSHOT_DELETE] = "DELETE FROM attrib_snapshots WHERE source = ?1",
	[STMT_SNAPSHOT_INSERT] =
	    "INSERT INTO attrib_snapshots(source, format, registry, file, loaded, bytes, objects, ranges, keys,"
	    " malformed, skipped) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id",
	/*
	 * Every attribution rests on every snapshot loaded when it was made (the
	 * index holds them all), so a snapshot replaced or removed makes them all
	 * stale: they are dropped in the same transaction, and 'attribute' redoes
	 * them. What a migration could add to redo only those whose sources changed,
	 * and keep the old rows visible (marked stale) meanwhile (PROPOSED, not
	 * applied: migrations are another change's this round):
	 *   CREATE TABLE attrib_runs(id INTEGER PRIMARY KEY, started INTEGER NOT NULL);
	 *   CREATE TABLE attrib_run_snapshots(
	 *     run_id INTEGER NOT NULL REFERENCES attrib_runs(id), source TEXT NOT NULL,
	 *     loaded INTEGER NOT NULL, PRIMARY KEY(run_id, source)) WITHOUT ROWID;
	 *   ALTER TABLE attributions ADD COLUMN run_id INTEGER REFERENCES attrib_runs(id);
	 * (stale: a run whose (source, loaded) pairs differ from attrib_snapshots').
	 */
	[STMT_ATTRIBUTIONS_FORGET] = "DELETE FROM attributions",
	[STMT_PART_INSERT] =
	    "INSERT INTO attrib_snapshot_parts(snapshot_id, part, seq, data) VALUES(?1, ?2, ?3, ?4)",
	[STMT_SNAPSHOT_LIST] =
	    "SELECT id, source, format, coalesce(registry, ''), file, loaded, bytes, objects, ranges, keys,"
	    " malformed, skipped FROM attrib_snapshots ORDER BY id",
	[STMT_PART_LIST] =
	    "SELECT id, part, length(data) FROM attrib_snapshot_parts WHERE snapshot_id = ?1 ORDER BY part, seq",
	[STMT_SNAPSHOT_ROWS] =
	    "SELECT source, format, registry, file,"
	    " strftime('%Y-%m-%dT%H:%M:%SZ', loaded, 'unixepoch') AS loaded, bytes, objects, ranges, keys,"
	    " malformed, skipped FROM attrib_snapshots ORDER BY source",
	[STMT_RDAP_GET] =
	    "SELECT first, last, registry, status, handle, name, country, org, abuse, parent, url, fetched, expires"
	    " FROM rdap_cache WHERE first <= ?1 AND last >= ?1 AND expires > ?2"
	    " ORDER BY first DESC, last ASC LIMIT 1",
	[STMT_RDAP_DELETE] = "DELETE FROM rdap_cache WHERE first = ?1 AND last = ?2",
	[STMT_RDAP_INSERT] =
	    "INSERT INTO rdap_cache(first, last, registry, status, handle, name, country, org, abuse, parent, url,"
	    " fetched, expires) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[STMT_ATTRIBUTION_PENDING] =
	    "SELECT f.candidate_id, c.address FROM findings f JOIN candidates c ON c.id = f.candidate_id"
	    " WHERE ?1 OR NOT EXISTS (SELECT 1 FROM attributions a WHERE a.candidate_id = f.candidate_id)"
	    " ORDER BY c.address, f.candidate_id",
	[STMT_OWNER_UPSERT] =
	    "INSERT INTO owners(organisation, abuse, org_handle, country, agency, first_seen)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(organisation, abuse) DO UPDATE"
	    " SET org_handle = coalesce(owners.org_handle, excluded.org_handle) RETURNING id",
	[STMT_ATTRIBUTION_UPSERT] =
	    "INSERT INTO attributions(candidate_id, owner_id, range, object, contact, rung, asn, as_name,"
	    " country, agency, method, attributed, further)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
	    " ON CONFLICT(candidate_id) DO UPDATE SET owner_id = excluded.owner_id, range = excluded.range,"
	    " object = excluded.object, contact = excluded.contact, rung = excluded.rung, asn = excluded.asn,"
	    " as_name = excluded.as_name, country = excluded.country, agency = excluded.agency,"
	    " method = excluded.method, attributed = excluded.attributed, further = excluded.further",
	[STMT_OWNERS] = OWNERS_SELECT " ORDER BY hosts DESC, o.id",
	[STMT_OWNERS_OPEN] = OWNERS_SELECT " HAVING open > 0 ORDER BY open DESC, hosts DESC, o.id",
	[STMT_ATTRIBUTION_COUNTS] =
	    "SELECT (SELECT count(*) FROM attributions),"
	    " (SELECT count(*) FROM attributions WHERE method = 'rdap'),"
	    " (SELECT count(*) FROM findings f"
	    "  WHERE NOT EXISTS (SELECT 1 FROM attributions a WHERE a.candidate_id = f.candidate_id))",
	[STMT_ATTRIBUTIONS] =
	    "SELECT a.owner_id AS owner, c.address, c.port, f.verdict, a.rung, a.contact, o.organisation,"
	    " a.range, a.object, a.asn, a.as_name, a.country, a.agency, a.method"
	    " FROM attributions a JOIN candidates c ON c.id = a.candidate_id"
	    " JOIN owners o ON o.id = a.owner_id LEFT JOIN findings f ON f.candidate_id = a.candidate_id"
	    " ORDER BY a.owner_id, c.id",
};

static int exec_plain(struct store *store, const char *sql)
{
	if (sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_error(store, sql);
	return 0;
}

static int forget_attributions(struct store *store)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_ATTRIBUTIONS_FORGET);
	return stmt == NULL ? -1 : store_step_done(store, stmt);
}

int store_registry_replace(struct store *store, const struct store_snapshot_info *info,
			   const struct store_blob *parts, size_t count)
{
	if (store_begin(store) != 0)
		return -1;
	sqlite3_stmt *del = store_statement(store, STMT_SNAPSHOT_DELETE);
	if (del == NULL)
		goto fail;
	store_bind_text(del, 1, info->source);
	if (store_step_done(store, del) != 0)
		goto fail;
	sqlite3_stmt *ins = store_statement(store, STMT_SNAPSHOT_INSERT);
	if (ins == NULL)
		goto fail;
	store_bind_text(ins, 1, info->source);
	store_bind_text(ins, 2, info->format);
	store_bind_text(ins, 3, info->registry[0] ? info->registry : NULL);
	store_bind_text(ins, 4, info->file);
	sqlite3_bind_int64(ins, 5, info->loaded);
	sqlite3_bind_int64(ins, 6, info->bytes);
	sqlite3_bind_int64(ins, 7, info->objects);
	sqlite3_bind_int64(ins, 8, info->ranges);
	sqlite3_bind_int64(ins, 9, info->keys);
	sqlite3_bind_int64(ins, 10, info->malformed);
	sqlite3_bind_int64(ins, 11, info->skipped);
	int64_t id = store_step_int64(store, ins);
	if (id < 0 || forget_attributions(store) != 0)
		goto fail;
	for (size_t i = 0; i < count; i++) {
		const uint8_t *data = parts[i].data;
		for (size_t off = 0, seq = 0; off < parts[i].len; off += PART_CHUNK, seq++) {
			size_t n = parts[i].len - off < PART_CHUNK ? parts[i].len - off : PART_CHUNK;
			sqlite3_stmt *part = store_statement(store, STMT_PART_INSERT);
			if (part == NULL)
				goto fail;
			sqlite3_bind_int64(part, 1, id);
			store_bind_text(part, 2, parts[i].name);
			sqlite3_bind_int64(part, 3, (int64_t)seq);
			sqlite3_bind_blob64(part, 4, data + off, n, SQLITE_STATIC);
			int rc = store_step_done(store, part);
			sqlite3_clear_bindings(part); /* the data is the caller's: drop the pointer */
			if (rc != 0)
				goto fail;
		}
	}
	return store_commit(store);
fail:
	store_rollback(store);
	return -1;
}

int store_registry_remove(struct store *store, const char *source)
{
	if (store_begin(store) != 0)
		return -1;
	sqlite3_stmt *del = store_statement(store, STMT_SNAPSHOT_DELETE);
	if (del == NULL)
		goto fail;
	store_bind_text(del, 1, source);
	if (store_step_done(store, del) != 0)
		goto fail;
	int removed = sqlite3_changes(store->db) > 0;
	if ((removed && forget_attributions(store) != 0) || store_commit(store) != 0)
		goto fail;
	return removed;
fail:
	store_rollback(store);
	return -1;
}

static int read_parts(struct store *store, struct store_snapshot *s)
{
	struct {
		int64_t rowid;
		size_t len;
		char name[16];
	} rows[1024];
	size_t nrows = 0;
	sqlite3_stmt *list = store_statement(store, STMT_PART_LIST);
	if (list == NULL)
		return -1;
	sqlite3_bind_int64(list, 1, s->info.id);
	int rc;
	while ((rc = sqlite3_step(list)) == SQLITE_ROW) {
		if (nrows == ARRAY_SIZE(rows)) {
			sqlite3_reset(list);
			log_error("%s: snapshot %s has too many parts", store->path, s->info.source);
			return -1;
		}
		rows[nrows].rowid = sqlite3_column_int64(list, 0);
		store_column_copy(list, 1, rows[nrows].name, sizeof rows[nrows].name);
		rows[nrows].len = (size_t)sqlite3_column_int64(list, 2);
		nrows++;
	}
	sqlite3_reset(list);
	if (rc != SQLITE_DONE)
		return store_error(store, "listing snapshot parts");
	/* Sizes first, then one buffer per part filled straight from the blobs. */
	for (size_t i = 0; i < nrows; i++) {
		struct store_blob *part = NULL;
		for (size_t p = 0; p < s->part_count; p++)
			if (strcmp(s->parts[p].name, rows[i].name) == 0)
				part = &s->parts[p];
		if (part == NULL) {
			if (s->part_count == STORE_SNAPSHOT_MAX_PARTS) {
				log_error("%s: snapshot %s has too many kinds of parts", store->path,
					  s->info.source);
				return -1;
			}
			part = &s->parts[s->part_count++];
			part->name = strdup(rows[i].name);
			if (part->name == NULL)
				return -1;
		}
		part->len += rows[i].len;
	}
	for (size_t p = 0; p < s->part_count; p++) {
		s->parts[p].data = malloc(s->parts[p].len ? s->parts[p].len : 1);
		if (s->parts[p].data == NULL) {
			log_error("out of memory reading snapshot %s", s->info.source);
			return -1;
		}
		s->parts[p].len = 0;
	}
	for (size_t i = 0; i < nrows; i++) {
		struct store_blob *part = NULL;
		for (size_t p = 0; p < s->part_count; p++)
			if (strcmp(s->parts[p].name, rows[i].name) == 0)
				part = &s->parts[p];
		sqlite3_blob *blob = NULL;
		if (sqlite3_blob_open(store->db, "main", "attrib_snapshot_parts", "data", rows[i].rowid, 0,
				      &blob) != SQLITE_OK ||
		    sqlite3_blob_read(blob, (uint8_t *)part->data + part->len, (int)rows[i].len, 0) !=
			SQLITE_OK) {
			sqlite3_blob_close(blob);
			return store_error(store, "reading a snapshot part");
		}
		sqlite3_blob_close(blob);
		part->len += rows[i].len;
	}
	return 0;
}

int store_registry_read(struct store *store, struct store_snapshot **out, size_t *count)
{
	struct store_snapshot *list = NULL;
	size_t n = 0, cap = 0;
	bool own_transaction = sqlite3_get_autocommit(store->db);
	 *out = NULL;
	 *count = 0;
	/* One read transaction: a load committing meanwhile is seen whole or not at all. */
	if (own_transaction && exec_plain(store, "BEGIN") != 0)
		return -1;
	sqlite3_stmt *stmt = store_statement(store, STMT_SNAPSHOT_LIST);
	int rc = stmt ? SQLITE_ROW : SQLITE_ERROR;
	while (stmt != NULL && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			size_t wanted = cap ? cap * 2 : 8;
			struct store_snapshot *grown = realloc(list, wanted * sizeof *grown);
			if (grown == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			list = grown;
			cap = wanted;
		}
		struct store_snapshot *s = &list[n++];
		memset(s, 0, sizeof *s);
		s->info.id = sqlite3_column_int64(stmt, 0);
		store_column_copy(stmt, 1, s->info.source, sizeof s->info.source);
		store_column_copy(stmt, 2, s->info.format, sizeof s->info.format);
		store_column_copy(stmt, 3, s->info.registry, sizeof s->info.registry);
		store_column_copy(stmt, 4, s->info.file, sizeof s->info.file);
		int64_t *counts[] = {&s->info.loaded, &s->info.bytes,	  &s->info.objects, &s->info.ranges,
				     &s->info.keys,   &s->info.malformed, &s->info.skipped};
		for (int c = 0; c < 7; c++)
			*counts[c] = sqlite3_column_int64(stmt, 5 + c);
	}
	if (stmt != NULL)
		sqlite3_reset(stmt);
	int result = rc == SQLITE_DONE ? 0 : store_error(store, "listing snapshots");
	for (size_t i = 0; result == 0 && i < n; i++)
		result = read_parts(store, &list[i]);
	if (own_transaction)
		exec_plain(store, "COMMIT");
	if (result != 0) {
		store_registry_free(list, n);
		return -1;
	}
	 *out = list;
	 *count = n;
	return 0;
}

void store_registry_free(struct store_snapshot *snapshots, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		for (size_t p = 0; p < snapshots[i].part_count; p++) {
			free((char *)snapshots[i].parts[p].name);
			free(snapshots[i].parts[p].data);
		}
	}
	free(snapshots);
}

int store_registry_each(struct store *store, store_row_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_SNAPSHOT_ROWS);
	return stmt == NULL ? -1 : store_rows_each(store, stmt, fn, ctx);
}

static void column_text(sqlite3_stmt *stmt, int column, char *buf, size_t buflen)
{
	store_column_copy(stmt, column, buf, buflen);
}

static void column_addr(sqlite3_stmt *stmt, int column, struct addr *out)
{
	memset(out, 0, sizeof *out);
	if (sqlite3_column_bytes(stmt, column) == (int)sizeof out->bytes)
		memcpy(out->bytes, sqlite3_column_blob(stmt, column), sizeof out->bytes);
}

int store_rdap_get(struct store *store, const struct addr *address, time_t now, struct store_rdap_net *out)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_RDAP_GET);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_blob(stmt, 1, address->bytes, sizeof address->bytes, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, (int64_t)now);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof *out);
		column_addr(stmt, 0, &out->range.first);
		column_addr(stmt, 1, &out->range.last);
		column_text(stmt, 2, out->registry, sizeof out->registry);
		out->status = sqlite3_column_int(stmt, 3);
		column_text(stmt, 4, out->handle, sizeof out->handle);
		column_text(stmt, 5, out->name, sizeof out->name);
		column_text(stmt, 6, out->country, sizeof out->country);
		column_text(stmt, 7, out->org, sizeof out->org);
		column_text(stmt, 8, out->abuse, sizeof out->abuse);
		column_text(stmt, 9, out->parent, sizeof out->parent);
		column_text(stmt, 10, out->url, sizeof out->url);
		out->fetched = sqlite3_column_int64(stmt, 11);
		out->expires = sqlite3_column_int64(stmt, 12);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(store, "reading the RDAP cache");
	return rc == SQLITE_ROW;
}

static const char *or_null(const char *s)
{
	return s[0] ? s : NULL;
}

int store_rdap_put(struct store *store, const struct store_rdap_net *net)
{
	sqlite3_stmt *del = store_statement(store, STMT_RDAP_DELETE);
	if (del == NULL)
		return -1;
	sqlite3_bind_blob(del, 1, net->range.first.bytes, 16, SQLITE_STATIC);
	sqlite3_bind_blob(del, 2, net->range.last.bytes, 16, SQLITE_STATIC);
	if (store_step_done(store, del) != 0)
		return -1;
	sqlite3_stmt *ins = store_statement(store, STMT_RDAP_INSERT);
	if (ins == NULL)
		return -1;
	sqlite3_bind_blob(ins, 1, net->range.first.bytes, 16, SQLITE_STATIC);
	sqlite3_bind_blob(ins, 2, net->range.last.bytes, 16, SQLITE_STATIC);
	store_bind_text(ins, 3, net->registry);
	sqlite3_bind_int(ins, 4, net->status);
	store_bind_text(ins, 5, or_null(net->handle));
	store_bind_text(ins, 6, or_null(net->name));
	store_bind_text(ins, 7, or_null(net->country));
	store_bind_text(ins, 8, or_null(net->org));
	store_bind_text(ins, 9, or_null(net->abuse));
	store_bind_text(ins, 10, or_null(net->parent));
	store_bind_text(ins, 11, or_null(net->url));
	sqlite3_bind_int64(ins, 12, net->fetched);
	sqlite3_bind_int64(ins, 13, net->expires);
	return store_step_done(store, ins);
}

int store_attribution_pending(struct store *store, bool all, struct store_pending **out, size_t *count)
{
	struct store_pending *list = NULL;
	size_t n = 0, cap = 0;
	 *out = NULL;
	 *count = 0;
	sqlite3_stmt *stmt = store_statement(store, STMT_ATTRIBUTION_PENDING);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int(stmt, 1, all);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(stmt, 1);
		struct addr address;
		if (text == NULL || addr_parse(text, strlen(text), &address) != 0) {
			log_warn("%s: candidate %lld has a bad address '%s'", store->path,
				 (long long)sqlite3_column_int64(stmt, 0), text ? text : "");
			continue;
		}
		if (n == cap) {
			size_t wanted = cap ? cap * 2 : 256;
			struct store_pending *grown = realloc(list, wanted * sizeof *grown);
			if (grown == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			list = grown;
			cap = wanted;
		}
		list[n].candidate_id = sqlite3_column_int64(stmt, 0);
		list[n++].address = address;
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		free(list);
		return store_error(store, "listing findings to attribute");
	}
	 *out = list;
	 *count = n;
	return 0;
}

int64_t store_attribution_put(struct store *store, const struct store_attribution *a)
{
	sqlite3_stmt *owner = store_statement(store, STMT_OWNER_UPSERT);
	if (owner == NULL)
		return -1;
	store_bind_text(owner, 1, a->organisation);
	store_bind_text(owner, 2, a->contact);
	store_bind_text(owner, 3, a->org_handle);
	store_bind_text(owner, 4, a->country);
	store_bind_text(owner, 5, a->agency);
	sqlite3_bind_int64(owner, 6, (int64_t)a->when);
	int64_t owner_id = store_step_int64(store, owner);
	if (owner_id < 0)
		return -1;
	sqlite3_stmt *stmt = store_statement(store, STMT_ATTRIBUTION_UPSERT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, a->candidate_id);
	sqlite3_bind_int64(stmt, 2, owner_id);
	store_bind_text(stmt, 3, a->range);
	store_bind_text(stmt, 4, a->object);
	store_bind_text(stmt, 5, a->contact);
	store_bind_text(stmt, 6, a->rung);
	if (a->asn != 0)
		sqlite3_bind_int64(stmt, 7, a->asn);
	store_bind_text(stmt, 8, a->as_name);
	store_bind_text(stmt, 9, a->country);
	store_bind_text(stmt, 10, a->agency);
	store_bind_text(stmt, 11, a->method);
	sqlite3_bind_int64(stmt, 12, (int64_t)a->when);
	store_bind_text(stmt, 13, a->further);
	return store_step_done(store, stmt) == 0 ? owner_id : -1;
}

int store_owners_each(struct store *store, bool open_only, store_row_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, open_only ? STMT_OWNERS_OPEN : STMT_OWNERS);
	return stmt == NULL ? -1 : store_rows_each(store, stmt, fn, ctx);
}

int store_attribution_counts(struct store *store, struct store_attribution_counts *out)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_ATTRIBUTION_COUNTS);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		out->attributed = sqlite3_column_int64(stmt, 0);
		out->by_rdap = sqlite3_column_int64(stmt, 1);
		out->pending = sqlite3_column_int64(stmt, 2);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? 0 : store_error(store, "counting attributions");
}

int store_attributions_each(struct store *store, store_row_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_ATTRIBUTIONS);
	return stmt == NULL ? -1 : store_rows_each(store, stmt, fn, ctx);
}
