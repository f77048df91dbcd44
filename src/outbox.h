/* outbox.h: a connection's queue of outgoing websocket text frames.
 *
 * Frames are framed as they are queued (a server's frames are unmasked: a
 * 2, 4 or 10-byte header, then the payload) into one byte buffer, so that
 * the writable callback hands many frames to the socket with one write
 * (outbox_send): an ack and its reply, or a resumed transcript, cost one
 * send() instead of one each. The queue is bounded in bytes: a client
 * that stops reading is cut off rather than allowed to grow it. An empty
 * queue holds no memory, so an idle connection costs nothing here. */
#ifndef SUPPORTD_OUTBOX_H
#define SUPPORTD_OUTBOX_H

#include <stddef.h>

struct lws;

struct outbox {
	unsigned char *buf;  /* headroom, then the queue at [start, end) */
	size_t start, end, cap;
	size_t bytes;        /* bytes queued, frame headers included */
	size_t frames;       /* whole frames queued */
	size_t headroom;     /* spare bytes kept before the queue */
};

/* The most one outbox_send write takes, unless a single frame is longer. */
#define OUTBOX_WRITE_MAX (64u * 1024u)

void outbox_init(struct outbox *ob, size_t headroom);

/* Frames len bytes of text and queues them. Returns 0, or -1 (nothing
 * queued) if that would put more than max_bytes in the queue. */
int outbox_push(struct outbox *ob, const char *text, size_t len, size_t max_bytes);

/* The whole frames at the head that fit in `max` bytes (at least the first
 * frame, however long), with `headroom` writable bytes before them; sets
 * *len to their bytes and *frames to their count. NULL when empty. The
 * memory stays valid until the next push, pop or clear. */
unsigned char *outbox_peek(struct outbox *ob, size_t max, size_t *len, size_t *frames);

/* Drops what the last peek returned: len bytes holding `frames` frames. */
void outbox_pop(struct outbox *ob, size_t len, size_t frames);

/* Drops every frame and frees the buffer. */
void outbox_clear(struct outbox *ob);

/* Writes queued frames to wsi, OUTBOX_WRITE_MAX bytes of whole frames per
 * write, while the socket takes them whole (libwebsockets keeps the rest
 * of a write the kernel takes in part and says so; nothing more is
 * written then, and no frame is ever split between writes, so frames that
 * libwebsockets sends itself, such as a pong, never land inside one).
 * Returns -1 when the connection failed, else 0; frames may remain queued
 * (wait for the next writable callback). */
int outbox_send(struct outbox *ob, struct lws *wsi);

#endif
