/* sqlite_scrub.c - zeroes the unused space of the b-tree pages written since
 * the last delete, so that "delete for everyone" leaves no copy of a row that
 * SQLite moved (docs/security.md, "Deleted text").
 *
 * secure_delete zeroes what a delete frees, but when SQLite rebalances a
 * b-tree it rebuilds pages from the cells they keep (btree.c, rebuildPage)
 * without zeroing the space that is then unused: a row that moved leaves a
 * copy of its in-page part there, which a later delete of the row does not
 * reach. So the writer's connection opens through a VFS that forwards every
 * call (sqlite_vfs.c) and, as SQLite writes each WAL frame header, notes its
 * page number; after the erasing TRUNCATE checkpoint, when every page is in
 * duet.db and nothing else writes, the writer zeroes the unused space of the
 * noted b-tree pages in the file: between the cell pointer array and the
 * cell content, and the bodies of free blocks. SQLite reads nothing there.
 * Then it drops its page cache, so that no cached image of a page brings a
 * copy back with its next write. The first scrub of a process covers every
 * page (what was written before it started was not noted).
 *
 * Debian's SQLite has no sqlite_dbpage table, so the pages are written with
 * pwrite on a descriptor of our own. That descriptor stays open until the
 * connections are closed: closing any descriptor of a file drops every
 * POSIX lock the process holds on it, SQLite's included.
 *
 * Thread safety: the writer thread only (its connection's VFS calls and the
 * erase run there); set up before the writer starts, closed after it joined.
 */
#include "sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../base/log.h"

#define SQ_WAL_HDR   32
#define SQ_FRAME_HDR 24
/* Beyond 2^24 pages the first byte of an overflow or freelist trunk page (a
 * page number) can look like a b-tree page type: no scrub there. */
#define SQ_SCRUB_MAX_PAGES (1u << 24)

static uint32_t get2(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get4(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Zeroes [from, to) of p; 1 if a byte was not zero. */
static int zero_range(uint8_t *p, uint32_t from, uint32_t to)
{
    int changed = 0;
    for (uint32_t i = from; i < to; i++)
        changed |= p[i] != 0;
    if (changed)
        memset(p + from, 0, to - from);
    return changed;
}

int sq_scrub_page(uint8_t *p, uint32_t usable, uint32_t hdr)
{
    if (usable < 512 || hdr + 12 > usable)
        return -1;
    uint8_t type = p[hdr];
    if (type != 2 && type != 5 && type != 10 && type != 13)
        return -1; /* not a b-tree page */
    uint32_t hsz = type == 2 || type == 5 ? 12 : 8;
    uint32_t ncell = get2(p + hdr + 3), content = get2(p + hdr + 5);
    if (content == 0)
        content = 65536;
    uint32_t ptr_end = hdr + hsz + 2 * ncell;
    if (ptr_end > content || content > usable)
        return -1;
    for (uint32_t i = 0; i < ncell; i++) {
        uint32_t c = get2(p + hdr + hsz + 2 * i);
        if (c < content || c >= usable)
            return -1;
    }
    /* Free blocks: ascending, inside the content area, not overlapping.
     * Checked whole before anything is written. */
    uint32_t blocks[512][2], nb = 0;
    for (uint32_t fb = get2(p + hdr + 1), lo = content; fb != 0; fb = get2(p + fb)) {
        if (nb == sizeof(blocks) / sizeof(blocks[0]) || fb < lo || fb + 4 > usable)
            return -1;
        uint32_t size = get2(p + fb + 2);
        if (size < 4 || fb + size > usable)
            return -1;
        blocks[nb][0] = fb;
        blocks[nb][1] = size;
        nb++;
        lo = fb + size;
    }
    int changed = zero_range(p, ptr_end, content);
    for (uint32_t i = 0; i < nb; i++)
        changed |= zero_range(p, blocks[i][0] + 4, blocks[i][0] + blocks[i][1]);
    return changed;
}

int sq_scrub_init(struct sq_scrub *sc)
{
    sc->db_fd = -1;
    sc->lock_fd = -1;
    sc->all = 1; /* what was written before this process was not noted */
    return sq_vfs_register(sc);
}

int sq_scrub_open(struct sq_scrub *sc, const char *path, sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        sc->pgsz = (uint32_t)sqlite3_column_int(st, 0);
    (void)sqlite3_finalize(st);
    /* -1: read the reserved bytes per page without setting them. */
    int reserve = -1;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve) != SQLITE_OK)
        reserve = -1;
    if (sc->pgsz < 512 || sc->pgsz > 65536 || reserve < 0 || (uint32_t)reserve >= sc->pgsz / 2) {
        log_error("store: sqlite: scrub: page size %u, reserve %d", sc->pgsz, reserve);
        return DUET_ESTORE;
    }
    sc->usable = sc->pgsz - (uint32_t)reserve;
    if ((sc->page = malloc(sc->pgsz)) == NULL)
        return -ENOMEM;
    if ((sc->db_fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
        log_error("store: sqlite: scrub: open %s: %s", path, strerror(errno));
        return DUET_ESTORE;
    }
    return 0;
}

void sq_scrub_close(struct sq_scrub *sc)
{
    if (sc->runs > 0)
        log_info("store: sqlite: %llu scrubs after deletes, %llu pages read, %llu rewritten, %.1f "
                 "ms in all; %llu WAL frames noted, %llu writes not understood",
                 (unsigned long long)sc->runs, (unsigned long long)sc->pages,
                 (unsigned long long)sc->written, (double)sc->ns / 1e6,
                 (unsigned long long)sc->frames, (unsigned long long)sc->odd);
    if (sc->db_fd >= 0 && close(sc->db_fd) < 0)
        log_warn("store: sqlite: scrub: close: %s", strerror(errno));
    sq_vfs_unregister(sc);
    if (sc->lock_open && close(sc->lock_fd) < 0) /* drops its lock */
        log_warn("store: sqlite: scrub: close: %s", strerror(errno));
    free(sc->path);
    free(sc->dirty);
    free(sc->page);
    memset(sc, 0, sizeof(*sc));
    sc->db_fd = -1;
    sc->lock_fd = -1;
}

/* Marks page pgno; a bitmap that cannot grow turns into "every page". */
static void mark(struct sq_scrub *sc, uint32_t pgno)
{
    size_t byte = pgno / 8;
    if (byte >= sc->dirty_len) {
        size_t len = sc->dirty_len > 0 ? sc->dirty_len : 4096;
        while (len <= byte)
            len *= 2;
        uint8_t *d = realloc(sc->dirty, len);
        if (d == NULL) {
            sc->all = 1;
            return;
        }
        memset(d + sc->dirty_len, 0, len - sc->dirty_len);
        sc->dirty = d;
        sc->dirty_len = len;
    }
    sc->dirty[byte] |= (uint8_t)(1u << (pgno % 8));
}

/* Reads n bytes at off; 0 or -1 (short or failed: errno says which). */
static int read_at(int fd, void *buf, size_t n, off_t off)
{
    ssize_t r = pread(fd, buf, n, off);
    if (r == (ssize_t)n)
        return 0;
    if (r >= 0)
        errno = EIO; /* the file ends inside the page: not as fstat said */
    return -1;
}

/* Writes n bytes at off; 0 or -1 (errno set, EIO when short). */
static int write_at(int fd, const void *buf, size_t n, off_t off)
{
    ssize_t r = pwrite(fd, buf, n, off);
    if (r == (ssize_t)n)
        return 0;
    if (r >= 0)
        errno = EIO;
    return -1;
}

void sq_scrub_wal_write(struct sq_scrub *sc, const uint8_t *buf, int n, int64_t off)
{
    if (off == 0 && n >= SQ_WAL_HDR) {
        sc->wal_pgsz = get4(buf + 8); /* the WAL (re)starts */
        return;
    }
    if (n != SQ_FRAME_HDR) {
        if ((uint32_t)n != sc->wal_pgsz) {
            sc->odd++;   /* not a frame as SQLite 3.x writes them: to be safe, */
            sc->all = 1; /* every page next time */
        }
        return;
    }
    uint32_t stride = SQ_FRAME_HDR + sc->wal_pgsz;
    if (sc->wal_pgsz == 0 || off < SQ_WAL_HDR || (off - SQ_WAL_HDR) % stride != 0) {
        sc->odd++;
        sc->all = 1;
        return;
    }
    sc->frames++;
    if (!sc->all)
        mark(sc, get4(buf));
}

/* The WAL-index's checkpointer lock: slot 1 of the locks the WAL file
 * format defines (write 0, checkpoint 1, recover 2, readers 3-7), fixed so
 * that every SQLite sharing a file agrees. */
#define SQ_SHM_CKPT_LOCK   1
#define SQ_CKPT_LOCK_TRIES 100

/* Takes (lock 1) or drops (0) the checkpointer lock through the writer's
 * own main-database file; SQLITE_OK, SQLITE_BUSY or an error. */
static int ckpt_lock(sqlite3 *db, int lock)
{
    sqlite3_file *f = NULL;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || f == NULL ||
        f->pMethods == NULL || f->pMethods->iVersion < 2 || f->pMethods->xShmLock == NULL)
        return SQLITE_MISUSE;
    return f->pMethods->xShmLock(f, SQ_SHM_CKPT_LOCK, 1,
                                 (lock ? SQLITE_SHM_LOCK : SQLITE_SHM_UNLOCK) |
                                     SQLITE_SHM_EXCLUSIVE);
}

/* While the scrub rewrites pages of duet.db, no checkpoint may write them:
 * a page read before a checkpoint wrote it and written back after would
 * lose that write. Checkpoints are the only writers of duet.db in WAL
 * mode, and each takes this lock (ours: the helper thread; other
 * processes sharing the file: theirs). Tried 100 times, 10 ms apart. */
static int ckpt_hold(sqlite3 *db)
{
    int rc = SQLITE_BUSY;
    for (int i = 0; i < SQ_CKPT_LOCK_TRIES && (rc = ckpt_lock(db, 1)) == SQLITE_BUSY; i++)
        sqlite3_sleep(10);
    return rc;
}

/* Scrubs page pgno of the file: 1 written, 0 nothing to do, -1 error. */
static int scrub_one(struct sq_scrub *sc, uint32_t pgno)
{
    off_t off = (off_t)(pgno - 1) * sc->pgsz;
    if (read_at(sc->db_fd, sc->page, sc->pgsz, off) < 0)
        return -1;
    if (sq_scrub_page(sc->page, sc->usable, pgno == 1 ? 100 : 0) <= 0)
        return 0;
    return write_at(sc->db_fd, sc->page, sc->pgsz, off) == 0 ? 1 : -1;
}

int sq_scrub_run(struct sq_scrub *sc, sqlite3 *db)
{
    if (sc->db_fd < 0)
        return 0;
    uint64_t t0 = uv_hrtime();
    int rc = ckpt_hold(db);
    if (rc != SQLITE_OK) {
        /* Owed to the next batch, bitmap kept: nothing was read. */
        log_warn("store: sqlite: scrub: checkpoint lock: %s", sqlite3_errstr(rc));
        return DUET_ESTORE;
    }
    struct stat st;
    if (fstat(sc->db_fd, &st) < 0) {
        int e = errno;
        (void)ckpt_lock(db, 0);
        errno = e;
        goto err;
    }
    uint64_t npages = (uint64_t)st.st_size / sc->pgsz;
    if (npages >= SQ_SCRUB_MAX_PAGES) {
        (void)ckpt_lock(db, 0);
        if (!sc->warned)
            log_warn("store: sqlite: scrub: %llu pages is beyond what it can tell apart; moved "
                     "rows are not scrubbed (docs/security.md)",
                     (unsigned long long)npages);
        sc->warned = 1;
        return 0;
    }
    /* The page that holds the lock bytes (at 1 GiB) is never used. */
    uint64_t lock_page = (uint64_t)1073741824 / sc->pgsz + 1;
    uint64_t written = 0, seen = 0;
    int failed = 0;
    for (uint64_t pg = 1; pg <= npages && !failed; pg++) {
        if (!sc->all && (pg / 8 >= sc->dirty_len || !(sc->dirty[pg / 8] & (1u << (pg % 8)))))
            continue;
        if (pg == lock_page)
            continue;
        seen++;
        int r = scrub_one(sc, (uint32_t)pg);
        failed = r < 0;
        written += r > 0 ? 1 : 0;
    }
    if (!failed && written > 0 && fdatasync(sc->db_fd) < 0)
        failed = 1;
    int e = errno;
    (void)ckpt_lock(db, 0); /* unlocking a held lock does not fail */
    errno = e;
    if (failed)
        goto err;
    /* The cache may hold pages as they were before: drop it (the writer is
     * between transactions, so no page is in use). After the checkpoint the
     * cache holds what the file holds, so when no page changed it holds no
     * copy either and stays (a cold cache costs the next batch reads). */
    if (written > 0 &&
        sqlite3_file_control(db, "main", SQLITE_FCNTL_RESET_CACHE, NULL) != SQLITE_OK)
        (void)sqlite3_db_release_memory(db);
    if (sc->dirty != NULL)
        memset(sc->dirty, 0, sc->dirty_len);
    sc->all = 0;
    sc->runs++;
    sc->pages += seen;
    sc->written += written;
    sc->ns += uv_hrtime() - t0;
    return 0;

err:
    log_warn("store: sqlite: scrub: %s", strerror(errno));
    sc->all = 1;
    return DUET_ESTORE;
}
