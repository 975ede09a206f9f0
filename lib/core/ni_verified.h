/* ni_verified.h — start-up verifications remembered by file identity, so
 * that a database checked once (the GeoIP/ASN MaxMind DB tree walk, the
 * device-detector regexes, the checksums of netintel's own start-up caches:
 * the ASN table, devdet.bin) is not checked again at every start while the
 * file stays the same.
 *
 * A file's identity is (device, inode, size, mtime, ctime, both to the
 * nanosecond).  Replacing a file (a new inode) or writing into it (new mtime
 * and ctime — ctime cannot be set back by a user) changes it.  A file
 * modified less than NI_VERIFIED_SETTLE_S seconds before it was verified is
 * not remembered (timestamps are coarser than a fast rewrite: the same rule
 * as git's "racily clean" index entries).
 *
 * The cache: $XDG_CACHE_HOME/netintel/verified, else
 * $HOME/.cache/netintel/verified; none (every verification runs) when
 * neither is set or NETINTEL_VERIFY_ALWAYS is set to anything but "" or "0".
 * One line per verified file, "KIND<TAB>dev<TAB>ino<TAB>size<TAB>mtime_ns
 * <TAB>ctime_ns", at most NI_VERIFIED_ENTRIES lines (the oldest dropped),
 * written atomically (temp + rename); KIND names the check and its version
 * ("geo/1"), so a stricter check is run again.  A damaged cache is ignored
 * and rewritten; a cache that cannot be written costs only the next start's
 * time.  The cache is no more trusted than the databases it vouches for: it
 * lives in the user's own cache directory.
 *
 * No global state: every call reads (and ni_verified_add rewrites) the file. */
#ifndef NI_VERIFIED_H
#define NI_VERIFIED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/ni_buf.h"
#include "core/ni_cursor.h"

#define NI_VERIFIED_ENTRIES 64
#define NI_VERIFIED_SETTLE_S 2

typedef struct ni_fileid {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
} ni_fileid;

/* The identity of path (following symlinks); false if it cannot be stat'ed. */
bool ni_fileid_of(const char *path, ni_fileid *id);
/* The same for an open file. */
bool ni_fileid_of_fd(int fd, ni_fileid *id);

/* $XDG_CACHE_HOME/netintel/NAME, else $HOME/.cache/netintel/NAME, into buf
 * (n bytes); false when neither variable is set or it does not fit.  Also
 * where the ASN table's binary cache goes (enrich/ni_asn.h). */
bool ni_user_cache_path(const char *name, char *buf, size_t n);

/* The cache file's path into buf (n bytes); false when there is none (see
 * above) or it does not fit. */
bool ni_verified_path(char *buf, size_t n);

/* Was the file of this identity verified by check KIND? */
bool ni_verified_has(const char *kind, const ni_fileid *id);

/* Remembers that it was (unless it changed too recently, see above).  Best
 * effort: returns false when nothing was written. */
bool ni_verified_add(const char *kind, const ni_fileid *id);

/* A start-up cache file of netintel's own (uap.bin, devdet.bin): MAGIC, the
 * 64-bit key of the sources it was made from, the body, then a 64-bit
 * checksum (ni_hash, fixed key) of everything before it; integers little
 * endian.  The checksum is checked once per file identity (kind KIND). */
typedef struct ni_cachefile {
    void *map;                  /* the whole file, mapped read-only */
    size_t n;
    ni_cursor body;             /* after the magic and the key, before the checksum */
    bool summed;                /* an earlier run checked its checksum */
    bool have_id;
    ni_fileid id;
    const char *kind;
} ni_cachefile;

/* Starts b (empty, uninitialised) as such a file: NI_CATALOG_BYTES_MAX at
 * most, then MAGIC and the key; the caller appends the body. */
void ni_cachefile_begin(ni_buf *b, const void *magic, size_t magic_len, uint64_t key);

/* Appends the checksum and writes b to path atomically (best effort: a
 * cache that cannot be written costs only the next start's time), unless
 * building it failed; releases b. */
void ni_cachefile_finish(ni_buf *b, const char *path);

/* Maps path and checks its magic, key and checksum: true with cf filled,
 * false (nothing to close) when it is absent, too large, stale or bad. */
bool ni_cachefile_open(ni_cachefile *cf, const char *path, const void *magic, size_t magic_len,
                       const char *kind, uint64_t key);

/* Unmaps it; ok: its body was read whole and right, so its checksum is
 * remembered as checked for this file identity. */
void ni_cachefile_close(ni_cachefile *cf, bool ok);

/* Closes it as ni_cachefile_close(cf, true) does, but leaves the file
 * mapped for a reader that uses its bytes where they lie: *map and *n take
 * the mapping, released with ni_cachefile_unmap.  The cache is replaced by
 * rename, never rewritten in place, so the mapped bytes do not change. */
void ni_cachefile_keep(ni_cachefile *cf, void **map, size_t *n);
void ni_cachefile_unmap(void *map, size_t n);   /* NULL: nothing */

#endif
