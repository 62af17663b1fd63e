"""Layer tarballs: safe streaming extraction and deterministic creation.

Modules: ``compression`` (detect and decompress), ``reader`` (tar headers, forward only), ``names`` (entry
names made safe), ``extract`` (``extract_layer``), ``writer`` (``write_layer_tar``, ``write_tree_tar``,
``tar_header``), ``limits`` (what an archive may ask: entries, unpacked bytes, header and name lengths,
path depth, layers, JSON size and nesting).

``extract_layer`` unpacks an OCI layer (plain, gzip, bzip2, xz or zstd, detected from the magic bytes)
read forward only, below a destination directory, without ever writing outside it: every entry name is cleaned lexically (a leading ``/`` is dropped, a ``..`` that climbs
out is refused), parent directories are opened one component at a time with O_NOFOLLOW (nothing is written
through a symlink, whether the archive made it or it was already there), hardlinks to paths outside it are
refused, and files are created with O_EXCL|O_NOFOLLOW. A symlink's target is data, kept as written (as in
Docker, ``x -> ../../etc`` is legal: in a container ``/..`` is ``/``); since nothing here follows a symlink,
where one points cannot lead a write out. A refusal raises ``UnsafeArchive`` naming the entry; the entries
before it stay extracted (callers unpack into a temporary directory and delete it on error). So does an
archive beyond a bound of ``limits``, checked before the work it would waste: a header, name or path that
no filesystem takes, more entries or unpacked bytes than allowed (a corrupt or truncated compressed stream
is refused wherever it is read).

Whiteouts become overlayfs whiteouts (``overlay_whiteouts=True``: layer directories stacked as lowerdirs),
are applied by deleting (``overlay_whiteouts=False``: a layer applied onto a full tree), or are plain names
(``interpret_whiteouts=False``: ordinary archives for ``cp`` and ``ADD``).

``write_layer_tar`` writes a directory as a reproducible PAX tar: sorted entries, numeric owners, whole-second
mtimes, xattrs (never overlayfs' own), hardlinks detected by inode; from an overlayfs upper directory it turns
whiteouts and opaque directories back into their OCI form. The same tree always gives the same bytes, hence
the same diff_id. ``write_tree_tar`` does the same for a whole root filesystem (export), staying on one
filesystem.

Nothing here needs /proc except setting xattrs on symlinks and device nodes (skipped without it), so both
directions also work inside a container's mount namespace.
"""
