/* duet.h - types and error codes shared by every module.
 *
 * Conventions (after libuv): functions return 0 or a negative error code,
 * either a negated errno (-ENOMEM, -EINVAL, ...) or one of the DUET_E* codes
 * below, which are all below -1000 so they never collide with errno values.
 */
#ifndef DUET_H
#define DUET_H

#include <stddef.h>
#include <stdint.h>

/* Domain errors. Each maps to one stable protocol error code (see
 * duet_strerror_code() and docs/protocol.md). */
enum {
    DUET_ENOTFOUND = -1001,   /* no such user / chat / message / request */
    DUET_EEXISTS = -1002,     /* username taken */
    DUET_EFORBIDDEN = -1003,  /* not yours: someone else's chat or message */
    DUET_ENOTFRIENDS = -1004, /* the other user is not (or no longer) a friend */
    DUET_EBLOCKED = -1005,    /* one side blocks the other */
    DUET_ESTORE = -1006,      /* the store failed (I/O, disk full, corruption) */
    DUET_EEXPIRED = -1007,    /* delete window is over */
    DUET_ECONFLICT = -1008,   /* client message id already used by the other participant */
    DUET_ESELF = -1009,       /* befriending or blocking oneself */
    DUET_EALREADY = -1010,    /* already friends / request already sent */
    DUET_EBUSY = -1011,       /* a bounded queue is full; retry later */
    DUET_EDELETED = -1012,    /* message already deleted */
    DUET_EFULL = -1013,       /* the recipient's backlog of pending rows is at its ceiling */
    DUET_ELIMIT = -1014,      /* a per-day ceiling (friend requests) is reached */
};

/* A 128-bit identifier (users and chats), printed as a canonical UUID. */
typedef struct {
    uint8_t b[16];
} duet_id;

#define DUET_ID_STRLEN 36 /* without the NUL */

/* A borrowed byte range, after h2o's iovec: never owns its memory. */
typedef struct {
    const char *base;
    size_t len;
} duet_slice;

#define DUET_SLICE_LIT(s) ((duet_slice){(s), sizeof(s) - 1})

/* The value of a hex digit, or -1. */
int duet_hexval(char c);
/* Writes n bytes as 2n lowercase hex digits and a NUL into out. */
void duet_hex_encode(const uint8_t *b, size_t n, char *out);
/* Reads 2n hex digits (any case) into n bytes; 0 or -EINVAL (out may be
 * partly written then). */
int duet_hex_decode(const char *s, size_t n, uint8_t *out);

/* Milliseconds since the Unix epoch, from the wall clock. */
int64_t duet_now_ms(void);

void duet_id_format(const duet_id *id, char out[DUET_ID_STRLEN + 1]);
/* Parses a canonical (8-4-4-4-12, any hex case) UUID; 0 or -EINVAL. */
int duet_id_parse(const char *s, size_t len, duet_id *out);
int duet_id_eq(const duet_id *a, const duet_id *b);
int duet_id_cmp(const duet_id *a, const duet_id *b);
/* A random (version 4) id, from libsodium's CSPRNG. */
void duet_id_random(duet_id *out);
/* The chat id of a pair of users: a keyed hash of the ordered pair, so every
 * instance and every backend derives the same id without coordination. */
void duet_chat_id(const duet_id *a, const duet_id *b, duet_id *out);

/* Stable protocol error code for an error, e.g. "not_friends". */
const char *duet_strerror_code(int err);

#endif
