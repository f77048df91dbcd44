/* wire.h: the JSON message schema of supportd.chat.v1 (docs/protocol.md).
 *
 * The only module that knows field names. It turns a client's text frame
 * into a checked struct wire_in, and builds every server frame as a new
 * malloc'd string. Content frames (customer message, reply) are built as a
 * "body" without seq, stored as such, and get their seq spliced in by
 * wire_with_seq() when sent or replayed. */
#ifndef SUPPORTD_WIRE_H
#define SUPPORTD_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum wire_error {
	WIRE_ERR_BAD_JSON,
	WIRE_ERR_NOT_OBJECT,
	WIRE_ERR_UNKNOWN_TYPE,
	WIRE_ERR_BAD_FIELD,
	WIRE_ERR_HELLO_REQUIRED,
	WIRE_ERR_ALREADY_GREETED,
	WIRE_ERR_EMPTY_TEXT,
	WIRE_ERR_TEXT_TOO_LONG,
	WIRE_ERR_INVALID_UTF8,
	WIRE_ERR_BINARY_UNSUPPORTED,
	WIRE_ERR_RATE_LIMITED,
	WIRE_ERR_CONVERSATION_FULL,
	WIRE_ERR_RESUME_UNKNOWN,
	WIRE_ERR_RESUME_EXPIRED,
	WIRE_ERR_STORE_UNAVAILABLE,
	WIRE_ERR_TOO_MANY_CONNECTIONS,
	WIRE_ERR_SERVER_BUSY,
	WIRE_ERR_FRAME_TOO_LARGE,
	WIRE_ERR_NOT_AVAILABLE,
	WIRE_ERR_LOGIN_REQUIRED,   /* agent protocol: a frame before login */
	WIRE_ERR_LOGIN_FAILED,
	WIRE_ERR_NOT_FOUND,        /* no such conversation in the agent's reach */
	WIRE_ERR_FORBIDDEN,        /* another team's chat */
	WIRE_ERR_NOT_ASSIGNED,     /* the chat is not the agent's (any more) */
	WIRE_ERR_AT_CAPACITY,
	WIRE_ERR_NOT_CLOSED,       /* csat for a conversation no agent closed */
	WIRE_ERR_LOGIN_REPLACED,   /* the agent logged in on another connection */
	WIRE_ERR_SESSION_ENDED,    /* the agent was removed, or given a new token */
	WIRE_ERR__COUNT
};

/* The code string of an error, e.g. "text_too_long". */
const char *wire_error_code(enum wire_error e);

enum wire_in_type { WIRE_IN_HELLO, WIRE_IN_MESSAGE, WIRE_IN_TYPING, WIRE_IN_ACK, WIRE_IN_CSAT,
		    WIRE_IN_RATE };
#define WIRE_COMMENT_MAX 1000

#define WIRE_ID_MAX 64
#define WIRE_RESUME_MAX 128
#define WIRE_LANG_MAX 16
#define WIRE_NAME_MAX 128
#define WIRE_EMAIL_MAX 254
#define WIRE_CHOICE_MAX 128

/* A checked client frame. String fields borrow from the parsed JSON and
 * live until wire_in_free(); absent optional fields are NULL. */
struct wire_in {
	enum wire_in_type type;
	void *json;            /* owned: the parsed document */
	const char *id;        /* message: client id */
	const char *text;      /* message */
	const char *choice;    /* message: id of the button pressed, may be NULL */
	size_t text_len;
	const char *resume;    /* hello */
	int has_last_seq;      /* hello */
	int64_t last_seq;
	const char *lang, *name, *email; /* hello */
	int state;             /* typing */
	int64_t seq;           /* ack */
	int rating;            /* csat: 1..5; rate: +1 (up) or -1 (down) */
	const char *comment;   /* csat, may be NULL */
};

/* What the parser reports about a frame it refused. */
struct wire_fault {
	enum wire_error code;
	char message[160];     /* for people: names the field and the limit */
	char in_reply_to[WIRE_ID_MAX + 1]; /* the frame's id when it had a valid one */
};

/* Parses and checks one text frame of `len` bytes (not NUL-terminated).
 * `max_text` is the limit on message text. Returns 0 and fills *in (release
 * with wire_in_free), or -1 and fills *fault. */
int wire_parse(const char *buf, size_t len, size_t max_text, struct wire_in *in,
	       struct wire_fault *fault);

/* Releases what wire_parse() filled in. Safe on a zeroed struct. */
void wire_in_free(struct wire_in *in);

/* Returns 1 if buf[0..len) is valid UTF-8, else 0. */
int wire_utf8_valid(const char *buf, size_t len);

/* A choice button offered with a reply. */
struct wire_choice {
	char *id;              /* owned */
	char *label;           /* owned */
};

/* One reply of the bot, as the pipeline decided it. */
struct wire_reply {
	char *text;            /* owned, UTF-8 */
	char *source;          /* owned, e.g. "fallback" */
	int has_confidence;
	double confidence;     /* 0..1 when has_confidence */
	struct wire_choice *choices; /* owned array */
	size_t n_choices;
	char *handoff_team;    /* owned: set on the notice of a handoff, else NULL */
	const char *from;      /* static: "bot" (NULL), "agent" or "system" */
	char *agent_name;      /* owned: the agent who wrote it, or NULL */
	char *lang;            /* owned: the text's language when it is not the
				* conversation's (an untranslated answer), or NULL */
};

/* Frees the fields of *r (not r itself). */
void wire_reply_clear(struct wire_reply *r);

/* Limits announced in welcome. */
struct wire_limits {
	size_t max_text, max_frame;
	double rate, burst;
};

/* Server frames. Each returns a new malloc'd NUL-terminated string. */
char *wire_welcome(const char *conversation, const char *token, int resumed,
		   int64_t last_seq, const struct wire_limits *lim);
char *wire_ack(const char *id, int64_t seq, int duplicate);
char *wire_error(enum wire_error code, const char *message, const char *in_reply_to);
char *wire_typing(const char *from, int state);
/* A customer's thumb on a bot reply was stored. */
char *wire_rated(int64_t seq, int value);
/* The customer's place in the queue (not stored, no seq). */
char *wire_queue(const char *team, int position, int64_t eta_sec);
/* Bodies of content frames, without seq (see wire_with_seq). */
char *wire_message_body(const char *id, const char *text, size_t text_len, int64_t ts);
char *wire_reply_body(const struct wire_reply *r, const char *in_reply_to, int64_t ts);
/* Returns a new string: `body` (a JSON object text) with "seq":seq as its
 * first member. */
char *wire_with_seq(const char *body, size_t body_len, int64_t seq, size_t *out_len);

#endif
