/* sqlite_ckpt.h - the WAL's helpers of the SQLite backend: checkpoints on
 * a thread of their own (sqlite_ckpt.c) and the scrub of the pages a delete
 * for everyone leaves behind (sqlite_scrub.c, sqlite_vfs.c). Split from
 * sqlite_int.h, which embeds both structs in sq_store.
 */
#ifndef DUET_STORE_SQLITE_CKPT_H
#define DUET_STORE_SQLITE_CKPT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* The scrub of moved rows (sqlite_scrub.c, sqlite_vfs.c). Ownership:
 * embedded in sq_store (writer thread); owns its descriptor, bitmap, page
 * buffer and the VFS the writer's connection opens through. */
struct sq_scrub {
    sqlite3_vfs vfs;   /* forwards to real; notes the pages of WAL frames */
    sqlite3_vfs *real; /* the default VFS */
    char vfs_name[40];
    int vfs_registered;
    int db_fd;     /* duet.db, open until the connections are closed */
    uint8_t *page; /* one page */
    uint32_t pgsz, usable;
    uint32_t wal_pgsz; /* from the WAL header as SQLite writes it */
    uint8_t *dirty;    /* bitmap by page number: written since the last scrub */
    size_t dirty_len;
    int all;    /* scrub every page next time */
    int loaded; /* the bitmap came from the last clean stop (sqlite_scrub_state.c) */
    char *path; /* duet.db, for the state file beside it (sq_scrub_load) */
    /* sqlite_scrub_state.c: duet.db-scrub.lock, held shared for the life
     * of the store; solo: no other process had the file open when this one
     * started (an exclusive lock was granted), and lock_size is the lock
     * file's size then (each process that opens it appends a byte). */
    int lock_fd, lock_open, solo;
    int64_t lock_size;
    int warned;
    uint64_t runs, pages, written, ns; /* scrubs */
    uint64_t frames, odd;              /* frame headers noted; writes not understood */
};

/* Zeroes the unused space of b-tree page p (hdr: 100 on page 1, else 0;
 * usable: page size less reserved bytes): 1 changed, 0 nothing to zero, -1
 * not a b-tree page or a header that does not check out (left as it is). */
int sq_scrub_page(uint8_t *p, uint32_t usable, uint32_t hdr);
/* Registers the VFS; the writer's connection opens with sc->vfs_name. 0 or
 * an error (sq_scrub_close undoes what was done either way). */
int sq_scrub_init(struct sq_scrub *sc);
/* Once the writer's connection is open (path, db). 0 or an error. */
int sq_scrub_open(struct sq_scrub *sc, const char *path, sqlite3 *db);
/* After every connection is closed; harmless on a zeroed sq_scrub whose
 * db_fd is -1. */
void sq_scrub_close(struct sq_scrub *sc);
/* The VFS, on each write to the WAL (writer thread). */
void sq_scrub_wal_write(struct sq_scrub *sc, const uint8_t *buf, int n, int64_t off);
/* After an erasing checkpoint: scrubs the noted pages (every page the first
 * time) and drops db's page cache. 0 or DUET_ESTORE (logged; all next time). */
int sq_scrub_run(struct sq_scrub *sc, sqlite3 *db);
/* sqlite_scrub_state.c: before the database at path is opened, takes the
 * bitmap a clean stop left (then the first scrub need not cover every
 * page) and removes it; keeps "every page" when there is none or it does
 * not match the file. 0 or -ENOMEM. */
int sq_scrub_load(struct sq_scrub *sc, const char *path);
/* After every connection to the file closed: leaves the bitmap for the next
 * start, when every page outside it is known scrubbed. Best effort. */
void sq_scrub_save(struct sq_scrub *sc);
/* sqlite_vfs.c: fills and registers sc->vfs. 0 or DUET_ESTORE. */
int sq_vfs_register(struct sq_scrub *sc);
void sq_vfs_unregister(struct sq_scrub *sc);

/* WAL checkpoints on a helper thread (sqlite_ckpt.c). Ownership: embedded in
 * sq_store; owns its connection, thread, mutex and condition variable.
 * want, running, held, stop and the counters are shared with the writer
 * thread (WAL hook, sq_ckpt_erase) and the helper thread, under mu; the rest is set before the
 * thread starts. */
struct sq_ckpt {
    sqlite3 *db;            /* the helper's own connection, only for checkpoints */
    struct sq_scrub *scrub; /* writer thread only: the hook notes pages there */
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cond;
    int started;
    int want;    /* the WAL passed the limit: checkpoint */
    int running; /* the helper is in a checkpoint */
    int held;    /* the writer runs an erasing checkpoint: the helper waits */
    int stop;
    uint64_t runs, total_ns, max_ns;
    uint64_t erases, erase_ns, erase_max_ns; /* sq_ckpt_erase */
};

/* Opens the helper's connection to path, starts its thread, and replaces the
 * automatic checkpoint of the writer's connection by a WAL hook that wakes
 * it. Call before the writer thread starts. 0 or an error (nothing left). */
int sq_ckpt_start(struct sq_ckpt *c, const char *path, sqlite3 *writer);
/* Removes the hook from writer (NULL: leave it), joins the thread, closes the
 * connection. Call after the writer thread was joined; harmless if not
 * started. */
void sq_ckpt_stop(struct sq_ckpt *c, sqlite3 *writer);
/* Writer thread, outside a transaction: checkpoints everything with TRUNCATE
 * on writer, so that no WAL frame keeps text a delete erased. Waits for the
 * helper's checkpoint. 0, or DUET_ESTORE (logged; the WAL may still hold
 * old pages). */
int sq_ckpt_erase(struct sq_ckpt *c, sqlite3 *writer);

#endif
