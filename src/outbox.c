/* outbox.c: per-connection queue of framed websocket text frames. See
 * outbox.h. */
#include "outbox.h"

#include <libwebsockets.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define OUTBOX_MIN_CAP 1024u

void outbox_init(struct outbox *ob, size_t headroom)
{
	memset(ob, 0, sizeof(*ob));
	ob->headroom = headroom;
}

/* Writes the header of an unmasked, final text frame of len bytes at p;
 * returns its length (2, 4 or 10). */
static size_t frame_header(unsigned char *p, size_t len)
{
	p[0] = 0x81; /* FIN, text */
	if (len < 126) {
		p[1] = (unsigned char)len;
		return 2;
	}
	if (len <= 0xffff) {
		p[1] = 126;
		p[2] = (unsigned char)(len >> 8);
		p[3] = (unsigned char)len;
		return 4;
	}
	p[1] = 127;
	for (int i = 0; i < 8; i++)
		p[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	return 10;
}

/* The length of the frame at p (header and payload), as frame_header wrote it. */
static size_t frame_length(const unsigned char *p)
{
	size_t len = p[1] & 0x7f;

	if (len < 126)
		return 2 + len;
	if (len == 126)
		return 4 + ((size_t)p[2] << 8 | p[3]);
	len = 0;
	for (int i = 0; i < 8; i++)
		len = len << 8 | p[2 + i];
	return 10 + len;
}

/* Makes room for `need` more bytes at the end: first by moving the queue
 * back to the headroom, then by growing the buffer. */
static void reserve(struct outbox *ob, size_t need)
{
	size_t queued = ob->end - ob->start, cap;
	unsigned char *nb;

	if (ob->end + need <= ob->cap)
		return;
	if (ob->buf && ob->start > ob->headroom && ob->headroom + queued + need <= ob->cap) {
		memmove(ob->buf + ob->headroom, ob->buf + ob->start, queued);
		ob->start = ob->headroom;
		ob->end = ob->start + queued;
		return;
	}
	cap = ob->cap ? ob->cap : OUTBOX_MIN_CAP;
	while (cap < ob->headroom + queued + need)
		cap *= 2;
	nb = malloc(cap);
	if (!nb)
		abort();
	if (ob->buf)
		memcpy(nb + ob->headroom, ob->buf + ob->start, queued);
	free(ob->buf);
	ob->buf = nb;
	ob->cap = cap;
	ob->start = ob->headroom;
	ob->end = ob->start + queued;
}

int outbox_push(struct outbox *ob, const char *text, size_t len, size_t max_bytes)
{
	unsigned char hdr[10];
	size_t h = frame_header(hdr, len);

	if (ob->bytes + h + len > max_bytes)
		return -1;
	reserve(ob, h + len);
	memcpy(ob->buf + ob->end, hdr, h);
	memcpy(ob->buf + ob->end + h, text, len);
	ob->end += h + len;
	ob->bytes += h + len;
	ob->frames++;
	return 0;
}

unsigned char *outbox_peek(struct outbox *ob, size_t max, size_t *len, size_t *frames)
{
	size_t at = ob->start, n = 0;

	if (!ob->frames)
		return NULL;
	while (at < ob->end) {
		size_t f = frame_length(ob->buf + at);
		if (n && at - ob->start + f > max)
			break;
		at += f;
		n++;
	}
	*len = at - ob->start;
	*frames = n;
	return ob->buf + ob->start;
}

void outbox_pop(struct outbox *ob, size_t len, size_t frames)
{
	if (len > ob->end - ob->start || frames > ob->frames)
		abort(); /* not what outbox_peek returned */
	ob->start += len;
	ob->bytes -= len;
	ob->frames -= frames;
	if (!ob->frames)
		outbox_clear(ob);
}

void outbox_clear(struct outbox *ob)
{
	free(ob->buf);
	ob->buf = NULL;
	ob->start = ob->end = ob->cap = 0;
	ob->bytes = 0;
	ob->frames = 0;
}

int outbox_send(struct outbox *ob, struct lws *wsi)
{
	unsigned char *p;
	size_t len, n;

	while ((p = outbox_peek(ob, OUTBOX_WRITE_MAX, &len, &n))) {
		/* the bytes are framed already: libwebsockets sends them as they are */
		if (lws_write(wsi, p, len, LWS_WRITE_RAW) < (int)len)
			return -1;
		outbox_pop(ob, len, n);
		if (lws_partial_buffered(wsi))
			break; /* libwebsockets holds the rest: wait for writable */
	}
	return 0;
}
