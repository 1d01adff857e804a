/* Test-only SQLite VFS "faultvfs": wraps the default VFS and fails the Nth
 * write or sync (counted from faultvfs_arm) with SQLITE_IOERR. */
#ifndef TEST_FAULTVFS_H
#define TEST_FAULTVFS_H
int faultvfs_register(void);
/* fail the nth (1-based) xWrite/xSync from now on; 0 disarms */
void faultvfs_arm(long nth_write, long nth_sync);
long faultvfs_writes(void);
long faultvfs_syncs(void);
#endif
