/* sqlite_vfs.c - the VFS the writer's connection opens through: every call
 * goes to the default VFS unchanged; a write to the WAL is first shown to the
 * scrub (sqlite_scrub.c), which takes the page number from each frame header.
 *
 * Why a VFS: the scrub must know every page a commit wrote. Reading the frame
 * headers back from the WAL after each commit costs a system call per frame
 * (about 70 frames per commit at 2,000 msg/s); here SQLite hands them over as
 * it writes them, at the cost of one indirect call per file operation.
 *
 * Each store registers its own VFS object, named after its address, with
 * the store's scrub as pAppData (no state shared between stores); it is
 * unregistered once the connection that uses it is closed.
 */
#include "sqlite_int.h"

#include <stdio.h>
#include <string.h>

/* An open file: SQLite's view first, then the default VFS's file. */
struct sq_vfs_file {
    sqlite3_file base;
    struct sq_scrub *sc; /* set for the WAL only */
    sqlite3_file *real;  /* in the same allocation, after this struct */
};

/* Rounded up so that the real file that follows is aligned. */
#define SQ_VFS_HEAD ((sizeof(struct sq_vfs_file) + 15) & ~(size_t)15)

static sqlite3_file *real_of(sqlite3_file *f)
{
    return ((struct sq_vfs_file *)f)->real;
}

/* ---- file methods: forwarded ---- */

static int io_close(sqlite3_file *f)
{
    return real_of(f)->pMethods->xClose(real_of(f));
}

static int io_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}

static int io_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    struct sq_vfs_file *p = (struct sq_vfs_file *)f;
    if (p->sc != NULL)
        sq_scrub_wal_write(p->sc, buf, n, off);
    return p->real->pMethods->xWrite(p->real, buf, n, off);
}

static int io_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return real_of(f)->pMethods->xTruncate(real_of(f), size);
}

static int io_sync(sqlite3_file *f, int flags)
{
    return real_of(f)->pMethods->xSync(real_of(f), flags);
}

static int io_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return real_of(f)->pMethods->xFileSize(real_of(f), size);
}

static int io_lock(sqlite3_file *f, int level)
{
    return real_of(f)->pMethods->xLock(real_of(f), level);
}

static int io_unlock(sqlite3_file *f, int level)
{
    return real_of(f)->pMethods->xUnlock(real_of(f), level);
}

static int io_check_lock(sqlite3_file *f, int *out)
{
    return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}

static int io_fcntl(sqlite3_file *f, int op, void *arg)
{
    return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}

static int io_sector(sqlite3_file *f)
{
    return real_of(f)->pMethods->xSectorSize(real_of(f));
}

static int io_caps(sqlite3_file *f)
{
    return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}

/* Version 2 and 3 methods: only called when the real file has them (the
 * methods table below takes the real file's version). */
static int io_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
    return real_of(f)->pMethods->xShmMap(real_of(f), pg, pgsz, extend, pp);
}

static int io_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}

static void io_shm_barrier(sqlite3_file *f)
{
    real_of(f)->pMethods->xShmBarrier(real_of(f));
}

static int io_shm_unmap(sqlite3_file *f, int del)
{
    return real_of(f)->pMethods->xShmUnmap(real_of(f), del);
}

static int io_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
    return real_of(f)->pMethods->xFetch(real_of(f), off, n, pp);
}

static int io_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

#define SQ_IO_METHODS(version)                                                                     \
    {                                                                                              \
        version, io_close, io_read, io_write, io_truncate, io_sync, io_size, io_lock, io_unlock,   \
            io_check_lock, io_fcntl, io_sector, io_caps, io_shm_map, io_shm_lock, io_shm_barrier,  \
            io_shm_unmap, io_fetch, io_unfetch                                                     \
    }
static const sqlite3_io_methods sq_io[4] = {SQ_IO_METHODS(0), SQ_IO_METHODS(1), SQ_IO_METHODS(2),
                                            SQ_IO_METHODS(3)};

/* ---- VFS methods ---- */

static sqlite3_vfs *real_vfs(sqlite3_vfs *v)
{
    return ((struct sq_scrub *)v->pAppData)->real;
}

static int vfs_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out)
{
    struct sq_vfs_file *p = (struct sq_vfs_file *)f;
    p->sc = flags & SQLITE_OPEN_WAL ? v->pAppData : NULL;
    p->real = (sqlite3_file *)((char *)f + SQ_VFS_HEAD);
    p->real->pMethods = NULL;
    int rc = real_vfs(v)->xOpen(real_vfs(v), name, p->real, flags, out);
    /* No methods: SQLite will not call xClose (the real open failed). */
    const sqlite3_io_methods *m = p->real->pMethods;
    p->base.pMethods = m != NULL ? &sq_io[m->iVersion > 3 ? 3 : m->iVersion] : NULL;
    return rc;
}

static int vfs_delete(sqlite3_vfs *v, const char *name, int sync)
{
    return real_vfs(v)->xDelete(real_vfs(v), name, sync);
}

static int vfs_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    return real_vfs(v)->xAccess(real_vfs(v), name, flags, out);
}

static int vfs_full(sqlite3_vfs *v, const char *name, int n, char *out)
{
    return real_vfs(v)->xFullPathname(real_vfs(v), name, n, out);
}

static void *vfs_dlopen(sqlite3_vfs *v, const char *name)
{
    return real_vfs(v)->xDlOpen(real_vfs(v), name);
}

static void vfs_dlerror(sqlite3_vfs *v, int n, char *out)
{
    real_vfs(v)->xDlError(real_vfs(v), n, out);
}

static void (*vfs_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
    return real_vfs(v)->xDlSym(real_vfs(v), h, sym);
}

static void vfs_dlclose(sqlite3_vfs *v, void *h)
{
    real_vfs(v)->xDlClose(real_vfs(v), h);
}

static int vfs_random(sqlite3_vfs *v, int n, char *out)
{
    return real_vfs(v)->xRandomness(real_vfs(v), n, out);
}

static int vfs_sleep(sqlite3_vfs *v, int us)
{
    return real_vfs(v)->xSleep(real_vfs(v), us);
}

static int vfs_time(sqlite3_vfs *v, double *out)
{
    return real_vfs(v)->xCurrentTime(real_vfs(v), out);
}

static int vfs_last_error(sqlite3_vfs *v, int n, char *out)
{
    return real_vfs(v)->xGetLastError(real_vfs(v), n, out);
}

static int vfs_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    return real_vfs(v)->xCurrentTimeInt64(real_vfs(v), out);
}

int sq_vfs_register(struct sq_scrub *sc)
{
    sqlite3_vfs *real = sqlite3_vfs_find(NULL);
    if (real == NULL || real->iVersion < 2 || real->xCurrentTimeInt64 == NULL)
        return DUET_ESTORE;
    sc->real = real;
    snprintf(sc->vfs_name, sizeof(sc->vfs_name), "duet-scrub-%p", (void *)sc);
    sqlite3_vfs *v = &sc->vfs;
    memset(v, 0, sizeof(*v));
    /* Version 2: the system-call methods of version 3 are for tests. */
    v->iVersion = 2;
    v->szOsFile = (int)SQ_VFS_HEAD + real->szOsFile;
    v->mxPathname = real->mxPathname;
    v->zName = sc->vfs_name;
    v->pAppData = sc;
    v->xOpen = vfs_open;
    v->xDelete = vfs_delete;
    v->xAccess = vfs_access;
    v->xFullPathname = vfs_full;
    v->xDlOpen = vfs_dlopen;
    v->xDlError = vfs_dlerror;
    v->xDlSym = vfs_dlsym;
    v->xDlClose = vfs_dlclose;
    v->xRandomness = vfs_random;
    v->xSleep = vfs_sleep;
    v->xCurrentTime = vfs_time;
    v->xGetLastError = vfs_last_error;
    v->xCurrentTimeInt64 = vfs_time64;
    if (sqlite3_vfs_register(v, 0) != SQLITE_OK)
        return DUET_ESTORE;
    sc->vfs_registered = 1;
    return 0;
}

void sq_vfs_unregister(struct sq_scrub *sc)
{
    if (sc->vfs_registered)
        (void)sqlite3_vfs_unregister(&sc->vfs); /* SQLITE_OK for a registered one */
    sc->vfs_registered = 0;
}
