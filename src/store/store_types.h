/* store_types.h - the rows and values the store hands out (store.h has
 * the requests that carry them). Strings in them live in the request's
 * pool; times are milliseconds since the epoch, 0 = not set.
 */
#ifndef DUET_STORE_TYPES_H
#define DUET_STORE_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "../base/duet.h"

/* The seed's service_type column of the pending table. */
enum pending_kind {
    PENDING_MESSAGE = 0,   /* a new message for the recipient */
    PENDING_DELIVERED = 1, /* "delivered up to seq", for the sender */
    PENDING_SEEN = 2,      /* "seen up to seq", for the sender */
    PENDING_DELETED = 3,   /* a message at seq was deleted for everyone */
    /* issue 17 (c-msg): each a latest-wins row per (user, chat, seq) */
    PENDING_REACTION = 4, /* the peer reacted to the message at seq (or removed it) */
    PENDING_EDITED = 5,   /* the message at seq was edited */
    PENDING_HIDDEN = 6,   /* the user hid the message at seq (delete for me) */
    /* c-org: the user's pin/archive/mute of a chat changed (latest wins per
     * chat: one row per user and chat, at sequence 0; the state is in
     * duet_pending.state). */
    PENDING_CHAT_STATE = 7,
};

/* One reaction to a message (issue 17). */
struct duet_reaction {
    duet_id user;
    const char *emoji; /* 1..32 bytes of UTF-8 */
    int64_t at;
};

enum lastseen_vis { LASTSEEN_FRIENDS = 0, LASTSEEN_NOBODY = 1 };

struct duet_user {
    duet_id id;
    const char *username;     /* lowercase */
    const char *display_name; /* UTF-8, 1..64 chars */
    const char *pwhash;       /* Argon2id string; only filled by USER_GET_BY_NAME */
    int64_t created_at;
    int64_t last_seen; /* when the last connection closed; 0 = never */
    int lastseen_vis;  /* enum lastseen_vis */
    int read_receipts; /* 1 = on */
};

/* A row of the seed's private-chat table. */
struct duet_msg {
    duet_id chat_id;
    duet_id sender;
    duet_id receiver;
    const char *message_id; /* client-generated, unique per chat */
    const char *message;    /* "" once deleted */
    int type;               /* 0 = text (seed: 1 image, 2 video, 3 audio) */
    const char *preview;    /* "" for text */
    int64_t sequence;       /* per chat, from 1, no gaps */
    int64_t sent_at;
    int64_t received_at;
    int64_t seen_at;
    int64_t deleted_at;
    /* Only in the receiver's reads of a message withheld from them (sent
     * while they blocked the sender): a placeholder with no text, so that
     * sequence numbers stay gap-free; never set in the sender's. */
    int withheld;
    /* Media (issue 15): the media object as JSON text (id, mime, size, name,
     * width, height, duration_ms, waveform; docs/protocol.md), or "" / NULL
     * for text; the thumbnail is preview. "" once deleted. */
    const char *media;
    /* issue 17 (c-msg); all 0/NULL when unset. */
    int64_t reply_to;                /* the quoted message's seq, 0 = not a reply */
    duet_id reply_sender;            /* the quoted message's sender */
    const char *reply_snippet;       /* its first line (<= 100 chars), "" once deleted */
    int reply_type;                  /* its type */
    int reply_deleted;               /* it was deleted for everyone */
    int forwarded;                   /* a copy made by forward */
    int64_t edited_at;               /* last edit, 0 = never */
    int hidden;                      /* the reader hid it (delete for me): no text, no quote */
    struct duet_reaction *reactions; /* HISTORY only: the visible reactions */
    size_t n_reactions;
};

/* An upload's life: staged (bytes arriving under <data>/uploads/), stored
 * (complete, handed to the blob store), attached (to a message at
 * chat_id/seq), deleted (the message was deleted for everyone: the blob is
 * to go; the sweep finishes what a crash interrupted). */
enum upload_state {
    UPLOAD_STAGING = 0,
    UPLOAD_STORED = 1,
    UPLOAD_ATTACHED = 2,
    UPLOAD_DELETED = 3
};

/* An upload (tus, /api/uploads) and, once attached, a message's media. */
struct duet_upload {
    const char *id; /* 32 lowercase hex digits; the blob key */
    duet_id owner;
    uint64_t length;
    uint64_t offset;      /* bytes received and fsync'd */
    const char *name;     /* Upload-Metadata filename */
    const char *filetype; /* Upload-Metadata filetype (informative) */
    const char *mime;     /* the sniffed type, "" until stored */
    int kind;             /* enum media_kind of the sniffed bytes, 0 until stored */
    int state;            /* enum upload_state */
    int64_t created_at;
    int64_t expires_at; /* unattached uploads go after this */
    duet_id chat_id;    /* attached: the message's chat and sequence */
    int64_t seq;
};

/* One user's organisation of one chat (c-org): per user, never seen by the
 * peer. muted_until: ms, 0 = not muted, INT64_MAX = always (the push
 * engineer's hook: no notification while now < muted_until). */
struct duet_chat_state {
    int pinned;          /* 0/1; at most STORE_MAX_PINNED per user */
    int archived;        /* 0/1; a new message from the peer clears it */
    int64_t muted_until; /* 0 = not muted */
    int64_t pinned_at;   /* when pinned (orders the pinned chats), 0 = not */
};

/* A row of the seed's pending/notification table, for one user.
 *  MESSAGE:   msg is the whole message.
 *  DELIVERED: msg.chat_id, msg.sequence (up to), msg.received_at.
 *  SEEN:      msg.chat_id, msg.sequence (up to), msg.seen_at.
 *  DELETED:   msg.chat_id, msg.sequence, msg.message_id, msg.deleted_at,
 *             msg.sender.
 *  REACTION:  msg.chat_id, msg.sequence, msg.sender (who reacted), msg.message
 *             (the emoji, "" = removed), msg.sent_at (when).
 *  EDITED:    msg.chat_id, msg.sequence, msg.message_id, msg.sender, msg.message
 *             (the new text), msg.edited_at.
 *  HIDDEN:    msg.chat_id, msg.sequence (hidden by the user on another device).
 *  CHAT_STATE: msg.chat_id, msg.sequence = 0, state.
 */
struct duet_pending {
    int kind; /* enum pending_kind */
    struct duet_msg msg;
    struct duet_chat_state state; /* CHAT_STATE only */
};

/* One entry of the conversation list. */
struct duet_chat {
    duet_id chat_id;
    struct duet_user peer; /* no pwhash */
    int has_last;
    struct duet_msg last;  /* the newest message, when has_last */
    int64_t unread;        /* peer's messages after my read position, among the
                              newest STORE_UNREAD_MAX there */
    int64_t last_activity; /* newest message's sent_at, else friendship time */
    int64_t my_read_seq;   /* how far I have seen */
    int64_t peer_read_seq; /* how far the peer has seen; 0 unless receipts on both sides */
    int blocked_by_me;
    int blocked_me; /* for presence only: never shown to the user (docs/security.md) */
    int friends;    /* 0: the friendship ended; the chat stays, read-only */
    struct duet_chat_state state; /* the user's pin/archive/mute (muted_until: push's hook) */
};

/* A search result (STORE_SEARCH): the message as the user may read it. */
struct duet_hit {
    struct duet_msg msg;
    int64_t cursor; /* the backend's position: pass as before for the next page */
};

#define STORE_MAX_PINNED 3
#define STORE_SEARCH_MAX 50
#define STORE_QUERY_MAX  256 /* bytes of a search query */
/* A chat's unread count looks at the newest messages after the read
 * position, this many at most, so that listing chats costs the same however
 * long a friend has been writing (clients show 999+). */
#define STORE_UNREAD_MAX 1000
/* muted_until of "always": the year 9999, still exact in JavaScript */
#define STORE_MUTE_ALWAYS 253402300799999LL

/* How far a chat had got when a request read it (STORE_PENDING_LIST). */
struct duet_cursor {
    duet_id chat_id;
    int64_t last_seq;
};

/* A friend request, seen from one side. */
struct duet_friend_req {
    struct duet_user user; /* the other side */
    int64_t created_at;
};

enum { STATE_SET_PIN = 1, STATE_SET_ARCHIVE = 2, STATE_SET_MUTE = 4 };

/* REACTION: someone reacted to the user's message; text is the emoji (kept
 * whatever the preview setting: it is not the message's text). */
enum push_job_kind { PUSH_JOB_MESSAGE = 0, PUSH_JOB_CLEAR = 1, PUSH_JOB_REACTION = 2 };
enum push_job_result { PUSH_RESULT_DELIVERED = 0, PUSH_RESULT_GONE = 1, PUSH_RESULT_FAILED = 2 };

/* A browser's push subscription (strings in the request's pool). */
struct duet_push_sub {
    duet_id id;
    duet_id user;
    const char *endpoint;
    const char *p256dh; /* base64url, as the browser gave them */
    const char *auth;
    const char *device; /* the label the client chose, may be "" */
    int64_t created_at;
    int64_t last_success; /* 0 = never */
};

/* A push due to one subscription (the persisted queue). */
struct duet_push_job {
    duet_id id;
    struct duet_push_sub sub;
    int kind; /* enum push_job_kind */
    duet_id chat_id;
    int64_t seq;
    const char *from; /* the sender's display name ("" for CLEAR) */
    const char *text; /* the message's text with preview on, else "" */
    int64_t created_at;
};

enum friend_result { FRIEND_REQUESTED = 1, FRIEND_ACCEPTED = 2, FRIEND_PENDING = 3 };

#endif
