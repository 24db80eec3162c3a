/* SPDX-License-Identifier: ISC */
/*
 * Messages to people: checked, shaped and queued in the transaction's
 * events.  What the audit will say of one (its tag) is made here, with
 * the destination masked, so that the text never leaves for anything but
 * the sender.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/errors.h"
#include "directory/directory.h"
#include "engine/messages.h"

/* 32 characters: 5 bits a byte, no look-alikes */
static const char veto_alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

int
eng_veto_code_new(char code[ENG_VETO_CODE_LEN + 1])
{
	unsigned char rnd[ENG_VETO_CODE_CHARS];
	size_t i, o = 0;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return TG_ERR_INTERNAL;
	for (i = 0; i < sizeof(rnd); i++) {
		if (i > 0 && i % 4 == 0)
			code[o++] = '-';
		code[o++] = veto_alphabet[rnd[i] & 31];
	}
	code[o] = '\0';
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return 0;
}

int
eng_veto_code_hash(const char *id, const char *code, char hex[65])
{
	static const char tag[] = "tapgate veto code";
	unsigned char md[32];
	char norm[ENG_VETO_CODE_CHARS];
	EVP_MD_CTX *c;
	size_t i, n = 0;
	int ok;

	for (i = 0; code[i] != '\0'; i++) {
		char ch = (char)toupper((unsigned char)code[i]);

		if (ch == '-' || ch == ' ')
			continue;
		if (n == sizeof(norm) || strchr(veto_alphabet, ch) == NULL ||
		    ch == '\0')
			return TG_ERR_INVALID;
		norm[n++] = ch;
	}
	if (n != sizeof(norm))
		return TG_ERR_INVALID;
	if ((c = EVP_MD_CTX_new()) == NULL)
		return TG_ERR_NOMEM;
	ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, tag, sizeof(tag)) == 1 &&
	    EVP_DigestUpdate(c, id, strlen(id) + 1) == 1 &&
	    EVP_DigestUpdate(c, norm, n) == 1 &&
	    EVP_DigestFinal_ex(c, md, NULL) == 1;
	EVP_MD_CTX_free(c);
	OPENSSL_cleanse(norm, sizeof(norm));
	if (!ok)
		return TG_ERR_INTERNAL;
	for (i = 0; i < sizeof(md); i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* Printable UTF-8 or ASCII: no control character but, when lines, '\n'. */
static int
msg_printable(const char *s, size_t max, int lines)
{
	size_t i, len = strnlen(s, max + 1);

	if (len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0x7f || (c < 0x20 && !(lines && c == '\n')))
			return 0;
	}
	return 1;
}

/* The destination as the audit may show it. */
static void
msg_mask(int channel, const char *dest, char *out, size_t outlen)
{
	int r;

	if (!dir_value_ok(dest, DIR_VALUE_MAX))
		r = TG_ERR_INVALID;
	else if (channel == POLICY_CHANNEL_SMS ||
	    (channel == POLICY_CHANNEL_WEBHOOK && strchr(dest, '@') == NULL))
		r = dir_mask_phone(dest, out, outlen);
	else
		r = dir_mask_mail(dest, out, outlen);
	if (r != 0)
		snprintf(out, outlen, "%s", DIR_MASK);
}

int
eng_message_new(struct tapgated *d, const char *id, const char *recipient,
    const char *channel, const char *destination, const char *subject,
    const char *text, json_t **out)
{
	char masked[DIR_VALUE_MAX + 4];
	json_t *m, *tag;
	int ch;

	*out = NULL;
	if ((ch = policy_channel_of(channel)) < 0 ||
	    !msg_printable(destination, ENG_MSG_DEST_MAX, 0) ||
	    !msg_printable(subject, ENG_MSG_SUBJECT_MAX, 0) ||
	    !msg_printable(text, ENG_MSG_TEXT_MAX, 1))
		return TG_ERR_INVALID;
	if (d->cfg->senders.program[ch][0] == '\0')
		return TG_ERR_NOT_FOUND;
	msg_mask(ch, destination, masked, sizeof(masked));
	tag = json_pack("{s:{s:s,s:s}}", "message", "channel", channel,
	    "destination", masked);
	if (tag != NULL && id != NULL)
		json_object_set_new(json_object_get(tag, "message"),
		    "request_id", json_string(id));
	if (tag != NULL && recipient != NULL)
		json_object_set_new(json_object_get(tag, "message"),
		    "recipient", json_string(recipient));
	/* the tag rides with the message; only the tag comes back */
	m = json_pack("{s:{s:s,s:s,s:s,s:s},s:i,s:o}", "message",
	    "destination", destination, "channel", channel, "subject",
	    subject, "text", text, "channel_index", ch, "tag", tag);
	if (m == NULL)
		return TG_ERR_INVALID;	/* not UTF-8, or no memory */
	*out = m;
	return 0;
}

int
eng_message_queue_about(struct tapgated *d, struct events *evs,
    const char *id, const char *recipient, const char *channel,
    const char *destination, const char *subject, const char *text)
{
	json_t *m;
	int r;

	if (evs->n == EVENTS_MAX)
		return TG_ERR_NOMEM;
	if ((r = eng_message_new(d, id, recipient, channel, destination,
	    subject, text, &m)) != 0)
		return r;
	/* txn.c's queue, filled here: this file is of the same layer */
	evs->ev[evs->n++] = m;
	return 0;
}

int
eng_message_queue(struct tapgated *d, struct events *evs,
    const char *channel, const char *destination, const char *subject,
    const char *text)
{
	return eng_message_queue_about(d, evs, NULL, NULL, channel,
	    destination, subject, text);
}

int
eng_message_queue_contact(struct tapgated *d, struct events *evs,
    const char *id, const char *recipient, const char *contact,
    const char *subject, const char *text)
{
	char channel[16];
	const char *colon = strchr(contact, ':'), *at = strchr(contact, '@');
	size_t n;

	if (colon == NULL || (at != NULL && at < colon))
		return eng_message_queue_about(d, evs, id, recipient, "mail",
		    contact, subject, text);
	if ((n = (size_t)(colon - contact)) >= sizeof(channel))
		return TG_ERR_INVALID;
	memcpy(channel, contact, n);
	channel[n] = '\0';
	return eng_message_queue_about(d, evs, id, recipient, channel,
	    colon + 1, subject, text);
}
