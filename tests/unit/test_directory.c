/* SPDX-License-Identifier: ISC */
/*
 * The directory: its configuration section (src/policy/policy_config.c),
 * with its presets, bounds and the files it names.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/errors.h"
#include "policy/policy.h"
#include "tap.h"

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
	policy_config_free(&cfg);
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

static char *
replace_once(const char *text, const char *find, const char *repl)
{
	const char *p = strstr(text, find);
	size_t pre, len;
	char *out;

	if (p == NULL)
		return NULL;
	pre = (size_t)(p - text);
	len = strlen(text) - strlen(find) + strlen(repl);
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(out, text, pre);
	memcpy(out + pre, repl, strlen(repl));
	strcpy(out + pre + strlen(repl), p + strlen(find));
	return out;
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
	RUN(active_directory_preset_fills_the_attributes);
	RUN(openldap_preset_fills_the_attributes);
	RUN(ldap_uri_defaults_to_starttls_and_attributes_override);
	RUN(broken_directory_sections_fail_naming_the_key);
	RUN(password_file_must_be_0600_and_the_daemons);
	free(shipped);
	TAP_EXIT();
}
