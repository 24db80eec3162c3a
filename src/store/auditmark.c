/* SPDX-License-Identifier: ISC */
/*
 * The audit high-water mark (auditmark.h has the signed encoding and the
 * file's format): sign, check, read strictly, write atomically.  No
 * database here: the mark is what the database cannot vouch for itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "store/auditmark.h"
#include "store/store_int.h"

#define MARK_VERSION	1
#define MARK_MEMBERS	7	/* v, appliance, seq, hash, time, kid, sig */

static void
put_be64(uint8_t *p, int64_t v)
{
	uint64_t u = (uint64_t)v;	/* two's complement, by C11 7.20.1.1 */
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(u & 0xff);
		u >>= 8;
	}
}

/* An appliance id as the mark takes it: 1..64 printable ASCII bytes. */
static int
appliance_ok(const char *s)
{
	size_t i, n;

	n = strnlen(s, AUDITMARK_APPLIANCE_MAX + 1);
	if (n == 0 || n > AUDITMARK_APPLIANCE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return 1;
}

int
auditmark_message(const struct auditmark *m, uint8_t out[AUDITMARK_MSG_MAX],
    size_t *lenp)
{
	uint8_t *p = out;
	size_t n;

	if (m == NULL || out == NULL || lenp == NULL || m->seq < 0 ||
	    !appliance_ok(m->appliance) ||
	    !store_is_hex(m->hash, AUDIT_HASH_HEX))
		return TG_ERR_INVALID;
	n = strlen(m->appliance);
	memcpy(p, AUDITMARK_DOMAIN, sizeof(AUDITMARK_DOMAIN));
	p += sizeof(AUDITMARK_DOMAIN);
	*p++ = (uint8_t)n;
	memcpy(p, m->appliance, n);
	p += n;
	put_be64(p, m->seq);
	p += 8;
	if (hex_decode(m->hash, AUDIT_HASH_HEX, p, 32) != 0)
		return TG_ERR_INVALID;
	p += 32;
	put_be64(p, m->time);
	p += 8;
	*lenp = (size_t)(p - out);
	return 0;
}

int
auditmark_sign(struct auditmark *m, const struct jwk *key)
{
	uint8_t msg[AUDITMARK_MSG_MAX], sig[JWK_SIG_LEN];
	size_t len;
	int r;

	if (m == NULL || key == NULL)
		return TG_ERR_INVALID;
	if ((r = auditmark_message(m, msg, &len)) != 0 ||
	    (r = jwk_sign(key, msg, len, sig)) != 0)
		return r;
	memcpy(m->sig, sig, sizeof(sig));
	snprintf(m->kid, sizeof(m->kid), "%s", jwk_kid(key));
	return 0;
}

int
auditmark_verify(const struct auditmark *m, const struct jwks *keys)
{
	uint8_t msg[AUDITMARK_MSG_MAX];
	const struct jwk *key;
	size_t len;

	if (m == NULL || keys == NULL)
		return TG_ERR_INVALID;
	if (jwks_find(keys, m->kid, &key) != 0)
		return TG_ERR_UNKNOWN_KID;
	/* whatever else goes wrong, this signature does not hold */
	if (auditmark_message(m, msg, &len) != 0 ||
	    jwk_verify(key, msg, len, m->sig, sizeof(m->sig)) != 0)
		return TG_ERR_BAD_SIGNATURE;
	return 0;
}

void
auditmark_anchor(const struct auditmark *m, struct audit_anchor *a)
{
	memset(a, 0, sizeof(*a));
	a->seq = m->seq;
	memcpy(a->hash, m->hash, sizeof(a->hash));
}

/* The members of the file's object, exactly, into m. */
static int
parse(const char *buf, size_t len, struct auditmark *m)
{
	json_t *root, *v;
	json_error_t e;
	const char *app, *hash, *kid, *sig;
	uint8_t *raw = NULL;
	json_int_t ver, seq, t;
	size_t rawlen = 0;
	int r = TG_ERR_INVALID;

	/* jansson refuses trailing data and NUL in strings by default */
	if ((root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e)) == NULL)
		return TG_ERR_INVALID;
	if (!json_is_object(root) || json_object_size(root) != MARK_MEMBERS ||
	    json_unpack(root, "{s:I,s:s,s:I,s:s,s:I,s:s,s:s}", "v", &ver,
	    "appliance", &app, "seq", &seq, "hash", &hash, "time", &t, "kid",
	    &kid, "signature", &sig) != 0)
		goto out;
	if (ver != MARK_VERSION || seq < 0 || !appliance_ok(app) ||
	    !store_is_hex(hash, AUDIT_HASH_HEX) || !jwk_kid_ok(kid))
		goto out;
	v = json_object_get(root, "signature");
	if (b64url_decode(sig, json_string_length(v), JWK_SIG_LEN, &raw,
	    &rawlen) != 0 || rawlen != JWK_SIG_LEN)
		goto out;
	memset(m, 0, sizeof(*m));
	memcpy(m->appliance, app, strlen(app) + 1);
	m->seq = (int64_t)seq;
	memcpy(m->hash, hash, sizeof(m->hash));
	m->time = (int64_t)t;
	memcpy(m->kid, kid, sizeof(m->kid));
	memcpy(m->sig, raw, sizeof(m->sig));
	r = 0;
out:
	free(raw);
	json_decref(root);
	return r;
}

int
auditmark_read(const char *dir, struct auditmark *out)
{
	struct auditmark m;
	struct stat sb;
	char path[PATH_MAX], buf[AUDITMARK_FILE_MAX + 1];
	ssize_t n;
	size_t len = 0;
	int fd, r;

	if (dir == NULL || out == NULL)
		return TG_ERR_INVALID;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    AUDITMARK_FILE) >= sizeof(path))
		return TG_ERR_TOO_LONG;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1)
		return errno == ENOENT ? TG_ERR_NOT_FOUND :
		    errno == ELOOP ? TG_ERR_PERM : TG_ERR_IO;
	if (fstat(fd, &sb) == -1) {
		r = TG_ERR_IO;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		r = TG_ERR_PERM;
		goto out;
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = TG_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	/* a file at the limit was cut there: no mark is that long */
	if (len > AUDITMARK_FILE_MAX) {
		r = TG_ERR_INVALID;
		goto out;
	}
	if ((r = parse(buf, len, &m)) == 0)
		*out = m;
out:
	close(fd);
	return r;
}

/* The file's text, one line, into a new string (*textp). */
static int
format(const struct auditmark *m, char **textp)
{
	char sig[JWK_SIG_LEN * 2];
	json_t *j;
	char *s;

	b64url_encode(m->sig, sizeof(m->sig), sig);
	if ((j = json_pack("{s:i,s:s,s:I,s:s,s:I,s:s,s:s}", "v",
	    MARK_VERSION, "appliance", m->appliance, "seq",
	    (json_int_t)m->seq, "hash", m->hash, "time", (json_int_t)m->time,
	    "kid", m->kid, "signature", sig)) == NULL)
		return TG_ERR_NOMEM;
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (s == NULL)
		return TG_ERR_NOMEM;
	*textp = s;
	return 0;
}

/* Write all of buf to fd. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return TG_ERR_IO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
auditmark_write(const char *dir, const struct auditmark *m)
{
	char tmp[PATH_MAX], path[PATH_MAX], *text = NULL;
	int fd = -1, dfd = -1, made = 0, r;
	size_t len;

	if (dir == NULL || m == NULL || m->seq < 0 ||
	    !appliance_ok(m->appliance) ||
	    !store_is_hex(m->hash, AUDIT_HASH_HEX) || !jwk_kid_ok(m->kid))
		return TG_ERR_INVALID;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    AUDITMARK_FILE) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir,
	    AUDITMARK_FILE) >= sizeof(tmp))
		return TG_ERR_TOO_LONG;
	if ((r = format(m, &text)) != 0)
		return r;
	len = strlen(text);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		r = TG_ERR_IO;
		goto out;
	}
	made = 1;
	/* mkostemp makes it 0600 */
	if ((r = write_all(fd, text, len)) != 0 ||
	    (r = write_all(fd, "\n", 1)) != 0)
		goto out;
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		r = TG_ERR_IO;
		goto out;
	}
	fd = -1;
	/* renameat: what the daemon's system-call filter allows */
	if (renameat(AT_FDCWD, tmp, AT_FDCWD, path) == -1) {
		r = TG_ERR_IO;
		goto out;
	}
	made = 0;
	/* the rename is durable only once the directory is */
	r = fsync(dfd) == -1 ? TG_ERR_IO : 0;
out:
	if (fd != -1)
		close(fd);
	if (made)
		(void)unlink(tmp);
	if (dfd != -1)
		close(dfd);
	free(text);
	return r;
}
