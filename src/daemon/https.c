/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/errors.h"
#include "daemon/https.h"

int
https_listen(const char *addr, char *errbuf, size_t errlen)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	char host[POLICY_HTTPS_LISTEN_MAX + 1];
	const char *c, *h = addr, *end;
	int fd, one = 1, v6 = *addr == '[';
	long port;

	if (v6) {
		h = addr + 1;
		end = strchr(addr, ']');
		c = end != NULL ? end + 1 : NULL;
	} else
		end = c = strrchr(addr, ':');
	if (end == NULL || c == NULL || *c != ':' ||
	    (size_t)(end - h) >= sizeof(host))
		goto bad;
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	port = strtol(c + 1, NULL, 10);
	if (port < 1 || port > 65535)
		goto bad;
	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	s4.sin_family = AF_INET;
	s4.sin_port = htons((uint16_t)port);
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons((uint16_t)port);
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, v6 ?
	    (void *)&s6.sin6_addr : (void *)&s4.sin_addr) != 1)
		goto bad;
	if ((fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) < 0) {
		snprintf(errbuf, errlen, "https listen %s: socket: %s", addr,
		    strerror(errno));
		return TG_ERR_IO;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if ((v6 ? bind(fd, (struct sockaddr *)&s6, sizeof(s6)) :
	    bind(fd, (struct sockaddr *)&s4, sizeof(s4))) != 0 ||
	    listen(fd, 64) != 0) {
		snprintf(errbuf, errlen, "https listen %s: %s", addr,
		    strerror(errno));
		close(fd);
		return TG_ERR_IO;
	}
	return fd;
bad:
	snprintf(errbuf, errlen, "https listen %s: not an address and port",
	    addr);
	return TG_ERR_INVALID;
}

/* A regular file of at most HTTP_TLS_MAX_PEM bytes, no NUL, as text. */
static char *
read_pem(const char *path, const char *what, char *errbuf, size_t errlen)
{
	struct stat sb;
	char *buf = NULL;
	ssize_t n;
	size_t len = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
	    fstat(fd, &sb) != 0) {
		snprintf(errbuf, errlen, "https %s %s: %s", what, path,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > HTTP_TLS_MAX_PEM) {
		snprintf(errbuf, errlen, "https %s %s: not a regular file of "
		    "at most %d bytes", what, path, HTTP_TLS_MAX_PEM);
		goto fail;
	}
	if ((buf = malloc(HTTP_TLS_MAX_PEM + 2)) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		goto fail;
	}
	/* one byte more than the bound: a file that grew is refused */
	while (len < HTTP_TLS_MAX_PEM + 1 && (n = read(fd, buf + len,
	    HTTP_TLS_MAX_PEM + 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(errbuf, errlen, "https %s %s: %s", what,
			    path, strerror(errno));
			goto fail;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (len > HTTP_TLS_MAX_PEM || strlen(buf) != len) {
		snprintf(errbuf, errlen, "https %s %s: over %d bytes or not "
		    "text", what, path, HTTP_TLS_MAX_PEM);
		goto fail;
	}
	close(fd);
	return buf;
fail:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, HTTP_TLS_MAX_PEM + 2);
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* The pair belongs together; the CA text holds a certificate. */
static int
check_pem(const struct fc_tls *t, const struct policy_https *h,
    char *errbuf, size_t errlen)
{
	BIO *b = NULL;
	X509 *x = NULL, *ca = NULL;
	EVP_PKEY *k = NULL;
	int r = TG_ERR_INVALID;

	if ((b = BIO_new_mem_buf(t->cert_pem, -1)) == NULL ||
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
		snprintf(errbuf, errlen, "https cert_file %s: no PEM "
		    "certificate", h->cert_file);
		goto out;
	}
	BIO_free(b);
	b = NULL;
	if ((b = BIO_new_mem_buf(t->key_pem, -1)) == NULL ||
	    (k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL) {
		snprintf(errbuf, errlen, "https key_file %s: no PEM private "
		    "key (unencrypted)", h->key_file);
		goto out;
	}
	if (X509_check_private_key(x, k) != 1) {
		snprintf(errbuf, errlen, "https key_file %s: not the key of "
		    "the certificate in %s", h->key_file, h->cert_file);
		goto out;
	}
	BIO_free(b);
	b = NULL;
	if (t->ca_pem[0] != '\0' &&
	    ((b = BIO_new_mem_buf(t->ca_pem, -1)) == NULL ||
	    (ca = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)) {
		snprintf(errbuf, errlen, "https client_ca_file %s: no PEM "
		    "certificate", h->client_ca_file);
		goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	BIO_free(b);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(k);
	return r;
}

int
https_load(const struct policy_https *h, int with_ca, struct fc_tls *out,
    char *errbuf, size_t errlen)
{
	int r;

	memset(out, 0, sizeof(*out));
	if ((out->cert_pem = read_pem(h->cert_file, "cert_file", errbuf,
	    errlen)) == NULL ||
	    (out->key_pem = read_pem(h->key_file, "key_file", errbuf,
	    errlen)) == NULL ||
	    (out->ca_pem = with_ca ? read_pem(h->client_ca_file,
	    "client_ca_file", errbuf, errlen) : strdup("")) == NULL) {
		fc_tls_clear(out);
		return TG_ERR_IO;
	}
	if ((r = check_pem(out, h, errbuf, errlen)) != 0)
		fc_tls_clear(out);
	return r;
}
