/* SPDX-License-Identifier: ISC */
/*
 * `tapgatectl console invite USER` and `tapgatectl console revoke USER`:
 * an operator invites a console user who is no officer to enrol its
 * security key in the browser (the code is shown once, here), or revokes
 * the user's console credentials and ends its sessions.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/errors.h"
#include "ctl/ctl.h"

int
ctl_console(int argc, char **argv)
{
	const char *what, *user;
	json_t *body, *out = NULL;
	time_t exp;
	int json = 0, r;

	if (argc == 4 && strcmp(argv[3], "--json") == 0) {
		json = 1;
		argc--;
	}
	if (argc != 3 || (strcmp(argv[1], "invite") != 0 &&
	    strcmp(argv[1], "revoke") != 0)) {
		ctl_err("usage: tapgatectl console invite|revoke USER "
		    "[--json]");
		return CTL_EXIT_USAGE;
	}
	what = argv[1];
	user = argv[2];
	if ((body = json_pack("{s:s}", "user", user)) == NULL) {
		ctl_err("console: the user name is not valid UTF-8");
		return CTL_EXIT_USAGE;
	}
	r = ctl_api("POST", strcmp(what, "invite") == 0 ?
	    "/v1/console/invites" : "/v1/console/revoke", body, &out);
	json_decref(body);
	if (r != 0)
		return ctl_exit_code(r);
	if (json)
		ctl_print_json(out);
	else if (strcmp(what, "invite") == 0) {
		exp = (time_t)json_integer_value(json_object_get(out,
		    "expires"));
		printf("invitation for %s: code %s (shown once), valid until "
		    "%s", user, ctl_js(out, "code"), ctime(&exp));
	} else
		printf("%s: %lld console credential(s) revoked, %lld "
		    "session(s) ended\n", user,
		    (long long)json_integer_value(json_object_get(out,
		    "revoked")), (long long)json_integer_value(
		    json_object_get(out, "sessions_ended")));
	json_decref(out);
	return CTL_EXIT_OK;
}
