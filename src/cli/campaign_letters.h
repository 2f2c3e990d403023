/* What campaign preview and send share: the store, the agencies and a composer for one campaign. */
#ifndef PLUGHOLE_CAMPAIGN_LETTERS_H
#define PLUGHOLE_CAMPAIGN_LETTERS_H

#include "attrib/agencies.h"
#include "cli/cli.h"
#include "store/store.h"
#include "notify/compose.h"

struct campaign_letters {
	struct agencies agencies;
	struct store *store;
	int64_t campaign_id;
	struct composer *composer;
};

/* 0, or -1 (logged: no such campaign, no agencies file, ...). */
int campaign_letters_open(struct cli *cli, const char *verb, const char *name, struct campaign_letters *cl);
void campaign_letters_close(struct campaign_letters *cl);

int campaign_preview(struct cli *cli, int argc, char **argv);
int campaign_send(struct cli *cli, int argc, char **argv);

#endif
