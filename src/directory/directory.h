/* SPDX-License-Identifier: ISC */
/*
 * directory: who an account is, as the directory says, never as the
 * caller typed it.  This header is the module's whole contract.
 *
 * Two parts.  dir_name_*: the strict normalisation of the name a caller
 * sent, before anything is looked up (pure: no I/O, no allocation left
 * behind; libunistring's NFKC and character properties).  dir_filter:
 * the LDAP search filter for a normalised name, the value escaped as
 * RFC 4515 says.  struct dir_facts: what one directory entry says about
 * an account, bounded in count and length, as the directory child
 * (src/daemon/dirproc.c) reports it to the monitor.
 */
#ifndef TAPGATE_DIRECTORY_H
#define TAPGATE_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"

/* ---- bounds (bytes, without the NUL) */
#define DIR_NAME_MAX		POLICY_NAME_MAX	/* a normalised name */
#define DIR_INPUT_MAX		POLICY_REQ_STRING_MAX /* what a caller sends */
#define DIR_DN_MAX		512	/* a DN the directory reports */
#define DIR_VALUE_MAX		256	/* a contact or a type value */
#define DIR_MAX_GROUPS		POLICY_DIR_MAX_GROUPS
#define DIR_MAX_CONTACTS	4	/* values kept per contact kind */
#define DIR_MAX_TYPES		8	/* account type values kept */
#define DIR_MAX_EDGES		(4 * DIR_MAX_GROUPS) /* group-in-group links */
#define DIR_FILTER_MAX		(POLICY_DIR_FILTER_MAX + 3 * DIR_NAME_MAX)
#define DIR_UPN_MAX		(DIR_NAME_MAX + 1 + POLICY_DIR_DOMAIN_MAX)

/* Why a name was refused (DIR_NAME_OK: it was not). */
enum dir_name_fault {
	DIR_NAME_OK,
	DIR_NAME_EMPTY,
	DIR_NAME_TOO_LONG,
	DIR_NAME_NOT_UTF8,
	DIR_NAME_CONTROL,	/* a control character (Cc) */
	DIR_NAME_FORMAT,	/* a format character (Cf): zero-width ... */
	DIR_NAME_INVISIBLE,	/* unassigned, private use, separators */
	DIR_NAME_SURROUNDING_SPACE,
	DIR_NAME_MIXED_SCRIPT,	/* Latin with Cyrillic or Greek, ... */
	DIR_NAME_FOREIGN_DOMAIN, /* user@other or OTHER\user */
	DIR_NAME_DOMAIN_FORM,	/* a domain form this directory has not */
	DIR_NAME_FAULT_COUNT
};

/* "empty", "not_utf8", "format_character", ... ("?" when out of range). */
const char	*dir_name_fault_code(enum dir_name_fault f);
/* One sentence saying why, for the caller ("?" when out of range). */
const char	*dir_name_fault_text(enum dir_name_fault f);

/*
 * Normalise the account name a caller sent (in, NUL-terminated) for
 * directory d into out (outlen bytes, at least DIR_NAME_MAX + 1):
 * valid UTF-8 of at most DIR_INPUT_MAX bytes; no control (Cc), format
 * (Cf: zero-width space, BOM, bidi controls), unassigned, private-use,
 * surrogate, line or paragraph separator character, before NFKC or after;
 * no space at either end (refused, never trimmed); NFKC (fullwidth
 * letters become ASCII); then, on Active Directory only, user@DOMAIN
 * and NETBIOS\user become user when DOMAIN (NETBIOS) is the configured
 * one, ignoring case, and are refused otherwise; on OpenLDAP '@' and '\'
 * are no domain form (the directory matches them as characters, and
 * the filter escapes them).  The account part must not mix Latin,
 * Cyrillic or Greek letters with another script (a Cyrillic 'а' in
 * "аdmin"), and be 1 to DIR_NAME_MAX bytes.  Returns 0 (*fault =
 * DIR_NAME_OK), TG_ERR_INVALID with *fault saying why (out untouched),
 * or TG_ERR_NOMEM.  d may be NULL (no domain forms).
 */
int	dir_name_normalize(const struct policy_directory *d, const char *in,
	    char *out, size_t outlen, enum dir_name_fault *fault);

/*
 * The user principal name that in names on Active Directory d, for the
 * directory process to match against the upn attribute: when in passes
 * dir_name_normalize and is in the user@DOMAIN form, out (outlen bytes,
 * at least DIR_UPN_MAX + 1) is the normalised account, '@' and the
 * configured domain, and 1 is returned.  A UPN's prefix need not be the
 * sAMAccountName, so the account dir_name_normalize gives is not enough
 * to look it up.  0 (out "") when in is in another form, d is not
 * Active Directory or has no upn attribute; TG_ERR_INVALID when in is
 * refused; TG_ERR_NOMEM.
 */
int	dir_name_upn(const struct policy_directory *d, const char *in,
	    char *out, size_t outlen);

/*
 * Whether two normalised names name the same account on directory d:
 * both directories compare account names ignoring case (Active
 * Directory's sAMAccountName; OpenLDAP's uid, whose equality rule is
 * caseIgnoreMatch), so the full Unicode case fold of each is compared.
 */
bool	dir_name_same(const struct policy_directory *d, const char *a,
	    const char *b);

/*
 * The search filter for normalised name on d: d->filter with its
 * "{name}" replaced by name escaped as RFC 4515 says ('*', '(', ')',
 * '\' and NUL as \XX; so are bytes outside printable ASCII).  0, or
 * TG_ERR_TOO_LONG (over outlen - 1), TG_ERR_INVALID.
 */
int	dir_filter(const struct policy_directory *d, const char *name,
	    char *out, size_t outlen);

/* ---- what the directory says */

enum dir_outcome {
	DIR_FOUND,		/* exactly one entry: the facts */
	DIR_NOT_FOUND,		/* no entry matched */
	DIR_AMBIGUOUS,		/* more than one matched */
	DIR_UNAVAILABLE,	/* down, refused the bind, timed out */
	DIR_OUTCOME_COUNT
};

/* "found", "not_found", "ambiguous", "unavailable" ("?" otherwise). */
const char	*dir_outcome_name(enum dir_outcome o);

/* groups[member] is a member of groups[group] (indices of dir_facts) */
struct dir_edge {
	unsigned	member;
	unsigned	group;
};

/*
 * One entry's facts.  Strings are NUL-terminated and bounded as above;
 * counts never pass their array.  groups[0..ndirect) are the entry's
 * own, the rest the groups that hold them (nested groups), linked by
 * edges.  truncated_groups says the entry held more groups than were
 * kept (max_groups, a chain deeper than max_group_depth, more links
 * than DIR_MAX_EDGES): a caller deciding a class must not take a
 * missing group for an absent one.
 */
struct dir_facts {
	char	name[DIR_NAME_MAX + 1];		/* canonical account name */
	char	dn[DIR_DN_MAX + 1];
	char	groups[DIR_MAX_GROUPS][DIR_DN_MAX + 1];
	size_t	ngroups;
	size_t	ndirect;			/* <= ngroups */
	struct dir_edge	edges[DIR_MAX_EDGES];	/* indices < ngroups */
	size_t	nedges;
	bool	truncated_groups;
	char	manager[DIR_DN_MAX + 1];	/* "" = none */
	char	mobile[DIR_MAX_CONTACTS][DIR_VALUE_MAX + 1];
	size_t	nmobile;
	char	phone[DIR_MAX_CONTACTS][DIR_VALUE_MAX + 1];
	size_t	nphone;
	char	mail[DIR_MAX_CONTACTS][DIR_VALUE_MAX + 1];
	size_t	nmail;
	char	alt_mail[DIR_MAX_CONTACTS][DIR_VALUE_MAX + 1];
	size_t	nalt_mail;
	char	types[DIR_MAX_TYPES][DIR_VALUE_MAX + 1];
	size_t	ntypes;
	bool	disabled;
	bool	locked;
};

/*
 * Which of the entry's own groups bring group g (an index below
 * f->ngroups): from[i], for i below f->ndirect, is set when g is
 * groups[i] or holds it through the edges, and cleared otherwise.  A
 * membership of a nested group is removed by removing these.
 */
void	dir_group_sources(const struct dir_facts *f, size_t g,
	    bool from[DIR_MAX_GROUPS]);

/*
 * What one value of the attribute named attr says about an account:
 * userAccountControl: disabled when bit 2 (ACCOUNTDISABLE) is set;
 * lockoutTime: locked when not 0; pwdAccountLockedTime (ppolicy):
 * locked when present, and disabled when "000001010000Z" (locked by an
 * administrator, for good); any other attribute: set unless "0",
 * "FALSE" or "false".  Attribute names compare ignoring case.
 */
bool	dir_value_disables(const char *attr, const char *value);
bool	dir_value_locks(const char *attr, const char *value);

/*
 * Whether a value the directory sent may be kept: valid UTF-8 of at
 * most max bytes, without control characters.
 */
bool	dir_value_ok(const char *value, size_t max);

/*
 * Contacts as an officer may see them, never whole: a phone number
 * keeps its first 3 and last 4 characters ("+44 … 0123"), a mail
 * address the first character of its local part and its domain
 * ("a…@corp.example"); a value too short to keep anything of, or a
 * mail without '@', is "…".  Characters are UTF-8 characters.  in must
 * pass dir_value_ok(in, DIR_VALUE_MAX); out holds DIR_VALUE_MAX + 4
 * bytes at least.  0, or TG_ERR_INVALID (out untouched).
 */
#define DIR_MASK	"\xe2\x80\xa6"	/* U+2026 HORIZONTAL ELLIPSIS */
int	dir_mask_phone(const char *in, char *out, size_t outlen);
int	dir_mask_mail(const char *in, char *out, size_t outlen);

#endif /* TAPGATE_DIRECTORY_H */
