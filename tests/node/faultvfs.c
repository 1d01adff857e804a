/* Test-only fault-injecting SQLite VFS (never linked into the daemon). */
#include "faultvfs.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct ffile {
	sqlite3_file base;
	sqlite3_file *real; /* follows this struct in the same allocation */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fvfs;
static long write_n, sync_n, fail_write_at, fail_sync_at;

void faultvfs_arm(long nth_write, long nth_sync)
{
	write_n = sync_n = 0;
	fail_write_at = nth_write;
	fail_sync_at = nth_sync;
}
long faultvfs_writes(void) { return write_n; }
long faultvfs_syncs(void) { return sync_n; }

#define REAL(f) (((struct ffile *)(f))->real)

static int f_close(sqlite3_file *f)
{
	int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : SQLITE_OK;
	return rc;
}
static int f_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{ return REAL(f)->pMethods->xRead(REAL(f), b, n, o); }
static int f_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
	if (fail_write_at && ++write_n == fail_write_at)
		return SQLITE_IOERR_WRITE;
	if (!fail_write_at)
		write_n++;
	return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 s)
{ return REAL(f)->pMethods->xTruncate(REAL(f), s); }
static int f_sync(sqlite3_file *f, int fl)
{
	if (fail_sync_at && ++sync_n == fail_sync_at)
		return SQLITE_IOERR_FSYNC;
	if (!fail_sync_at)
		sync_n++;
	return REAL(f)->pMethods->xSync(REAL(f), fl);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *s)
{ return REAL(f)->pMethods->xFileSize(REAL(f), s); }
static int f_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int f_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int f_check(sqlite3_file *f, int *o)
{ return REAL(f)->pMethods->xCheckReservedLock(REAL(f), o); }
static int f_fcntl(sqlite3_file *f, int op, void *a)
{ return REAL(f)->pMethods->xFileControl(REAL(f), op, a); }
static int f_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int f_dev(sqlite3_file *f)
{ return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int f_shmmap(sqlite3_file *f, int i, int sz, int ext, void volatile **p)
{ return REAL(f)->pMethods->xShmMap(REAL(f), i, sz, ext, p); }
static int f_shmlock(sqlite3_file *f, int o, int n, int fl)
{ return REAL(f)->pMethods->xShmLock(REAL(f), o, n, fl); }
static void f_shmbarrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int f_shmunmap(sqlite3_file *f, int d)
{ return REAL(f)->pMethods->xShmUnmap(REAL(f), d); }
static int f_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **p)
{ return REAL(f)->pMethods->xFetch(REAL(f), o, n, p); }
static int f_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p)
{ return REAL(f)->pMethods->xUnfetch(REAL(f), o, p); }

static const sqlite3_io_methods fmethods = {
	3, f_close, f_read, f_write, f_truncate, f_sync, f_size, f_lock, f_unlock,
	f_check, f_fcntl, f_sector, f_dev, f_shmmap, f_shmlock, f_shmbarrier,
	f_shmunmap, f_fetch, f_unfetch,
};

static int f_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct ffile *ff = (struct ffile *)f;
	ff->real = (sqlite3_file *)(ff + 1);
	memset(ff->real, 0, (size_t)real_vfs->szOsFile);
	int rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out);
	ff->base.pMethods = rc == SQLITE_OK ? &fmethods : NULL;
	return rc;
}
static int f_delete(sqlite3_vfs *v, const char *n, int s) { return real_vfs->xDelete(real_vfs, n, s); }
static int f_access(sqlite3_vfs *v, const char *n, int fl, int *o)
{ return real_vfs->xAccess(real_vfs, n, fl, o); }
static int f_full(sqlite3_vfs *v, const char *n, int sz, char *o)
{ return real_vfs->xFullPathname(real_vfs, n, sz, o); }
static int f_rand(sqlite3_vfs *v, int n, char *o) { return real_vfs->xRandomness(real_vfs, n, o); }
static int f_sleep(sqlite3_vfs *v, int us) { return real_vfs->xSleep(real_vfs, us); }
static int f_time(sqlite3_vfs *v, double *t) { return real_vfs->xCurrentTime(real_vfs, t); }
static int f_lasterr(sqlite3_vfs *v, int n, char *b) { return real_vfs->xGetLastError(real_vfs, n, b); }
static int f_time64(sqlite3_vfs *v, sqlite3_int64 *t)
{ return real_vfs->xCurrentTimeInt64(real_vfs, t); }

int faultvfs_register(void)
{
	if (real_vfs != NULL)
		return 0;
	real_vfs = sqlite3_vfs_find(NULL);
	if (real_vfs == NULL)
		return -1;
	memset(&fvfs, 0, sizeof fvfs);
	fvfs.iVersion = 2;
	fvfs.szOsFile = (int)sizeof(struct ffile) + real_vfs->szOsFile;
	fvfs.mxPathname = real_vfs->mxPathname;
	fvfs.zName = "faultvfs";
	fvfs.xOpen = f_open;
	fvfs.xDelete = f_delete;
	fvfs.xAccess = f_access;
	fvfs.xFullPathname = f_full;
	fvfs.xRandomness = f_rand;
	fvfs.xSleep = f_sleep;
	fvfs.xCurrentTime = f_time;
	fvfs.xGetLastError = f_lasterr;
	fvfs.xCurrentTimeInt64 = f_time64;
	return sqlite3_vfs_register(&fvfs, 0) == SQLITE_OK ? 0 : -1;
}
