/* sqlite_scrub_state.c - what the scrub owes (sqlite_scrub.c), kept across a
 * clean stop, so that the first delete of a process need not read every page
 * of the file.
 *
 * Why: a process notes the pages it writes from its start; before, what was
 * written before it was unknown, so its first delete for everyone read and
 * scrubbed the whole file on the writer thread, with every send waiting
 * behind it (seconds to minutes on a file of many GiB). Once a process has
 * scrubbed (or created the file), every page of duet.db is clean except the
 * ones in its bitmap. At a clean stop, after the last connection has
 * checkpointed and removed the WAL, that bitmap is written next to the file
 * with what identifies the file as it was left (device, inode, size, mtime,
 * ctime). The next process trusts it only if duet.db is exactly so and no
 * WAL is there; it removes the state file before opening the database, so
 * that a crash afterwards leaves none (and the next start scrubs every
 * page, as before). Anything that writes duet.db in between (the sqlite3
 * CLI, a restored backup) changes its mtime or ctime, so the state is
 * ignored. A bitmap that cannot be read is ignored too: ignoring is always
 * safe, it only costs the full scrub.
 *
 * Another process writing the same file (instances of a cluster sharing one
 * duet.db) notes its own pages, not ours, so the bitmap holds only when this
 * process was the file's only user for its whole life: it takes an
 * exclusive lock on duet.db-scrub.lock at start (granted only if nobody
 * holds it), keeps a shared one while it runs, and every process appends a
 * byte to that file when it opens it; at the stop the lock file must be as
 * long as after its own byte, and the exclusive lock granted again.
 *
 * Thread safety: called before the writer starts and after it is joined.
 */
#include "sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../base/log.h"

#define SQ_STATE_MAGIC "duet-scrub-state 1"
/* The bitmap of a file under 2^24 pages (SQ_SCRUB_MAX_PAGES) fits. */
#define SQ_STATE_MAX_BITMAP ((size_t)1 << 21)
#define SQ_STATE_LINE       256

/* path with suffix, in out; 0 or -ENAMETOOLONG. */
static int with_suffix(char *out, size_t cap, const char *path, const char *suffix)
{
    int n = snprintf(out, cap, "%s%s", path, suffix);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* Syncs the folder that holds path, so that a rename or unlink in it lasts. */
static int sync_dir(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -ENAMETOOLONG;
    int fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = fsync(fd) < 0 ? -errno : 0;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    return r;
}

static void identity(const struct stat *st, char *out, size_t cap)
{
    snprintf(out, cap, "%ju %ju %jd %jd %ld %jd %ld", (uintmax_t)st->st_dev, (uintmax_t)st->st_ino,
             (intmax_t)st->st_size, (intmax_t)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
             (intmax_t)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

/* Reads the state file: 0 with the bitmap in *bits (the caller frees it),
 * or -1 when it is missing, unreadable or not for the file as it is now. */
static int state_read(const char *state, const char *path, uint8_t **bits, size_t *len)
{
    FILE *f = fopen(state, "rbe");
    if (f == NULL)
        return -1;
    char line[SQ_STATE_LINE], want[SQ_STATE_LINE], id[200];
    struct stat st;
    size_t n = 0;
    uint8_t *b = NULL;
    if (fgets(line, sizeof(line), f) == NULL || stat(path, &st) < 0)
        goto bad;
    identity(&st, id, sizeof(id));
    char *end = strrchr(line, ' ');
    if (end == NULL || sscanf(end + 1, "%zu", &n) != 1 || n > SQ_STATE_MAX_BITMAP)
        goto bad;
    snprintf(want, sizeof(want), "%s %s %zu\n", SQ_STATE_MAGIC, id, n);
    if (strcmp(line, want) != 0)
        goto bad;
    if ((b = calloc(n > 0 ? n : 1, 1)) == NULL || fread(b, 1, n, f) != n || fgetc(f) != EOF)
        goto bad;
    (void)fclose(f);
    *bits = b;
    *len = n;
    return 0;

bad:
    free(b);
    (void)fclose(f);
    return -1;
}

/* 1 when a WAL with frames sits beside path: what is in it was not noted. */
static int wal_present(const char *path)
{
    char wal[4096];
    struct stat st;
    if (with_suffix(wal, sizeof(wal), path, "-wal") < 0)
        return 1;
    if (stat(wal, &st) == 0)
        return st.st_size > 0;
    return errno != ENOENT;
}

/* An open file description lock on the whole file (Linux): unlike flock,
 * changing a held lock's type is atomic, so no other process can slip in
 * while ours goes from exclusive to shared; unlike a POSIX lock, closing
 * another descriptor of the file does not drop it. 0 or -1 (errno). */
static int ofd_lock(int fd, short type, int wait)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    return fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
}

/* Opens the lock file and tells whether this process is the file's only
 * user (sc->solo); leaves a shared lock held. Failures leave solo 0. */
static void solo_start(struct sq_scrub *sc, const char *path)
{
    char lock[4096];
    struct stat st;
    if (with_suffix(lock, sizeof(lock), path, "-scrub.lock") < 0)
        return;
    sc->lock_fd = open(lock, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (sc->lock_fd < 0) {
        log_warn("store: sqlite: scrub: %s: %s", lock, strerror(errno));
        return;
    }
    sc->lock_open = 1;
    int alone = ofd_lock(sc->lock_fd, F_WRLCK, 0) == 0;
    /* Alone, the bytes of earlier processes can go. */
    if (alone && ftruncate(sc->lock_fd, 0) < 0)
        alone = 0;
    if (write(sc->lock_fd, "o", 1) != 1 || fstat(sc->lock_fd, &st) < 0)
        alone = 0;
    /* Converting a held exclusive lock does not wait; otherwise the wait
     * lasts while another process checks at its own start or stop. */
    if (ofd_lock(sc->lock_fd, F_RDLCK, 1) < 0)
        alone = 0;
    sc->solo = alone;
    sc->lock_size = alone ? (int64_t)st.st_size : 0;
}

/* 1 when nobody else opened the file since solo_start and nobody has it now. */
static int solo_still(struct sq_scrub *sc)
{
    struct stat st;
    if (!sc->solo || !sc->lock_open || fstat(sc->lock_fd, &st) < 0 || st.st_size != sc->lock_size)
        return 0;
    return ofd_lock(sc->lock_fd, F_WRLCK, 0) == 0;
}

int sq_scrub_load(struct sq_scrub *sc, const char *path)
{
    char state[4096];
    if ((sc->path = strdup(path)) == NULL)
        return -ENOMEM;
    if (with_suffix(state, sizeof(state), path, "-scrub") < 0)
        return 0; /* sc->all stays: every page */
    struct stat st;
    uint8_t *bits = NULL;
    size_t len = 0;
    solo_start(sc, path);
    int fresh = stat(path, &st) < 0 ? errno == ENOENT : st.st_size == 0;
    int trusted =
        sc->solo && !wal_present(path) && (fresh || state_read(state, path, &bits, &len) == 0);
    /* Gone before the database is opened: a crash from here on leaves no
     * state behind. */
    if (unlink(state) < 0 && errno != ENOENT) {
        log_warn("store: sqlite: scrub: cannot remove %s: %s", state, strerror(errno));
        trusted = 0;
    } else if (!fresh && sync_dir(state) < 0) {
        trusted = 0;
    }
    if (!trusted) {
        free(bits);
        return 0;
    }
    sc->all = 0;
    sc->dirty = bits;
    sc->dirty_len = len;
    sc->loaded = !fresh;
    return 0;
}

/* Writes state (via a temporary file and a rename, both synced). */
static int state_write(const char *state, const char *header, const uint8_t *bits, size_t len)
{
    char tmp[4096];
    if (with_suffix(tmp, sizeof(tmp), state, ".tmp") < 0)
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    size_t hlen = strlen(header);
    int r = 0;
    if (write(fd, header, hlen) != (ssize_t)hlen ||
        (len > 0 && write(fd, bits, len) != (ssize_t)len))
        r = errno != 0 ? -errno : -EIO;
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, state) < 0)
        r = -errno;
    if (r < 0)
        (void)unlink(tmp);
    return r == 0 ? sync_dir(state) : r;
}

void sq_scrub_save(struct sq_scrub *sc)
{
    char state[4096], id[200], header[SQ_STATE_LINE];
    struct stat st;
    const char *path = sc->path;
    /* Only when every page outside the bitmap is known clean, and the WAL
     * is gone (the last connection checkpointed it into duet.db). */
    if (path == NULL || sc->all || sc->db_fd < 0 || wal_present(path) || !solo_still(sc))
        return;
    if (with_suffix(state, sizeof(state), path, "-scrub") < 0 || fstat(sc->db_fd, &st) < 0)
        return;
    /* Trailing zero bytes carry nothing. */
    size_t len = sc->dirty_len;
    while (len > 0 && sc->dirty[len - 1] == 0)
        len--;
    if (len > SQ_STATE_MAX_BITMAP)
        return;
    identity(&st, id, sizeof(id));
    snprintf(header, sizeof(header), "%s %s %zu\n", SQ_STATE_MAGIC, id, len);
    errno = 0;
    int r = state_write(state, header, sc->dirty, len);
    if (r < 0)
        log_warn("store: sqlite: scrub: cannot save %s (the next start scrubs every page at its "
                 "first delete): %s",
                 state, strerror(-r));
}
