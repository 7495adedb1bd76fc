/* test_store_sqlite_scrub.c - the scrub of moved rows (sqlite_scrub.c): the
 * page rules on crafted pages, then on a real store, bytes planted in the
 * unused space of a page (what a rebalance leaves of a moved row) are gone
 * from duet.db once a delete completed: every page at the first delete of a
 * process, then the pages written since; across a clean stop, only what the
 * last process left owed (sqlite_scrub_state.c). */
#include <fcntl.h>

#include "test_store_sqlite.h"

TestSuite(store_sqlite_scrub, .init = setup, .fini = teardown, .timeout = 30);

#define PG 4096

static void put2(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static int all_are(const uint8_t *p, uint32_t from, uint32_t to, uint8_t v)
{
    for (uint32_t i = from; i < to; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

/* A table leaf page at hdr: cells at 3900 (50 bytes) and 4050 (46), a free
 * block at 3950 (100 bytes), the rest unused; unused bytes are 'X' and 'Y'. */
static void leaf(uint8_t *p, uint32_t hdr)
{
    memset(p, 'H', PG);
    p[hdr] = 13;
    put2(p + hdr + 1, 3950); /* first free block */
    put2(p + hdr + 3, 2);
    put2(p + hdr + 5, 3900);
    p[hdr + 7] = 0;
    put2(p + hdr + 8, 3900);
    put2(p + hdr + 10, 4050);
    memset(p + hdr + 12, 'X', 3900 - (hdr + 12));
    memset(p + 3900, 'C', 50);
    put2(p + 3950, 0);
    put2(p + 3952, 100);
    memset(p + 3954, 'Y', 96);
    memset(p + 4050, 'C', 46);
}

Test(store_sqlite_scrub, zeroes_the_gap_and_free_blocks_only)
{
    static uint8_t p[PG], before[PG];
    leaf(p, 0);
    memcpy(before, p, PG);
    cr_assert_eq(sq_scrub_page(p, PG, 0), 1);
    cr_assert(all_are(p, 12, 3900, 0), "the gap is zeroed");
    cr_assert(all_are(p, 3954, 4050, 0), "the free block's body is zeroed");
    cr_assert_eq(memcmp(p, before, 12), 0, "header and cell pointers kept");
    cr_assert_eq(memcmp(p + 3900, before + 3900, 54), 0, "cell and free block header kept");
    cr_assert(all_are(p, 4050, PG, 'C'), "the last cell is kept");
    cr_assert_eq(sq_scrub_page(p, PG, 0), 0, "nothing left to zero");
}

Test(store_sqlite_scrub, page_one_keeps_the_file_header)
{
    static uint8_t p[PG];
    leaf(p, 100);
    cr_assert_eq(sq_scrub_page(p, PG, 100), 1);
    cr_assert(all_are(p, 0, 100, 'H'));
    cr_assert(all_are(p, 112, 3900, 0));
}

/* Pages that are not b-tree pages, or whose header does not check out, are
 * left exactly as they are. */
static void expect_untouched(uint8_t *p, const char *what)
{
    static uint8_t before[PG];
    memcpy(before, p, PG);
    cr_assert_eq(sq_scrub_page(p, PG, 0), -1, "%s", what);
    cr_assert_eq(memcmp(p, before, PG), 0, "%s: changed", what);
}

Test(store_sqlite_scrub, leaves_other_pages_alone)
{
    static uint8_t p[PG];
    leaf(p, 0);
    p[0] = 0; /* an overflow page: a page number first */
    expect_untouched(p, "overflow");
    leaf(p, 0);
    put2(p + 5, 8); /* content before the end of the cell pointers */
    expect_untouched(p, "content start");
    leaf(p, 0);
    put2(p + 10, 5000); /* a cell beyond the page */
    expect_untouched(p, "cell pointer");
    leaf(p, 0);
    put2(p + 3950, 3950); /* a free block that points at itself */
    expect_untouched(p, "free block loop");
    leaf(p, 0);
    put2(p + 3952, 200); /* a free block past the page */
    expect_untouched(p, "free block size");
    leaf(p, 0);
    put2(p + 1, 3000); /* a free block outside the content area */
    expect_untouched(p, "free block place");
}

/* ---- on a real store ---- */

static const char MARK[] = "SCRUB-MARKER-0123456789";

/* The first leaf page of table name, from dbstat on a connection of ours. */
static uint32_t leaf_of(const char *name)
{
    char sql[160];
    snprintf(sql, sizeof(sql),
             "SELECT pageno FROM dbstat WHERE name = '%s' AND pagetype = 'leaf' ORDER BY pageno "
             "LIMIT 1",
             name);
    int64_t pg = sql_int(sql);
    cr_assert_gt(pg, 1);
    return (uint32_t)pg;
}

/* Writes MARK into the middle of the unused space of page pg of the file. */
static void plant(int fd, uint32_t pg)
{
    static uint8_t p[PG];
    off_t off = (off_t)(pg - 1) * PG;
    cr_assert_eq(pread(fd, p, PG, off), PG);
    cr_assert(p[0] == 13 || p[0] == 10, "page %u is a leaf", pg);
    uint32_t hsz = 8, ncell = (uint32_t)p[3] << 8 | p[4], content = (uint32_t)p[5] << 8 | p[6];
    uint32_t from = hsz + 2 * ncell;
    cr_assert_gt(content, from + sizeof(MARK) + 8, "room in page %u", pg);
    memcpy(p + (from + content - sizeof(MARK)) / 2, MARK, sizeof(MARK));
    cr_assert_eq(pwrite(fd, p, PG, off), PG);
}

static int marked(int fd, uint32_t pg)
{
    static uint8_t p[PG + 1];
    cr_assert_eq(pread(fd, p, PG, (off_t)(pg - 1) * PG), PG);
    p[PG] = 0;
    return memmem(p, PG, MARK, sizeof(MARK) - 1) != NULL;
}

static void del(int64_t seq, int64_t now)
{
    store_req *r = op(STORE_MSG_DELETE);
    r->in.user = E.alice;
    r->in.chat_id = E.ab;
    r->in.seq = seq;
    r->in.now = now;
    r->in.window_ms = 15 * MINUTE;
    cr_assert_eq(run(r), 0);
    done(r);
}

Test(store_sqlite_scrub, a_delete_scrubs_what_a_move_would_leave)
{
    int64_t s1, s2;
    cr_assert_eq(send_msg(E.alice, E.ab, "m1", "hello", T0 + 10, &s1), 0);
    cr_assert_eq(send_msg(E.alice, E.ab, "m2", "again", T0 + 11, &s2), 0);
    /* A clean close leaves every page in duet.db and no WAL. */
    close_store(E.st);
    E.st = NULL;
    /* Kept open until the store is closed again: closing a descriptor of the
     * file drops the process's locks on it, the store's included. */
    int fd = open(E.path, O_RDWR | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    uint32_t msgs = leaf_of("messages"), users = leaf_of("users");
    plant(fd, msgs);
    plant(fd, users);

    /* The first delete of a process scrubs every page. */
    E.st = open_store();
    cr_assert(marked(fd, msgs) && marked(fd, users), "planted");
    del(s1, T0 + 20);
    cr_assert(!marked(fd, msgs), "the messages page still holds the planted bytes");
    cr_assert(!marked(fd, users), "a page not written since the start was not scrubbed");

    /* Then only the pages written since: the next send rewrites the
     * messages page from the file, planted bytes included (the scrub dropped
     * the cache), and the next delete scrubs it; the users page, not written
     * since, is left as it is (the cost stays bounded by the traffic). */
    plant(fd, msgs);
    plant(fd, users);
    int64_t s3;
    cr_assert_eq(send_msg(E.alice, E.ab, "m3", "third", T0 + 30, &s3), 0);
    del(s2, T0 + 31);
    cr_assert(!marked(fd, msgs), "a page written since the last delete was not scrubbed");
    cr_assert(marked(fd, users), "a page not written since the last delete was scrubbed");

    close_store(E.st);
    E.st = NULL;
    cr_assert_eq(close(fd), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM messages"), 3, "the store reads as before");
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(E.path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ---- the state a clean stop leaves (sqlite_scrub_state.c) ---- */

static struct sq_scrub *scrub_of(store_t *st)
{
    return &((sq_store *)st)->scrub;
}

static int state_exists(void)
{
    char p[160];
    snprintf(p, sizeof(p), "%s-scrub", E.path);
    return access(p, F_OK) == 0;
}

Test(store_sqlite_scrub, a_clean_stop_hands_over_what_is_owed)
{
    int64_t s1, s2, s3;
    cr_assert_eq(send_msg(E.alice, E.ab, "m1", "hello", T0 + 10, &s1), 0);
    cr_assert_eq(send_msg(E.alice, E.ab, "m2", "again", T0 + 11, &s2), 0);
    /* A file this process created has no page it did not note. */
    cr_assert_eq(scrub_of(E.st)->all, 0);
    close_store(E.st);
    cr_assert(state_exists(), "a clean stop leaves the bitmap");
    E.st = open_store();
    cr_assert(!state_exists(), "removed before the database is opened");
    cr_assert_eq(scrub_of(E.st)->loaded, 1);
    cr_assert_eq(scrub_of(E.st)->all, 0);

    int fd = open(E.path, O_RDWR | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    uint32_t msgs = leaf_of("messages"), users = leaf_of("users");
    /* Every page was written by the first process: this delete covers both,
     * and the scrub drops the page cache. */
    plant(fd, msgs);
    plant(fd, users);
    del(s1, T0 + 20);
    cr_assert(!marked(fd, msgs) && !marked(fd, users), "pages owed by the last process");

    /* The messages page is written again (from the file, planted bytes
     * included), the users page is not; then a clean stop. */
    plant(fd, msgs);
    plant(fd, users);
    cr_assert_eq(send_msg(E.alice, E.ab, "m3", "third", T0 + 30, &s3), 0);
    close_store(E.st);
    cr_assert(state_exists());
    cr_assert(marked(fd, msgs), "the checkpoint at close brought the planted bytes back");

    /* The next process owes the messages page only: its first delete does
     * not read the whole file. */
    E.st = open_store();
    cr_assert_eq(scrub_of(E.st)->loaded, 1);
    del(s2, T0 + 31);
    cr_assert(!marked(fd, msgs), "a page the last process wrote was not scrubbed");
    cr_assert(marked(fd, users), "a page nobody wrote since was read: the whole file was");
    cr_assert_lt(scrub_of(E.st)->pages, (uint64_t)sql_int("PRAGMA page_count"));

    /* Anything that writes the file while duetd is stopped (here a byte,
     * as the sqlite3 CLI would) voids the state: every page again. */
    close_store(E.st);
    cr_assert(state_exists());
    uint8_t b;
    cr_assert_eq(pread(fd, &b, 1, 0), 1);
    cr_assert_eq(pwrite(fd, &b, 1, 0), 1);
    E.st = open_store();
    cr_assert_eq(scrub_of(E.st)->loaded, 0);
    cr_assert_eq(scrub_of(E.st)->all, 1);
    int64_t s4;
    cr_assert_eq(send_msg(E.alice, E.ab, "m4", "fourth", T0 + 40, &s4), 0);
    del(s3, T0 + 41);
    cr_assert(!marked(fd, users), "a file changed while stopped was not scrubbed whole");
    cr_assert_eq(close(fd), 0);
}

/* Another process on the same file notes its own pages, not ours: the
 * bitmap is handed over only by a process that had the file alone for its
 * whole life. A descriptor of our own on the lock file plays the other
 * process (open file description locks belong to the open file, not the
 * process). */
static int other_process(int hold_shared)
{
    char p[160];
    snprintf(p, sizeof(p), "%s-scrub.lock", E.path);
    int fd = open(p, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "o", 1), 1);
    if (hold_shared) {
        struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
        cr_assert_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);
    }
    return fd;
}

Test(store_sqlite_scrub, a_shared_file_hands_nothing_over)
{
    close_store(E.st);
    cr_assert(state_exists(), "alone all along: handed over");

    /* Another process opened the file while this one ran, and is gone. */
    E.st = open_store();
    cr_assert_eq(scrub_of(E.st)->solo, 1);
    cr_assert_eq(close(other_process(0)), 0);
    close_store(E.st);
    cr_assert(!state_exists(), "another process came and went: nothing handed over");

    /* Another process has the file open when this one starts (first a
     * delete, so that the next clean stop hands a bitmap over). */
    E.st = open_store();
    int64_t s1;
    cr_assert_eq(send_msg(E.alice, E.ab, "m1", "hello", T0 + 10, &s1), 0);
    del(s1, T0 + 11);
    close_store(E.st);
    cr_assert(state_exists());
    int fd = other_process(1);
    E.st = open_store();
    cr_assert_eq(scrub_of(E.st)->solo, 0);
    cr_assert_eq(scrub_of(E.st)->loaded, 0, "a state is not trusted beside another process");
    cr_assert_eq(scrub_of(E.st)->all, 1);
    cr_assert(!state_exists(), "removed all the same");
    close_store(E.st);
    cr_assert(!state_exists(), "not alone: nothing handed over");
    cr_assert_eq(close(fd), 0);
    E.st = NULL;
}

/* The scrub rewrites pages of duet.db only while it holds the WAL's
 * checkpointer lock, which every checkpoint of any process takes: held
 * elsewhere, the scrub waits, then leaves the page and owes it. Called here
 * directly (the writer thread is idle between batches, and every page is in
 * duet.db after a clean reopen), since a delete's own checkpoint would wait
 * for the same lock first. */
Test(store_sqlite_scrub, the_scrub_waits_for_checkpoints)
{
    close_store(E.st); /* every page in duet.db */
    E.st = open_store();
    int fd = open(E.path, O_RDWR | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    uint32_t users = leaf_of("users");
    plant(fd, users);
    struct sq_scrub *sc = scrub_of(E.st);
    sqlite3 *writer = ((sq_store *)E.st)->db;
    sc->all = 1;

    /* A connection of ours in WAL mode holds the checkpointer lock, as a
     * checkpoint of another process would. */
    sqlite3 *db;
    sqlite3_file *f = NULL;
    cr_assert_eq(sqlite3_open(E.path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "SELECT count(*) FROM users", NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f), SQLITE_OK);
    cr_assert_eq(f->pMethods->xShmLock(f, 1, 1, SQLITE_SHM_LOCK | SQLITE_SHM_EXCLUSIVE), SQLITE_OK);
    cr_assert_eq(sq_scrub_run(sc, writer), DUET_ESTORE, "the lock is held elsewhere");
    cr_assert(marked(fd, users), "the scrub wrote duet.db while a checkpoint could");
    cr_assert_eq(sc->all, 1, "still owed");

    cr_assert_eq(f->pMethods->xShmLock(f, 1, 1, SQLITE_SHM_UNLOCK | SQLITE_SHM_EXCLUSIVE),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);
    cr_assert_eq(sq_scrub_run(sc, writer), 0);
    cr_assert(!marked(fd, users), "the scrub did not run once the lock was free");
    cr_assert_eq(close(fd), 0);
}
