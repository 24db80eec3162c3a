/* SPDX-License-Identifier: ISC */
/*
 * Opening keys, discovery, getInfo, PIN management and the translation of
 * libfido2's results into tapgate's errors.
 */
#include <sys/un.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/errors.h"
#include "token_int.h"

#define HIDRAW_PREFIX	"/dev/hidraw"
#define LIST_MAX_HID	64
/* An RX failure this close to the budget is the budget running out. */
#define TIMEOUT_SLACK_MS 50

static pthread_once_t fido_once = PTHREAD_ONCE_INIT;

static void
fido_init_once(void)
{
	/*
	 * Without DISABLE_U2F_FALLBACK a key whose getInfo is malformed
	 * would open "successfully" as a U2F device.
	 */
	fido_init(FIDO_DISABLE_U2F_FALLBACK);
}

void
token_fido_init(void)
{
	pthread_once(&fido_once, fido_init_once);
}

uint64_t
token_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
token_memeq(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int
token_name_check(const char *name)
{
	struct sockaddr_un	sa;
	const char		*p;

	if (name == NULL)
		return TG_ERR_INVALID;
	if (strncmp(name, SOFTFIDO_PREFIX, strlen(SOFTFIDO_PREFIX)) == 0) {
		p = name + strlen(SOFTFIDO_PREFIX);
		if (*p == '\0')
			return TG_ERR_INVALID;
		if (strlen(p) >= sizeof(sa.sun_path))
			return TG_ERR_TOO_LONG;
		return 0;
	}
	if (strncmp(name, HIDRAW_PREFIX, strlen(HIDRAW_PREFIX)) == 0) {
		p = name + strlen(HIDRAW_PREFIX);
		if (*p == '\0' || strlen(p) > 6)
			return TG_ERR_INVALID;
		for (; *p != '\0'; p++)
			if (*p < '0' || *p > '9')
				return TG_ERR_INVALID;
		return 0;
	}
	return TG_ERR_INVALID;
}

void
token_op_begin(struct token *tok)
{
	void *h;

	tok->op_start_ms = token_now_ms();
	if (tok->kind == TOKEN_SOFTFIDO &&
	    (h = fido_dev_io_handle(tok->dev)) != NULL)
		sf_conn_clear(h);
}

/* What the transport knows about the last failure, as TG_ERR_* or 0. */
static int
transport_err(const struct token *tok)
{
	const void *h;

	if (tok->kind == TOKEN_SOFTFIDO) {
		h = tok->dev != NULL ? fido_dev_io_handle(tok->dev) : NULL;
		switch (h != NULL ? sf_conn_state(h) : sf_io_closed_state()) {
		case SF_GONE:
			return TG_ERR_DEVICE_GONE;
		case SF_TIMEOUT:
			return TG_ERR_TIMEOUT;
		case SF_BADFRAME:
			return TG_ERR_PROTOCOL;
		case SF_OK:
			break;
		}
		return 0;
	}
	/* hidraw: libfido2 keeps errno to itself, so look at the node. */
	if (access(tok->path, F_OK) == -1 && errno == ENOENT)
		return TG_ERR_DEVICE_GONE;
	if (token_now_ms() - tok->op_start_ms + TIMEOUT_SLACK_MS >=
	    (uint64_t)tok->timeout_ms)
		return TG_ERR_TIMEOUT;
	return 0;
}

int
token_map_err(const struct token *tok, int r)
{
	int t;

	if (r == FIDO_OK)
		return 0;
	/* A key that vanished explains any error it caused. */
	if ((t = transport_err(tok)) == TG_ERR_DEVICE_GONE)
		return t;
	switch (r) {
	case FIDO_ERR_USER_ACTION_TIMEOUT:
	case FIDO_ERR_ACTION_TIMEOUT:
		return TG_ERR_NO_TOUCH;
	case FIDO_ERR_OPERATION_DENIED:
		return TG_ERR_DENIED;
	case FIDO_ERR_PIN_INVALID:
		return TG_ERR_PIN_INVALID;
	case FIDO_ERR_PIN_BLOCKED:
		return TG_ERR_PIN_BLOCKED;
	case FIDO_ERR_PIN_AUTH_BLOCKED:
		return TG_ERR_PIN_AUTH_BLOCKED;
	case FIDO_ERR_PIN_NOT_SET:
		return TG_ERR_PIN_NOT_SET;
	case FIDO_ERR_PIN_POLICY_VIOLATION:
		return TG_ERR_PIN_POLICY;
	case FIDO_ERR_CREDENTIAL_EXCLUDED:
		return TG_ERR_EXISTS;
	case FIDO_ERR_NO_CREDENTIALS:
		return TG_ERR_NO_CREDENTIAL;
	case FIDO_ERR_LIMIT_EXCEEDED:
		/* a list longer than the key takes */
		return TG_ERR_TOO_LONG;
	case FIDO_ERR_KEEPALIVE_CANCEL:
		return TG_ERR_CANCELLED;
	case FIDO_ERR_UNSUPPORTED_ALGORITHM:
	case FIDO_ERR_UNSUPPORTED_OPTION:
	case FIDO_ERR_UNSUPPORTED_EXTENSION:
	case FIDO_ERR_INVALID_OPTION:
		return TG_ERR_UNSUPPORTED;
	case FIDO_ERR_INVALID_SIG:
		return TG_ERR_SIGNATURE;
	case FIDO_ERR_TIMEOUT:
		return TG_ERR_TIMEOUT;
	case FIDO_ERR_TX:
		return t != 0 ? t : TG_ERR_DEVICE;
	case FIDO_ERR_RX:
	case FIDO_ERR_RX_NOT_CBOR:
	case FIDO_ERR_RX_INVALID_CBOR:
		/* libfido2 says RX for a dead link, a timeout or bad bytes. */
		return t != 0 ? t : TG_ERR_PROTOCOL;
	case FIDO_ERR_INTERNAL:
		return t != 0 ? t : TG_ERR_INTERNAL;
	default:
		return t != 0 ? t : TG_ERR_DEVICE;
	}
}

/* Why a failed fido_dev_open() failed. */
static int
open_err(const struct token *tok, int r)
{
	int e;

	if (tok->kind == TOKEN_SOFTFIDO && (e = sf_io_open_errno()) != 0) {
		switch (e) {
		case ENOENT:
		case ECONNREFUSED:
		case ENOTDIR:
			return TG_ERR_DEVICE_GONE;
		case ENAMETOOLONG:
			return TG_ERR_TOO_LONG;
		case ENOMEM:
			return TG_ERR_NOMEM;
		default:
			return TG_ERR_DEVICE;
		}
	}
	if (tok->kind == TOKEN_HID && r == FIDO_ERR_INTERNAL) {
		if (access(tok->path, F_OK) == -1)
			return TG_ERR_DEVICE_GONE;
		return TG_ERR_DEVICE;
	}
	return token_map_err(tok, r);
}

int
token_open(const char *name, const struct token_opts *opts,
    struct token **tokp)
{
	struct token	*tok = NULL;
	int		 r, fr;

	token_fido_init();
	if ((r = token_name_check(name)) != 0)
		return r;
	if ((tok = calloc(1, sizeof(*tok))) == NULL ||
	    (tok->name = strdup(name)) == NULL) {
		r = TG_ERR_NOMEM;
		goto fail;
	}
	if (strncmp(name, SOFTFIDO_PREFIX, strlen(SOFTFIDO_PREFIX)) == 0) {
		tok->kind = TOKEN_SOFTFIDO;
		tok->path = strdup(name + strlen(SOFTFIDO_PREFIX));
	} else {
		tok->kind = TOKEN_HID;
		tok->path = strdup(name);
	}
	if (tok->path == NULL) {
		r = TG_ERR_NOMEM;
		goto fail;
	}
	tok->timeout_ms = opts != NULL && opts->timeout_ms > 0 ?
	    opts->timeout_ms : TOKEN_TIMEOUT_DEFAULT;
	if ((tok->dev = fido_dev_new()) == NULL) {
		r = TG_ERR_NOMEM;
		goto fail;
	}
	if (tok->kind == TOKEN_SOFTFIDO) {
		if (fido_dev_set_io_functions(tok->dev, &sf_io) != FIDO_OK) {
			r = TG_ERR_INTERNAL;
			goto fail;
		}
		sf_io_prepare(opts != NULL ? opts->connect_wait_ms : 0);
	}
	if (fido_dev_set_timeout(tok->dev, tok->timeout_ms) != FIDO_OK) {
		r = TG_ERR_INTERNAL;
		goto fail;
	}
	tok->op_start_ms = token_now_ms();
	if ((fr = fido_dev_open(tok->dev, tok->path)) != FIDO_OK) {
		r = open_err(tok, fr);
		goto fail;
	}
	if (!fido_dev_is_fido2(tok->dev)) {
		fido_dev_close(tok->dev);
		r = TG_ERR_UNSUPPORTED;
		goto fail;
	}
	*tokp = tok;
	return 0;
fail:
	if (tok != NULL) {
		fido_dev_free(&tok->dev);
		free(tok->path);
		free(tok->name);
		free(tok);
	}
	return r;
}

void
token_free(struct token **tokp)
{
	struct token *tok;

	if (tokp == NULL || (tok = *tokp) == NULL)
		return;
	if (tok->dev != NULL && fido_dev_io_handle(tok->dev) != NULL)
		fido_dev_close(tok->dev);
	fido_dev_free(&tok->dev);
	free(tok->path);
	free(tok->name);
	free(tok);
	*tokp = NULL;
}

const char *
token_name(const struct token *tok)
{
	return tok->name;
}

/* ---- discovery */

static int
entry_set(struct token_entry *e, const char *name, const char *manuf,
    const char *product)
{
	if ((e->name = strdup(name)) == NULL ||
	    (e->manufacturer = strdup(manuf != NULL ? manuf : "")) == NULL ||
	    (e->product = strdup(product != NULL ? product : "")) == NULL)
		return TG_ERR_NOMEM;
	return 0;
}

static void
entries_free(struct token_entry *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].manufacturer);
		free(v[i].product);
	}
	free(v);
}

int
token_list_new(const char *const *softfido_names, size_t nsf,
    const struct token_opts *opts, struct token_list **listp)
{
	fido_dev_info_t		*di = NULL;
	const fido_dev_info_t	*d;
	struct token_list	*list = NULL;
	struct token_entry	*v = NULL;
	struct token		*tok = NULL;
	size_t			 nhid = 0, n = 0;
	int			 r;

	token_fido_init();
	if (nsf > 0 && softfido_names == NULL)
		return TG_ERR_INVALID;
	for (size_t i = 0; i < nsf; i++)
		if (softfido_names[i] == NULL || strncmp(softfido_names[i],
		    SOFTFIDO_PREFIX, strlen(SOFTFIDO_PREFIX)) != 0)
			return TG_ERR_INVALID;
	if ((di = fido_dev_info_new(LIST_MAX_HID)) == NULL) {
		r = TG_ERR_NOMEM;
		goto fail;
	}
	if (fido_dev_info_manifest(di, LIST_MAX_HID, &nhid) != FIDO_OK)
		nhid = 0;	/* no HID subsystem here: no HID keys */
	if ((v = calloc(nhid + nsf + 1, sizeof(*v))) == NULL) {
		r = TG_ERR_NOMEM;
		goto fail;
	}
	for (size_t i = 0; i < nhid; i++, n++) {
		d = fido_dev_info_ptr(di, i);
		if ((r = entry_set(&v[n], fido_dev_info_path(d),
		    fido_dev_info_manufacturer_string(d),
		    fido_dev_info_product_string(d))) != 0)
			goto fail;
		v[n].vendor_id = (uint16_t)fido_dev_info_vendor(d);
		v[n].product_id = (uint16_t)fido_dev_info_product(d);
	}
	for (size_t i = 0; i < nsf; i++, n++) {
		if ((r = entry_set(&v[n], softfido_names[i], "tapgate",
		    "softfido")) != 0)
			goto fail;
		v[n].status = token_open(softfido_names[i], opts, &tok);
		token_free(&tok);
	}
	if ((list = calloc(1, sizeof(*list))) == NULL) {
		r = TG_ERR_NOMEM;
		goto fail;
	}
	list->entries = v;
	list->count = n;
	v = NULL;	/* transferred */
	*listp = list;
	r = 0;
fail:
	entries_free(v, nhid + nsf);	/* calloc'd: unset entries are NULL */
	fido_dev_info_free(&di, LIST_MAX_HID);
	return r;
}

void
token_list_free(struct token_list **listp)
{
	struct token_list *list;

	if (listp == NULL || (list = *listp) == NULL)
		return;
	entries_free(list->entries, list->count);
	free(list);
	*listp = NULL;
}

/* ---- getInfo */

void
token_aaguid_format(const uint8_t aaguid[TOKEN_AAGUID_LEN], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < TOKEN_AAGUID_LEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[aaguid[i] >> 4];
		out[o++] = hex[aaguid[i] & 0x0f];
	}
	out[o] = '\0';
}

static int
strv_dup(char *const *src, size_t n, char ***dstp)
{
	char **dst;

	if ((dst = calloc(n + 1, sizeof(*dst))) == NULL)
		return TG_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		if ((dst[i] = strdup(src[i])) == NULL) {
			for (size_t j = 0; j < i; j++)
				free(dst[j]);
			free(dst);
			return TG_ERR_NOMEM;
		}
	*dstp = dst;
	return 0;
}

static void
strv_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
token_info_free(struct token_info **infop)
{
	struct token_info *info;

	if (infop == NULL || (info = *infop) == NULL)
		return;
	strv_free(info->versions, info->nversions);
	strv_free(info->extensions, info->nextensions);
	if (info->options != NULL)
		for (size_t i = 0; i < info->noptions; i++)
			free(info->options[i].name);
	free(info->options);
	if (info->algorithms != NULL)
		for (size_t i = 0; i < info->nalgorithms; i++)
			free(info->algorithms[i].type);
	free(info->algorithms);
	free(info->pin_protocols);
	free(info);
	*infop = NULL;
}

bool
token_info_option(const struct token_info *info, const char *name)
{
	for (size_t i = 0; i < info->noptions; i++)
		if (strcmp(info->options[i].name, name) == 0)
			return info->options[i].value;
	return false;
}

/* Fill info from libfido2's getInfo; the counts follow the copies made. */
static int
info_copy(const fido_cbor_info_t *ci, struct token_info *info)
{
	char *const	*names;
	const bool	*vals;
	const char	*type;
	size_t		 n;
	int		 r;

	n = fido_cbor_info_versions_len(ci);
	if ((r = strv_dup(fido_cbor_info_versions_ptr(ci), n,
	    &info->versions)) != 0)
		return r;
	info->nversions = n;
	n = fido_cbor_info_extensions_len(ci);
	if ((r = strv_dup(fido_cbor_info_extensions_ptr(ci), n,
	    &info->extensions)) != 0)
		return r;
	info->nextensions = n;
	if (fido_cbor_info_aaguid_len(ci) != TOKEN_AAGUID_LEN)
		return TG_ERR_PROTOCOL;
	memcpy(info->aaguid, fido_cbor_info_aaguid_ptr(ci), TOKEN_AAGUID_LEN);

	n = fido_cbor_info_options_len(ci);
	names = fido_cbor_info_options_name_ptr(ci);
	vals = fido_cbor_info_options_value_ptr(ci);
	if ((info->options = calloc(n + 1, sizeof(*info->options))) == NULL)
		return TG_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((info->options[i].name = strdup(names[i])) == NULL)
			return TG_ERR_NOMEM;
		info->options[i].value = vals[i];
		info->noptions = i + 1;
		if (strcmp(names[i], "clientPin") == 0) {
			info->pin_supported = true;
			info->pin_set = vals[i];
		}
	}

	n = fido_cbor_info_algorithm_count(ci);
	if ((info->algorithms = calloc(n + 1,
	    sizeof(*info->algorithms))) == NULL)
		return TG_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		type = fido_cbor_info_algorithm_type(ci, i);
		if ((info->algorithms[i].type = strdup(type != NULL ? type :
		    "")) == NULL)
			return TG_ERR_NOMEM;
		info->algorithms[i].cose = fido_cbor_info_algorithm_cose(ci, i);
		info->nalgorithms = i + 1;
	}

	n = fido_cbor_info_protocols_len(ci);
	if ((info->pin_protocols = calloc(n + 1, 1)) == NULL)
		return TG_ERR_NOMEM;
	if (n > 0)
		memcpy(info->pin_protocols, fido_cbor_info_protocols_ptr(ci),
		    n);
	info->npin_protocols = n;
	info->max_msg_size = fido_cbor_info_maxmsgsiz(ci);
	info->min_pin_length = fido_cbor_info_minpinlen(ci);
	info->max_cred_count_in_list = fido_cbor_info_maxcredcntlst(ci);
	info->max_cred_id_len = fido_cbor_info_maxcredidlen(ci);
	return 0;
}

int
token_info_new(struct token *tok, struct token_info **infop)
{
	fido_cbor_info_t	*ci = NULL;
	struct token_info	*info = NULL;
	int			 r, fr, retries;

	if ((ci = fido_cbor_info_new()) == NULL ||
	    (info = calloc(1, sizeof(*info))) == NULL) {
		r = TG_ERR_NOMEM;
		goto fail;
	}
	token_op_begin(tok);
	if ((fr = fido_dev_get_cbor_info(tok->dev, ci)) != FIDO_OK) {
		r = token_map_err(tok, fr);
		goto fail;
	}
	if ((r = info_copy(ci, info)) != 0)
		goto fail;
	info->pin_retries = -1;
	if (info->pin_supported) {
		token_op_begin(tok);
		if ((fr = fido_dev_get_retry_count(tok->dev,
		    &retries)) != FIDO_OK) {
			r = token_map_err(tok, fr);
			goto fail;
		}
		info->pin_retries = retries;
	}
	info->ctaphid_protocol = fido_dev_protocol(tok->dev);
	info->fw_major = fido_dev_major(tok->dev);
	info->fw_minor = fido_dev_minor(tok->dev);
	info->fw_build = fido_dev_build(tok->dev);
	*infop = info;
	info = NULL;	/* transferred */
	r = 0;
fail:
	token_info_free(&info);
	fido_cbor_info_free(&ci);
	return r;
}

/* ---- PIN */

/*
 * Code points of a UTF-8 string, or -1 when it is not valid UTF-8
 * (overlong forms, surrogates and values past U+10FFFF included).
 */
static long
utf8_count(const unsigned char *s, size_t len)
{
	size_t	i = 0;
	long	n = 0;

	while (i < len) {
		unsigned char	c = s[i];
		uint32_t	cp;
		size_t		k;

		if (c < 0x80) {
			i++;
			n++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else
			return -1;
		if (len - i - 1 < k)
			return -1;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return -1;
		i += k + 1;
		n++;
	}
	return n;
}

int
token_pin_policy_check(const char *pin, uint64_t min_len)
{
	size_t	len;
	long	n;

	if (pin == NULL)
		return TG_ERR_PIN_POLICY;
	len = strnlen(pin, TOKEN_PIN_MAX + 1);
	if (len > TOKEN_PIN_MAX)
		return TG_ERR_PIN_POLICY;
	if ((n = utf8_count((const unsigned char *)pin, len)) < 0)
		return TG_ERR_PIN_POLICY;
	if (min_len < TOKEN_PIN_MIN)
		min_len = TOKEN_PIN_MIN;
	if ((uint64_t)n < min_len)
		return TG_ERR_PIN_POLICY;
	return 0;
}

int
token_set_pin(struct token *tok, const char *new_pin, const char *old_pin)
{
	struct token_info	*info = NULL;
	int			 r, fr;

	if (new_pin == NULL)
		return TG_ERR_INVALID;
	if ((r = token_info_new(tok, &info)) != 0)
		goto out;
	if (!info->pin_supported) {
		r = TG_ERR_UNSUPPORTED;
		goto out;
	}
	if ((r = token_pin_policy_check(new_pin, info->min_pin_length)) != 0)
		goto out;
	if (old_pin == NULL && info->pin_set) {
		r = TG_ERR_PIN_ALREADY_SET;
		goto out;
	}
	if (old_pin != NULL && !info->pin_set) {
		r = TG_ERR_PIN_NOT_SET;
		goto out;
	}
	/* No PIN that long was ever accepted: wrong, without a retry. */
	if (old_pin != NULL && (*old_pin == '\0' ||
	    strnlen(old_pin, TOKEN_PIN_MAX + 1) > TOKEN_PIN_MAX)) {
		r = TG_ERR_PIN_INVALID;
		goto out;
	}
	token_op_begin(tok);
	if ((fr = fido_dev_set_pin(tok->dev, new_pin, old_pin)) != FIDO_OK) {
		r = token_map_err(tok, fr);
		goto out;
	}
	r = 0;
out:
	token_info_free(&info);
	return r;
}

int
token_pin_retries(struct token *tok, int *retries)
{
	int fr, n = 0;

	token_op_begin(tok);
	if ((fr = fido_dev_get_retry_count(tok->dev, &n)) != FIDO_OK)
		return token_map_err(tok, fr);
	*retries = n;
	return 0;
}
