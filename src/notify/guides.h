/*
 * Fix guides: one per product in data/guides/<name>.txt, the single source
 * of both the letters' plain text and the owners' web pages (HTML).
 *
 * A guide file is a template (notify/template.h) with three values,
 * {{server}} (an address), {{port}} and {{hostport}} ("192.0.2.1:25",
 * "[2001:db8::1]:25"), so the check command names the owner's own host,
 * written in a light markup that reads well as it is:
 *
 *   Title: Postfix                    header lines, then a blank line
 *   Family: relay                     relay or proxy
 *
 *   == Fix                            a heading
 *   Text lines make a paragraph;      (rewrapped at 72 columns in text)
 *   a blank line ends it.
 *   - a list item, whose next lines   (continuation lines indented by two)
 *     are indented by two spaces
 *       postconf -e 'mynetworks = 127.0.0.0/8'   (four spaces: verbatim code)
 *
 * Which guide fits a finding is a table (guides.c): the detected software,
 * else the proxy protocol that proved it, else the verdict's family
 * (generic-relay, generic-proxy).
 */
#ifndef PLUGHOLE_GUIDES_H
#define PLUGHOLE_GUIDES_H

#include <stddef.h>

#include "notify/template.h"
#include "notify/textbuf.h"

enum guide_family { GUIDE_RELAY, GUIDE_PROXY };
enum guide_format { GUIDE_TEXT, GUIDE_HTML };

#define GUIDE_TEXT_WIDTH 72
#define GUIDE_MAX_TITLE 128

/* open-relay and relay-accepted are relay; open-proxy-* are proxy; -1 for the rest. */
int guide_family_of_verdict(const char *verdict, enum guide_family *family);
/*
 * The guide's name for a finding: software as the fingerprints name it
 * (probe/fingerprint.c) or NULL, protocol the probe that proved it (e.g.
 * "wingate", "socks5") or NULL. The name is a static string of the table:
 * equal names are the same pointer.
 */
const char *guide_for(const char *software, const char *protocol, enum guide_family family);
/* Every guide name the table can return, for tests and the web's index. */
extern const char *const guide_names[];
extern const size_t guide_name_count;

/* ---- the markup, parsed as a pure function ---- */

enum guide_block_kind { GUIDE_HEADING, GUIDE_PARAGRAPH, GUIDE_ITEM, GUIDE_CODE };

struct guide_block {
	enum guide_block_kind kind;
	size_t start, len; /* the block's lines in the text, markers and indents included */
};

#define GUIDE_MAX_BLOCKS 256

struct guide_doc {
	char title[GUIDE_MAX_TITLE];
	enum guide_family family;
	struct guide_block blocks[GUIDE_MAX_BLOCKS];
	size_t count;
};

/* Parses text[0..len) (a rendered guide). -1 with err naming file:line on bad markup. */
int guide_markup_parse(const char *file, const char *text, size_t len, struct guide_doc *doc,
		       struct tpl_error *err);
/*
 * Every guide has four sections, "== What we found", "== Why it matters",
 * "== Fix" and "== Check". A letter explains the first two once for all its
 * hosts, so it asks for the actions only: the Fix and Check sections.
 */
#define GUIDE_ACTIONS_ONLY 1u

/* Writes the blocks as wrapped plain text or as HTML (every byte escaped). */
int guide_markup_write(const struct guide_doc *doc, const char *text, enum guide_format format,
		       unsigned flags, struct textbuf *out);

/* ---- loaded guides ---- */

struct guides;

/* Guides are read from dir (data/guides) when first asked for, then kept. */
struct guides *guides_open(const char *dir);
void guides_close(struct guides *g);
/*
 * Renders guide name for the host server:port into out (the body) and
 * title. -1 with err (file:line:column) when the file is missing or bad.
 */
int guides_render(struct guides *g, const char *name, enum guide_format format, unsigned flags,
		  const char *server, const char *port, struct textbuf *out, char title[GUIDE_MAX_TITLE],
		  struct tpl_error *err);

#endif
