/* SPDX-License-Identifier: ISC */
/*
 * The directory: its configuration section (src/policy/policy_config.c),
 * with its presets, bounds and the files it names; the strict
 * normalisation of account names and the search filter
 * (src/directory/dirname.c).
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/errors.h"
#include "directory/directory.h"
#include "policy/policy.h"
#include "tap.h"
#include "textsub.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define SHIPPED_CONF	"config/tapgate.conf"

static char *shipped;	/* the shipped configuration's text */

/* The shipped configuration with section appended; NULL on failure. */
static char *
with_section(const char *section)
{
	size_t a = strlen(shipped), b = strlen(section);
	char *t;

	if ((t = malloc(a + b + 2)) == NULL)
		return NULL;
	memcpy(t, shipped, a);
	t[a] = '\n';
	memcpy(t + a + 1, section, b + 1);
	return t;
}

/* Load the shipped configuration plus section: the loader's result. */
static int
load(const char *section, struct policy_config **cfg, char *err,
    size_t errlen)
{
	char *t;
	int r;

	if ((t = with_section(section)) == NULL)
		return TG_ERR_NOMEM;
	r = policy_config_load_string(t, cfg, err, errlen);
	free(t);
	return r;
}

#define AD_DIR \
	"directory = { preset = \"active_directory\";\n" \
	"  uri = \"ldaps://dc1.corp.example\";\n" \
	"  ca_file = \"/etc/tapgate/directory-ca.pem\";\n" \
	"  bind = { method = \"simple\";\n" \
	"    dn = \"CN=tapgate,OU=Service,DC=corp,DC=example\";\n" \
	"    password_file = \"/etc/tapgate/directory.pw\"; };\n" \
	"  base = \"DC=corp,DC=example\";\n" \
	"  domain = \"corp.example\"; netbios_domain = \"CORP\"; };\n"

#define OL_DIR \
	"directory = { preset = \"openldap\";\n" \
	"  uri = \"ldap://127.0.0.1:3890\"; tls = \"none\";\n" \
	"  bind = { method = \"simple\"; dn = \"cn=tapgate,dc=corp\";\n" \
	"    password_file = \"/etc/tapgate/directory.pw\"; };\n" \
	"  base = \"ou=people,dc=corp\"; timeout_seconds = 2;\n" \
	"  max_groups = 16; };\n"

/* An integration may ask the directory about agents: with the group. */
static void
helpdesk_group_lets_integrations_ask_the_directory(void)
{
	struct policy_config *cfg = NULL, *plain = NULL;
	const struct policy_principal *root;
	char err[512] = "";
	int r;

	r = load("directory = { preset = \"openldap\";\n"
	    "  uri = \"ldap://127.0.0.1:3890\"; tls = \"none\";\n"
	    "  bind = { method = \"simple\"; dn = \"cn=tapgate,dc=corp\";\n"
	    "    password_file = \"/etc/tapgate/directory.pw\"; };\n"
	    "  base = \"ou=people,dc=corp\";\n"
	    "  helpdesk_group = \"cn=Helpdesk,ou=groups,dc=corp\"; };\n",
	    &cfg, err, sizeof(err));
	if (r != 0)
		printf("#   %s\n", err);
	CHECK_EQ(r, 0);
	CHECK(strcmp(cfg->directory.helpdesk_group,
	    "cn=Helpdesk,ou=groups,dc=corp") == 0);
	/* the shipped configuration's root is an integration */
	root = policy_principal_of(cfg, 0, NULL, 0);
	CHECK(root != NULL && root->integration);
	CHECK(policy_principal_asks_directory(cfg, root));
	CHECK(!policy_principal_may_name(root, "hd-amy"));
	/* without the group, or without a directory, never */
	CHECK_EQ(load(OL_DIR, &plain, NULL, 0), 0);
	CHECK(plain->directory.helpdesk_group[0] == '\0');
	CHECK(!policy_principal_asks_directory(plain,
	    policy_principal_of(plain, 0, NULL, 0)));
	CHECK(!policy_principal_asks_directory(NULL, root));
	CHECK(!policy_principal_asks_directory(cfg, NULL));
	policy_config_free(&plain);
	policy_config_free(&cfg);
}

/* directory.socket: an absolute path, or the directory process is a child */
static void
directory_socket_is_an_absolute_path(void)
{
	struct policy_config *cfg = NULL;
	char err[512] = "";
	int r;

	r = load("directory = { preset = \"openldap\";\n"
	    "  uri = \"ldap://127.0.0.1:3890\"; tls = \"none\";\n"
	    "  bind = { method = \"simple\"; dn = \"cn=tapgate,dc=corp\";\n"
	    "    password_file = \"/etc/tapgate/directory.pw\"; };\n"
	    "  base = \"ou=people,dc=corp\";\n"
	    "  socket = \"/run/tapgate/directory.sock\"; };\n",
	    &cfg, err, sizeof(err));
	if (r != 0)
		printf("#   %s\n", err);
	CHECK_EQ(r, 0);
	CHECK(strcmp(cfg->directory.socket, "/run/tapgate/directory.sock") ==
	    0);
	policy_config_free(&cfg);
	CHECK_EQ(load(OL_DIR, &cfg, NULL, 0), 0);
	CHECK(cfg->directory.socket[0] == '\0');
	policy_config_free(&cfg);
	CHECK(load("directory = { preset = \"openldap\";\n"
	    "  uri = \"ldap://127.0.0.1:3890\"; tls = \"none\";\n"
	    "  bind = { method = \"simple\"; dn = \"cn=tapgate,dc=corp\";\n"
	    "    password_file = \"/etc/tapgate/directory.pw\"; };\n"
	    "  base = \"ou=people,dc=corp\";\n"
	    "  socket = \"run/directory.sock\"; };\n",
	    &cfg, err, sizeof(err)) != 0);
	CHECK(strstr(err, "socket") != NULL);
}

static void
without_a_directory_section_none_is_configured(void)
{
	struct policy_config *cfg = NULL;

	CHECK_EQ(policy_config_load_string(shipped, &cfg, NULL, 0), 0);
	CHECK(!cfg->directory.configured);
	policy_config_free(&cfg);
}

static void
active_directory_preset_fills_the_attributes(void)
{
	struct policy_config *cfg = NULL;
	const struct policy_directory *d;
	char err[512] = "";
	int r;

	r = load(AD_DIR, &cfg, err, sizeof(err));
	if (r != 0)
		printf("#   %s\n", err);
	CHECK_EQ(r, 0);
	d = &cfg->directory;
	CHECK(d->configured);
	CHECK_EQ(d->preset, POLICY_DIR_ACTIVE_DIRECTORY);
	CHECK_EQ(d->tls, POLICY_DIR_TLS_LDAPS);
	CHECK_EQ(d->bind, POLICY_DIR_BIND_SIMPLE);
	CHECK(strcmp(d->attrs.name, "sAMAccountName") == 0);
	CHECK(strcmp(d->attrs.upn, "userPrincipalName") == 0);
	CHECK(strcmp(d->attrs.member_of, "memberOf") == 0);
	CHECK(strcmp(d->attrs.alt_mail, "otherMailbox") == 0);
	CHECK(strcmp(d->attrs.disabled, "userAccountControl") == 0);
	CHECK(strcmp(d->attrs.locked, "lockoutTime") == 0);
	CHECK(strstr(d->filter, "sAMAccountName={name}") != NULL);
	CHECK(strcmp(d->domain, "corp.example") == 0);
	CHECK(strcmp(d->netbios, "CORP") == 0);
	CHECK_EQ(d->timeout_seconds, POLICY_DIR_DEFAULT_TIMEOUT);
	CHECK_EQ(d->max_groups, POLICY_DIR_DEFAULT_GROUPS);
	CHECK_EQ(d->max_fact_age_seconds, POLICY_DIR_DEFAULT_FACT_AGE);
	policy_config_free(&cfg);
}

static void
openldap_preset_fills_the_attributes(void)
{
	struct policy_config *cfg = NULL;
	const struct policy_directory *d;
	char err[512] = "";
	int r;

	r = load(OL_DIR, &cfg, err, sizeof(err));
	if (r != 0)
		printf("#   %s\n", err);
	CHECK_EQ(r, 0);
	d = &cfg->directory;
	CHECK_EQ(d->preset, POLICY_DIR_OPENLDAP);
	CHECK_EQ(d->tls, POLICY_DIR_TLS_NONE);
	CHECK(strcmp(d->attrs.name, "uid") == 0);
	CHECK(d->attrs.upn[0] == '\0');
	CHECK(strcmp(d->attrs.locked, "pwdAccountLockedTime") == 0);
	CHECK(strcmp(d->filter,
	    "(&(objectClass=inetOrgPerson)(uid={name}))") == 0);
	CHECK_EQ(d->timeout_seconds, 2);
	CHECK_EQ(d->max_groups, 16);
	CHECK(d->nested_groups);
	CHECK_EQ(d->max_group_depth, POLICY_DIR_DEFAULT_GROUP_DEPTH);
	policy_config_free(&cfg);
}

/* groups[m] is in groups[g] */
static void
link_groups(struct dir_facts *f, unsigned m, unsigned g)
{
	f->edges[f->nedges].member = m;
	f->edges[f->nedges].group = g;
	f->nedges++;
}

static void
nested_group_sources_are_the_own_groups_that_bring_it(void)
{
	static struct dir_facts f;
	bool from[DIR_MAX_GROUPS];

	/*
	 * own: 0 tier0, 1 tier0b, 2 staff; nested: 3 admins (from 0 and
	 * 1), 4 ring (from 2, and 3 via a cycle 4 -> 5 -> 4), 5 ring2
	 */
	memset(&f, 0, sizeof(f));
	f.ngroups = 6;
	f.ndirect = 3;
	link_groups(&f, 0, 3);
	link_groups(&f, 1, 3);
	link_groups(&f, 2, 4);
	link_groups(&f, 4, 5);
	link_groups(&f, 5, 4);
	dir_group_sources(&f, 3, from);
	CHECK(from[0] && from[1] && !from[2]);
	dir_group_sources(&f, 5, from);
	CHECK(!from[0] && !from[1] && from[2]);
	dir_group_sources(&f, 2, from);	/* an own group brings itself */
	CHECK(!from[0] && !from[1] && from[2]);
	dir_group_sources(&f, 6, from);	/* out of range: none */
	CHECK(!from[0] && !from[1] && !from[2]);
}

static void
ldap_uri_defaults_to_starttls_and_attributes_override(void)
{
	struct policy_config *cfg = NULL;
	char err[512] = "";
	int r;

	r = load("directory = { preset = \"openldap\";\n"
	    "  uri = \"ldap://ldap.corp.example:389/\";\n"
	    "  ca_file = \"/etc/ssl/certs/corp-ca.pem\";\n"
	    "  bind = { method = \"sasl_external\";\n"
	    "    cert_file = \"/etc/tapgate/dir.crt\";\n"
	    "    key_file = \"/etc/tapgate/dir.key\"; };\n"
	    "  base = \"dc=corp\";\n"
	    "  filter = \"(&(objectClass=posixAccount)(uid={name}))\";\n"
	    "  attributes = { mail = \"\"; type = \"businessCategory\"; };\n"
	    "};\n", &cfg, err, sizeof(err));
	if (r != 0)
		printf("#   %s\n", err);
	CHECK_EQ(r, 0);
	CHECK_EQ(cfg->directory.tls, POLICY_DIR_TLS_STARTTLS);
	CHECK_EQ(cfg->directory.bind, POLICY_DIR_BIND_SASL_EXTERNAL);
	CHECK(cfg->directory.attrs.mail[0] == '\0');
	CHECK(strcmp(cfg->directory.attrs.type, "businessCategory") == 0);
	CHECK(strcmp(cfg->directory.attrs.mobile, "mobile") == 0);
	CHECK(strstr(cfg->directory.filter, "posixAccount") != NULL);
	policy_config_free(&cfg);
}

/* A directory section with one edit, and what the error must say. */
static const struct dir_broken {
	const char	*name;
	const char	*find;
	const char	*repl;
	const char	*want1;
	const char	*want2;
} dir_broken[] = {
	{ "no_tls_off_loopback", "127.0.0.1:3890", "10.0.0.5:389",
	    "directory.tls", "loopback" },
	{ "tls_needs_a_ca_file", "tls = \"none\";", "",
	    "directory.ca_file", "missing" },
	{ "unknown_preset", "\"openldap\"", "\"novell\"",
	    "directory.preset", "\"active_directory\" or \"openldap\"" },
	{ "preset_required", "preset = \"openldap\";", "",
	    "directory.preset", "missing" },
	{ "uri_with_a_dn", "3890\"", "3890/dc=corp??sub\"",
	    "directory.uri", "not ldap[s]://HOST" },
	{ "uri_of_another_scheme", "ldap://127", "http://127",
	    "directory.uri", "ldaps://" },
	{ "uri_bad_port", ":3890", ":99999", "directory.uri", "PORT" },
	{ "ldaps_mode_on_ldap_uri", "tls = \"none\";", "tls = \"ldaps\";",
	    "directory.tls", "ldaps://" },
	{ "unknown_tls_mode", "tls = \"none\";", "tls = \"off\";",
	    "directory.tls", "must be" },
	{ "unknown_key", "max_groups", "max_grups", "directory.max_grups",
	    "unknown setting" },
	{ "bind_required", "bind = {", "bnd = {", "directory.bnd",
	    "unknown setting" },
	{ "unknown_bind_method", "\"simple\"", "\"anonymous\"",
	    "directory.bind.method", "must be" },
	{ "simple_bind_needs_a_password_file",
	    "password_file = \"/etc/tapgate/directory.pw\";", "",
	    "directory.bind.password_file", "missing" },
	{ "relative_password_file", "\"/etc/tapgate/directory.pw\"",
	    "\"directory.pw\"", "directory.bind.password_file", "absolute" },
	{ "sasl_external_needs_tls", "\"simple\"; dn = \"cn=tapgate,dc=corp\""
	    ";\n    password_file = \"/etc/tapgate/directory.pw\";",
	    "\"sasl_external\"; cert_file = \"/a.crt\"; key_file = "
	    "\"/a.key\";", "directory.bind", "needs TLS" },
	{ "sasl_keys_in_simple_bind", "method = \"simple\";",
	    "method = \"simple\"; key_file = \"/k\";", "directory.bind",
	    "sasl_external" },
	{ "timeout_zero", "timeout_seconds = 2;", "timeout_seconds = 0;",
	    "directory.timeout_seconds", "between 1 and 30" },
	{ "timeout_too_long", "timeout_seconds = 2;",
	    "timeout_seconds = 600;", "directory.timeout_seconds",
	    "between 1 and 30" },
	{ "too_many_groups", "max_groups = 16;", "max_groups = 100000;",
	    "directory.max_groups", "between 1 and 256" },
	{ "facts_older_than_a_day", "max_groups = 16;",
	    "max_groups = 16; max_fact_age_seconds = 86401;",
	    "directory.max_fact_age_seconds", "between 0 and 86400" },
	{ "filter_without_placeholder", "max_groups = 16;",
	    "max_groups = 16; filter = \"(uid=alice)\";",
	    "directory.filter", "{name} exactly once" },
	{ "filter_with_two_placeholders", "max_groups = 16;",
	    "max_groups = 16; filter = \"(|(uid={name})(cn={name}))\";",
	    "directory.filter", "exactly once" },
	{ "filter_unbalanced", "max_groups = 16;",
	    "max_groups = 16; filter = \"(&(uid={name})\";",
	    "directory.filter", "parentheses" },
	{ "filter_two_filters", "max_groups = 16;",
	    "max_groups = 16; filter = \"(uid={name})(cn=x)\";",
	    "directory.filter", "parentheses" },
	{ "bad_attribute_name", "max_groups = 16;",
	    "max_groups = 16; attributes = { manager = \"man ager\"; };",
	    "directory.attributes.manager", "not an attribute name" },
	{ "name_attribute_cannot_be_off", "max_groups = 16;",
	    "max_groups = 16; attributes = { name = \"\"; };",
	    "directory.attributes.name", "not an attribute name" },
	{ "max_group_depth_zero", "max_groups = 16;",
	    "max_groups = 16; max_group_depth = 0;",
	    "directory.max_group_depth", "" },
	{ "max_group_depth_past_8", "max_groups = 16;",
	    "max_groups = 16; max_group_depth = 9;",
	    "directory.max_group_depth", "" },
	{ "nested_groups_is_a_boolean", "max_groups = 16;",
	    "max_groups = 16; nested_groups = \"yes\";",
	    "directory.nested_groups", "" },
	{ "unknown_attribute", "max_groups = 16;",
	    "max_groups = 16; attributes = { shoe_size = \"x\"; };",
	    "directory.attributes.shoe_size", "unknown attribute" },
	{ "upn_only_on_active_directory", "max_groups = 16;",
	    "max_groups = 16; attributes = { upn = \"mail\"; };",
	    "directory.attributes.upn", "Active Directory" },
	{ "domain_only_on_active_directory", "max_groups = 16;",
	    "max_groups = 16; netbios_domain = \"CORP\";",
	    "directory.netbios_domain", "Active Directory" },
	{ "bad_netbios_domain", "max_groups = 16;",
	    "max_groups = 16; netbios_domain = \"CO\\\\RP\";",
	    "directory.netbios_domain", "NetBIOS" },
	{ "control_character_in_base", "ou=people,dc=corp",
	    "ou=people\\n,dc=corp", "directory.base", "printable" },
};

static void
member_of_off_is_a_group_search_on_openldap_only(void)
{
	struct policy_config *cfg = NULL;
	char err[512] = "", *sec;

	sec = replace_once(OL_DIR, "max_groups = 16;",
	    "max_groups = 16; attributes = { member_of = \"\"; };");
	CHECK(sec != NULL);
	CHECK_EQ(load(sec, &cfg, err, sizeof(err)), 0);
	CHECK(cfg != NULL && cfg->directory.attrs.member_of[0] == '\0');
	policy_config_free(&cfg);
	free(sec);
	sec = replace_once(AD_DIR, "netbios_domain = \"CORP\";",
	    "netbios_domain = \"CORP\"; attributes = { member_of = \"\"; };");
	CHECK(sec != NULL);
	CHECK(load(sec, &cfg, err, sizeof(err)) != 0);
	CHECK(strstr(err, "directory.attributes.member_of") != NULL &&
	    strstr(err, "lists memberOf") != NULL);
	free(sec);
}

static void
broken_directory_sections_fail_naming_the_key(void)
{
	struct policy_config *cfg;
	char err[512], *sec;
	size_t i;
	int r;

	for (i = 0; i < NELEM(dir_broken); i++) {
		const struct dir_broken *b = &dir_broken[i];

		sec = replace_once(OL_DIR, b->find, b->repl);
		if (sec == NULL)
			printf("#   %s: anchor not found\n", b->name);
		CHECK(sec != NULL);
		cfg = NULL;
		err[0] = '\0';
		r = load(sec, &cfg, err, sizeof(err));
		free(sec);
		if (r != TG_ERR_CONFIG || strstr(err, b->want1) == NULL ||
		    strstr(err, b->want2) == NULL)
			printf("#   %s: rc %d, message: %s\n", b->name, r, err);
		CHECK_EQ(r, TG_ERR_CONFIG);
		CHECK(cfg == NULL);
		CHECK(strstr(err, b->want1) != NULL);
		CHECK(strstr(err, b->want2) != NULL);
	}
}

/* Write a file of mode mode; 0 or -1. */
static int
write_file(const char *path, const char *text, mode_t mode)
{
	int fd;

	(void)unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)) == -1)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fchmod(fd, mode) == -1) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void
password_file_must_be_0600_and_the_daemons(void)
{
	char dir[] = "/tmp/tg-dirconf.XXXXXX", pw[64], sec[512];
	char err[512] = "";
	struct policy_config *cfg = NULL;
	int r;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(pw, sizeof(pw), "%s/dir.pw", dir);
	snprintf(sec, sizeof(sec),
	    "directory = { preset = \"openldap\";\n"
	    "  uri = \"ldap://localhost\"; tls = \"none\";\n"
	    "  bind = { method = \"simple\"; dn = \"cn=tg,dc=corp\";\n"
	    "    password_file = \"%s\"; };\n"
	    "  base = \"dc=corp\"; };\n", pw);
	r = load(sec, &cfg, err, sizeof(err));
	if (r != 0)
		printf("#   %s\n", err);
	CHECK_EQ(r, 0);
	/* the shipped trust roots are not this machine's: check ours */
	snprintf(cfg->approvers.trust_roots,
	    sizeof(cfg->approvers.trust_roots), "%s",
	    "tests/fuzz/fuzz_privsep-ca.pem");

	CHECK_EQ(policy_config_check_paths(cfg, err, sizeof(err)),
	    TG_ERR_CONFIG);
	CHECK(strstr(err, "directory.bind.password_file") != NULL);
	CHECK_EQ(write_file(pw, "secret\n", 0640), 0);
	CHECK_EQ(policy_config_check_paths(cfg, err, sizeof(err)),
	    TG_ERR_CONFIG);
	if (strstr(err, "mode 0640") == NULL)
		printf("#   %s\n", err);
	CHECK(strstr(err, "mode 0640, must be 0600") != NULL);
	CHECK_EQ(chmod(pw, 0600), 0);
	r = policy_config_check_paths(cfg, err, sizeof(err));
	if (r != 0)
		printf("#   %s\n", err);
	CHECK_EQ(r, 0);
	/* owned by another uid: only root can make one to test */
	if (geteuid() == 0) {
		CHECK_EQ(chown(pw, 65534, 65534), 0);
		CHECK_EQ(policy_config_check_paths(cfg, err, sizeof(err)),
		    TG_ERR_CONFIG);
		CHECK(strstr(err, "owned by uid 65534") != NULL);
	} else
		printf("# password_file owner case needs root\n");
	CHECK_EQ(unlink(pw), 0);
	CHECK_EQ(rmdir(dir), 0);
	policy_config_free(&cfg);
}


/* ==== names ==== */

static struct policy_config *ad_cfg, *ol_cfg;

/* A name and what it must become on each directory ("" = refused). */
static const struct name_case {
	const char		*what;
	const char		*in;
	const char		*ad;	/* normalised, or NULL: refused */
	enum dir_name_fault	 ad_fault;
	const char		*ol;
	enum dir_name_fault	 ol_fault;
} names[] = {
	{ "plain", "alice", "alice", 0, "alice", 0 },
	{ "inner_space", "Alice Smith", "Alice Smith", 0, "Alice Smith", 0 },
	{ "digits_dots_dashes", "adm-bob.2", "adm-bob.2", 0, "adm-bob.2", 0 },
	{ "trailing_space", "root ", NULL, DIR_NAME_SURROUNDING_SPACE,
	    NULL, DIR_NAME_SURROUNDING_SPACE },
	{ "leading_space", " adm-alice", NULL, DIR_NAME_SURROUNDING_SPACE,
	    NULL, DIR_NAME_SURROUNDING_SPACE },
	{ "trailing_tab", "root\t", NULL, DIR_NAME_CONTROL, NULL,
	    DIR_NAME_CONTROL },
	{ "trailing_no_break_space", "root\xc2\xa0", NULL,
	    DIR_NAME_INVISIBLE, NULL, DIR_NAME_INVISIBLE },
	{ "trailing_ideographic_space", "root\xe3\x80\x80", NULL,
	    DIR_NAME_INVISIBLE, NULL, DIR_NAME_INVISIBLE },
	{ "upn_of_the_domain", "administrator@corp.example", "administrator",
	    0, NULL, 0 },
	{ "upn_domain_ignores_case", "administrator@CORP.Example",
	    "administrator", 0, NULL, 0 },
	{ "upn_of_another_domain", "administrator@evil.example", NULL,
	    DIR_NAME_FOREIGN_DOMAIN, NULL, 0 },
	{ "upn_of_a_subdomain", "administrator@eu.corp.example", NULL,
	    DIR_NAME_FOREIGN_DOMAIN, NULL, 0 },
	{ "upn_twice", "a@corp.example@corp.example", NULL,
	    DIR_NAME_DOMAIN_FORM, NULL, 0 },
	{ "netbios_of_the_domain", "CORP\\administrator", "administrator", 0,
	    NULL, 0 },
	{ "netbios_ignores_case", "corp\\administrator", "administrator", 0,
	    NULL, 0 },
	{ "netbios_of_another_domain", "EVIL\\administrator", NULL,
	    DIR_NAME_FOREIGN_DOMAIN, NULL, 0 },
	{ "both_forms", "CORP\\admin@corp.example", NULL,
	    DIR_NAME_DOMAIN_FORM, NULL, 0 },
	{ "upn_with_empty_account", "@corp.example", NULL, DIR_NAME_EMPTY,
	    NULL, 0 },
	{ "zero_width_space", "ro\xe2\x80\x8bot", NULL, DIR_NAME_FORMAT, NULL,
	    DIR_NAME_FORMAT },
	{ "byte_order_mark", "\xef\xbb\xbfroot", NULL, DIR_NAME_FORMAT, NULL,
	    DIR_NAME_FORMAT },
	{ "right_to_left_override", "root\xe2\x80\xae", NULL, DIR_NAME_FORMAT,
	    NULL, DIR_NAME_FORMAT },
	{ "soft_hyphen", "adm\xc2\xad" "alice", NULL, DIR_NAME_FORMAT, NULL,
	    DIR_NAME_FORMAT },
	{ "cyrillic_a_in_latin", "\xd0\xb0" "dministrator", NULL,
	    DIR_NAME_MIXED_SCRIPT, NULL, DIR_NAME_MIXED_SCRIPT },
	{ "greek_omicron_in_latin", "r\xce\xbfot", NULL,
	    DIR_NAME_MIXED_SCRIPT, NULL, DIR_NAME_MIXED_SCRIPT },
	{ "all_cyrillic", "\xd0\xb0\xd0\xbd\xd0\xbd\xd0\xb0",
	    "\xd0\xb0\xd0\xbd\xd0\xbd\xd0\xb0", 0,
	    "\xd0\xb0\xd0\xbd\xd0\xbd\xd0\xb0", 0 },
	{ "latin_with_accent", "jos\xc3\xa9", "jos\xc3\xa9", 0,
	    "jos\xc3\xa9", 0 },
	{ "decomposed_accent_composed", "jose\xcc\x81", "jos\xc3\xa9", 0,
	    "jos\xc3\xa9", 0 },
	{ "fullwidth_letters", "\xef\xbd\x92\xef\xbd\x8f\xef\xbd\x8f\xef\xbd"
	    "\x94", "root", 0, "root", 0 },
	{ "fullwidth_at_sign", "admin\xef\xbc\xa0" "corp.example", "admin", 0,
	    NULL, 0 },
	{ "ligature", "\xef\xac\x81nance", "finance", 0, "finance", 0 },
	{ "empty", "", NULL, DIR_NAME_EMPTY, NULL, DIR_NAME_EMPTY },
	{ "invalid_utf8", "root\xc3", NULL, DIR_NAME_NOT_UTF8, NULL,
	    DIR_NAME_NOT_UTF8 },
	{ "overlong_utf8_slash", "a\xc0\xaf" "b", NULL, DIR_NAME_NOT_UTF8,
	    NULL, DIR_NAME_NOT_UTF8 },
	{ "encoded_surrogate", "a\xed\xa0\x80", NULL, DIR_NAME_NOT_UTF8, NULL,
	    DIR_NAME_NOT_UTF8 },
	{ "newline", "root\nadmin", NULL, DIR_NAME_CONTROL, NULL,
	    DIR_NAME_CONTROL },
	{ "private_use", "root\xee\x80\x80", NULL, DIR_NAME_INVISIBLE, NULL,
	    DIR_NAME_INVISIBLE },
	{ "filter_characters_kept", "a*)(uid=*", "a*)(uid=*", 0,
	    "a*)(uid=*", 0 },
};

static void
check_name(const struct policy_directory *d, const struct name_case *c,
    const char *want, enum dir_name_fault wfault)
{
	char out[DIR_NAME_MAX + 1] = "untouched";
	enum dir_name_fault f = DIR_NAME_FAULT_COUNT;
	int r;

	r = dir_name_normalize(d, c->in, out, sizeof(out), &f);
	if ((want != NULL) != (r == 0) || (want != NULL &&
	    strcmp(out, want) != 0) || (want == NULL && f != wfault))
		printf("#   %s on %s: rc %d, fault %s, out \"%s\"\n", c->what,
		    d->preset == POLICY_DIR_ACTIVE_DIRECTORY ? "AD" :
		    "OpenLDAP", r, dir_name_fault_code(f), out);
	if (want != NULL) {
		CHECK_EQ(r, 0);
		CHECK_EQ(f, DIR_NAME_OK);
		CHECK(strcmp(out, want) == 0);
		return;
	}
	CHECK_EQ(r, TG_ERR_INVALID);
	CHECK_EQ(f, wfault);
	CHECK(strcmp(out, "untouched") == 0);
	CHECK(strcmp(dir_name_fault_text(f), "?") != 0);
}

static void
each_name_variant_is_mapped_or_refused_saying_why(void)
{
	size_t i;
	int before;

	for (i = 0; i < NELEM(names); i++) {
		const struct name_case *c = &names[i];

		before = tap_failed;
		check_name(&ad_cfg->directory, c, c->ad, c->ad_fault);
		if (tap_failed != before)
			return;
		/* OpenLDAP has no domain forms: the '@' is a character */
		if (c->ol == NULL && c->ol_fault == 0)
			continue;
		check_name(&ol_cfg->directory, c, c->ol, c->ol_fault);
		if (tap_failed != before)
			return;
	}
}

static void
openldap_takes_at_and_backslash_as_characters(void)
{
	char out[DIR_NAME_MAX + 1];
	enum dir_name_fault f;

	CHECK_EQ(dir_name_normalize(&ol_cfg->directory,
	    "administrator@corp.example", out, sizeof(out), &f), 0);
	CHECK(strcmp(out, "administrator@corp.example") == 0);
	CHECK_EQ(dir_name_normalize(&ol_cfg->directory, "CORP\\root", out,
	    sizeof(out), &f), 0);
	CHECK(strcmp(out, "CORP\\root") == 0);
}

static void
active_directory_without_domains_refuses_the_forms(void)
{
	struct policy_directory d = ad_cfg->directory;
	char out[DIR_NAME_MAX + 1];
	enum dir_name_fault f;

	d.domain[0] = d.netbios[0] = '\0';
	CHECK_EQ(dir_name_normalize(&d, "root@corp.example", out,
	    sizeof(out), &f), TG_ERR_INVALID);
	CHECK_EQ(f, DIR_NAME_DOMAIN_FORM);
	CHECK_EQ(dir_name_normalize(&d, "CORP\\root", out, sizeof(out), &f),
	    TG_ERR_INVALID);
	CHECK_EQ(f, DIR_NAME_DOMAIN_FORM);
}

/* a UPN is looked up as itself: its prefix need not be the account */
static void
upn_form_is_kept_whole_for_the_lookup(void)
{
	struct policy_directory d = ad_cfg->directory;
	char out[DIR_UPN_MAX + 1];

	CHECK_EQ(dir_name_upn(&d, "John.Smith@CORP.example", out,
	    sizeof(out)), 1);
	CHECK(strcmp(out, "John.Smith@corp.example") == 0);
	/* fullwidth '@' is '@' after NFKC */
	CHECK_EQ(dir_name_upn(&d, "root\xef\xbc\xa0" "corp.example", out,
	    sizeof(out)), 1);
	CHECK(strcmp(out, "root@corp.example") == 0);
	CHECK_EQ(dir_name_upn(&d, "CORP\\root", out, sizeof(out)), 0);
	CHECK(out[0] == '\0');
	CHECK_EQ(dir_name_upn(&d, "root", out, sizeof(out)), 0);
	CHECK_EQ(dir_name_upn(&d, "root@evil.example", out, sizeof(out)),
	    TG_ERR_INVALID);
	CHECK_EQ(dir_name_upn(&ol_cfg->directory, "root@corp.example", out,
	    sizeof(out)), 0);
	d.attrs.upn[0] = '\0';
	CHECK_EQ(dir_name_upn(&d, "root@corp.example", out, sizeof(out)), 0);
}

static void
names_over_the_bound_are_refused(void)
{
	char in[DIR_INPUT_MAX + 2], out[DIR_NAME_MAX + 1];
	enum dir_name_fault f;

	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	CHECK_EQ(dir_name_normalize(NULL, in, out, sizeof(out), &f),
	    TG_ERR_INVALID);
	CHECK_EQ(f, DIR_NAME_TOO_LONG);
	in[DIR_NAME_MAX + 1] = '\0';	/* fits the input, not a name */
	CHECK_EQ(dir_name_normalize(NULL, in, out, sizeof(out), &f),
	    TG_ERR_INVALID);
	CHECK_EQ(f, DIR_NAME_TOO_LONG);
	in[DIR_NAME_MAX] = '\0';
	CHECK_EQ(dir_name_normalize(NULL, in, out, sizeof(out), &f), 0);
	CHECK_EQ(strlen(out), DIR_NAME_MAX);
	/* ten ligatures of three letters each grow past the bound */
	CHECK_EQ(dir_name_normalize(NULL, "x", out, DIR_NAME_MAX, &f),
	    TG_ERR_INVALID);
}

static void
names_compare_ignoring_case(void)
{
	const struct policy_directory *d = &ad_cfg->directory;

	CHECK(dir_name_same(d, "Administrator", "administrator"));
	CHECK(dir_name_same(d, "STRASSE", "stra\xc3\x9f" "e"));
	CHECK(dir_name_same(&ol_cfg->directory, "Alice", "aLICE"));
	CHECK(!dir_name_same(d, "alice", "alice2"));
	CHECK(!dir_name_same(d, "\xd0\xb0lice", "alice"));
}

static void
filter_escapes_the_name_as_rfc4515_says(void)
{
	char out[DIR_FILTER_MAX + 1];

	CHECK_EQ(dir_filter(&ol_cfg->directory, "alice", out, sizeof(out)),
	    0);
	CHECK(strcmp(out, "(&(objectClass=inetOrgPerson)(uid=alice))") == 0);
	CHECK_EQ(dir_filter(&ol_cfg->directory, "a*)(uid=*\\", out,
	    sizeof(out)), 0);
	CHECK(strcmp(out, "(&(objectClass=inetOrgPerson)"
	    "(uid=a\\2a\\29\\28uid=\\2a\\5c))") == 0);
	CHECK_EQ(dir_filter(&ol_cfg->directory, "jos\xc3\xa9", out,
	    sizeof(out)), 0);
	CHECK(strstr(out, "(uid=jos\\c3\\a9)") != NULL);
	CHECK_EQ(dir_filter(&ol_cfg->directory, "alice", out, 20),
	    TG_ERR_TOO_LONG);
}

/* ==== failing closed, and what values say ==== */

static enum policy_class
class_of(const struct policy_config *cfg, const char *account,
    enum policy_class_source *src)
{
	struct policy_request req;
	struct policy_decision d;

	memset(&req, 0, sizeof(req));
	req.queue = POLICY_QUEUE_PASSWORD_RESET;
	req.account = account;
	req.system = "ldap-corp";
	req.agent = "hd-bob";
	req.requester_channel = "phone";
	if (policy_evaluate(cfg, &req, NULL, 1700000000, &d) != 0)
		return POLICY_CLASS_COUNT;
	*src = d.class_source;
	return d.account_class;
}

/* As class_of, with the directory's facts of an entry in no group. */
static enum policy_class
class_with_facts(const struct policy_config *cfg, const char *account,
    enum policy_class_source *src)
{
	struct policy_dir_facts f = { "uid=zoe,ou=people,dc=corp", NULL, 0,
	    false, NULL, 0 };
	struct policy_request req;
	struct policy_decision d;

	memset(&req, 0, sizeof(req));
	req.queue = POLICY_QUEUE_PASSWORD_RESET;
	req.account = account;
	req.system = "ldap-corp";
	req.agent = "hd-bob";
	req.requester_channel = "phone";
	req.directory = &f;
	if (policy_evaluate(cfg, &req, NULL, 1700000000, &d) != 0)
		return POLICY_CLASS_COUNT;
	*src = d.class_source;
	return d.account_class;
}

static void
contacts_are_masked_never_whole(void)
{
	char out[DIR_VALUE_MAX + 8];

	CHECK_EQ(dir_mask_phone("+44 7700 900123", out, sizeof(out)), 0);
	CHECK(strcmp(out, "+44 " DIR_MASK " 0123") == 0);
	CHECK_EQ(dir_mask_phone("1234567", out, sizeof(out)), 0);
	CHECK(strcmp(out, DIR_MASK) == 0);
	CHECK_EQ(dir_mask_phone("+4412345678", out, sizeof(out)), 0);
	CHECK(strcmp(out, "+44 " DIR_MASK " 5678") == 0);
	CHECK_EQ(dir_mask_mail("alice@corp.example", out, sizeof(out)), 0);
	CHECK(strcmp(out, "a" DIR_MASK "@corp.example") == 0);
	/* a character, not a byte: é is two */
	CHECK_EQ(dir_mask_mail("\xc3\xa9lise@corp.example", out,
	    sizeof(out)), 0);
	CHECK(strcmp(out, "\xc3\xa9" DIR_MASK "@corp.example") == 0);
	CHECK_EQ(dir_mask_mail("nobody", out, sizeof(out)), 0);
	CHECK(strcmp(out, DIR_MASK) == 0);
	CHECK_EQ(dir_mask_mail("@corp.example", out, sizeof(out)), 0);
	CHECK(strcmp(out, DIR_MASK) == 0);
	CHECK_EQ(dir_mask_mail("a\nb@x", out, sizeof(out)), TG_ERR_INVALID);
	CHECK_EQ(dir_mask_phone("+44 7700 900123", out, 8), TG_ERR_INVALID);
}

static void
without_a_directory_an_unnamed_account_is_admin(void)
{
	struct policy_config *none = NULL;
	enum policy_class_source src;
	char *t;

	/* the shipped classes, and one account named standard */
	t = replace_once(shipped, "classes = {\n", "classes = {\n"
	    "standard = { accounts = [\"carol\"]; };\n");
	CHECK(t != NULL);
	CHECK_EQ(policy_config_load_string(t, &none, NULL, 0), 0);
	free(t);
	CHECK_EQ(class_of(none, "zoe", &src), POLICY_CLASS_ADMIN);
	CHECK_EQ(src, POLICY_CLASS_SOURCE_NO_DIRECTORY);
	CHECK_EQ(class_of(none, "Carol", &src), POLICY_CLASS_STANDARD);
	CHECK_EQ(src, POLICY_CLASS_SOURCE_ACCOUNT);
	/* a stricter entry still wins over the standard list */
	CHECK_EQ(class_of(none, "adm-carol", &src), POLICY_CLASS_ADMIN);
	CHECK_EQ(src, POLICY_CLASS_SOURCE_PATTERN);
	/* with a directory, what no entry matches is standard ... */
	CHECK_EQ(class_with_facts(ol_cfg, "zoe", &src),
	    POLICY_CLASS_STANDARD);
	CHECK_EQ(src, POLICY_CLASS_SOURCE_DEFAULT);
	/* ... but only on the directory's facts: none is the strictest */
	CHECK_EQ(class_of(ol_cfg, "zoe", &src), POLICY_CLASS_ADMIN);
	CHECK_EQ(src, POLICY_CLASS_SOURCE_NO_FACTS);
	CHECK(strcmp(policy_class_source_name(
	    POLICY_CLASS_SOURCE_NO_DIRECTORY), "no_directory") == 0);
	policy_config_free(&none);
}

static void
attribute_values_say_disabled_or_locked(void)
{
	CHECK(dir_value_disables("userAccountControl", "514"));
	CHECK(!dir_value_disables("userAccountControl", "512"));
	CHECK(dir_value_disables("useraccountcontrol", "66050"));
	CHECK(dir_value_disables("userAccountControl", "x512"));
	CHECK(!dir_value_locks("userAccountControl", "514"));
	CHECK(dir_value_locks("lockoutTime", "133497000000000000"));
	CHECK(!dir_value_locks("lockoutTime", "0"));
	CHECK(!dir_value_disables("lockoutTime", "1"));
	CHECK(dir_value_disables("pwdAccountLockedTime", "000001010000Z"));
	CHECK(!dir_value_disables("pwdAccountLockedTime",
	    "20261206063000Z"));
	CHECK(dir_value_locks("pwdAccountLockedTime", "20261206063000Z"));
	CHECK(dir_value_disables("nsAccountLock", "TRUE"));
	CHECK(!dir_value_disables("nsAccountLock", "false"));
	CHECK(dir_value_ok("+44 7700 900123", DIR_VALUE_MAX));
	CHECK(!dir_value_ok("a\nb", DIR_VALUE_MAX));
	CHECK(!dir_value_ok("a\xc3", DIR_VALUE_MAX));
	CHECK(!dir_value_ok("abcd", 3));
}

int
main(void)
{
	if ((shipped = calloc(1, POLICY_CONFIG_MAX + 1)) == NULL)
		return 1;
	{
		FILE *f = fopen(SHIPPED_CONF, "r");

		if (f == NULL || fread(shipped, 1, POLICY_CONFIG_MAX - 4096,
		    f) == 0) {
			printf("not ok read_shipped_config\n");
			return 1;
		}
		fclose(f);
	}
	RUN(without_a_directory_section_none_is_configured);
	RUN(helpdesk_group_lets_integrations_ask_the_directory);
	RUN(directory_socket_is_an_absolute_path);
	RUN(active_directory_preset_fills_the_attributes);
	RUN(openldap_preset_fills_the_attributes);
	RUN(ldap_uri_defaults_to_starttls_and_attributes_override);
	RUN(broken_directory_sections_fail_naming_the_key);
	RUN(password_file_must_be_0600_and_the_daemons);
	if (load(AD_DIR, &ad_cfg, NULL, 0) != 0 ||
	    load(OL_DIR, &ol_cfg, NULL, 0) != 0) {
		printf("not ok load_directory_configs\n");
		return 1;
	}
	RUN(each_name_variant_is_mapped_or_refused_saying_why);
	RUN(openldap_takes_at_and_backslash_as_characters);
	RUN(active_directory_without_domains_refuses_the_forms);
	RUN(upn_form_is_kept_whole_for_the_lookup);
	RUN(names_over_the_bound_are_refused);
	RUN(names_compare_ignoring_case);
	RUN(filter_escapes_the_name_as_rfc4515_says);
	RUN(without_a_directory_an_unnamed_account_is_admin);
	RUN(contacts_are_masked_never_whole);
	RUN(attribute_values_say_disabled_or_locked);
	RUN(nested_group_sources_are_the_own_groups_that_bring_it);
	RUN(member_of_off_is_a_group_search_on_openldap_only);
	policy_config_free(&ad_cfg);
	policy_config_free(&ol_cfg);
	free(shipped);
	TAP_EXIT();
}
