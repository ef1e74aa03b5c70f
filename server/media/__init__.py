"""Uploaded photos and documents: storing them safely, and deciding who may see them.

The public surface other modules use:

- :func:`claim_media` — check that ids name the caller's own uploads before linking them;
- :func:`viewable_media_ids` — the one decision on which files a user may see or take away,
  across every place they can be linked (:func:`can_view_media` asks it for one file);
- :func:`withheld_media_ids` — which files no one may see now (P12), for shaping posts;
- :func:`media_shape` / :func:`media_url` — how a file appears in replies (``/api/media/{id}?k=<key>``).

Inside: ``storage`` (the ``Storage`` interface and the local folder), ``files``
(sniffing, PDF checks, image re-encoding; no database), ``uploads`` (records) and
``access`` (visibility rules) and ``sweeper`` (the part that removes abandoned uploads).
"""

from server.media.access import can_view_media, find_viewable, viewable_media_ids, withheld_media_ids
from server.media.storage import LocalStorage, Storage, open_storage, storage_for
from server.media.uploads import (
    MAX_ATTACHMENTS,
    claim_media,
    discard_files,
    drop_unlinked,
    drop_uploads_of,
    is_recording,
    media_shape,
    media_url,
    remove_files,
    storage_of,
    store_recording,
    store_upload,
    too_large,
)

__all__ = [
    "MAX_ATTACHMENTS",
    "LocalStorage",
    "Storage",
    "can_view_media",
    "claim_media",
    "discard_files",
    "drop_unlinked",
    "drop_uploads_of",
    "find_viewable",
    "is_recording",
    "media_shape",
    "media_url",
    "open_storage",
    "remove_files",
    "storage_for",
    "storage_of",
    "store_recording",
    "store_upload",
    "too_large",
    "viewable_media_ids",
    "withheld_media_ids",
]
