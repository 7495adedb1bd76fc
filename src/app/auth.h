/* auth.h - passwords, session tokens and login throttling.
 *
 * Argon2id (libsodium) is deliberately slow, so it never runs on the loop:
 * jobs go to libuv's thread pool, at most `concurrency` at once, with a
 * bounded queue behind them (beyond it: DUET_EBUSY).
 */
#ifndef DUET_AUTH_H
#define DUET_AUTH_H

#include <sodium.h>
#include <stdint.h>
#include <uv.h>

#include "../base/duet.h"
#include "../base/map.h"

#define AUTH_TOKEN_LEN 43 /* 32 bytes in unpadded base64url */

struct auth_job;
/* status: 0 (hash made / password matches), DUET_ENOTFOUND (no match),
 * or an error. For a hash job, hash is the encoded Argon2id string. */
typedef void (*auth_cb)(void *data, int status, const char *hash);

/* Ownership: embedded in struct app. Owns queued jobs and the throttle maps. */
struct auth {
    uv_loop_t *loop;
    unsigned long long opslimit;
    size_t memlimit;
    int concurrency, running;
    size_t queued, max_queue;
    struct auth_job *head, *tail; /* waiting jobs, FIFO */
    map_t by_user;                /* username -> struct throttle */
    map_t by_addr;                /* client address -> struct throttle */
    int64_t window_ms;
    int64_t max_user, max_addr;
    uv_timer_t sweep; /* drops expired throttle entries */
};

int auth_init(struct auth *a, uv_loop_t *loop, unsigned long long ops, size_t mem_kib,
              int concurrency, size_t max_queue, int64_t window_s, int64_t max_user,
              int64_t max_addr);
/* Closes the sweep timer; queued jobs still complete. */
void auth_close(struct auth *a);
void auth_free(struct auth *a);

/* Hashes password (copied) into an Argon2id string. */
int auth_hash(struct auth *a, const char *password, size_t len, auth_cb cb, void *data);
/* Checks password against hash (both copied). A NULL hash verifies against a
 * dummy so that unknown users take as long as known ones. */
int auth_verify(struct auth *a, const char *hash, const char *password, size_t len, auth_cb cb,
                void *data);

/* A new session token (text for the cookie) and the hash to store. */
void auth_token_new(char token[AUTH_TOKEN_LEN + 1], uint8_t hash[32]);
/* Hashes a presented token; -EINVAL if it is not a well-formed token. */
int auth_token_hash(const char *token, size_t len, uint8_t hash[32]);

/* Throttling. auth_throttled returns the seconds to wait (> 0) or 0. */
int64_t auth_throttled(struct auth *a, const char *user, const char *addr, int64_t now);
void auth_login_failed(struct auth *a, const char *user, const char *addr, int64_t now);
void auth_login_ok(struct auth *a, const char *user);

#endif
