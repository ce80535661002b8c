"""One work order's record and what a person does to it in the editor, by concern.

``record`` reads it (whole, or the parts a change touched), ``charges`` its line items
and the parts list, ``notes``, ``photos``, ``time_entries``, and ``status`` its status
and the cascade between it and its visits. Each write is one transaction; anything
refused (``ValidationError`` with one sentence per field, ``ConflictError`` when the row
changed or went) writes nothing.

Threading contract: coroutines for the app's event loop. No Qt.
"""

from dispatch_app.services.work_order.charges import (
    add_labour,
    add_material,
    remove_line_item,
    search_parts,
    update_line_item,
)
from dispatch_app.services.work_order.notes import add_note
from dispatch_app.services.work_order.photos import (
    MAX_PHOTO_BYTES,
    THUMBNAIL_SIDE,
    attach_photo,
    attach_photo_file,
    inspect_photo,
    load_photo,
    remove_photo,
)
from dispatch_app.services.work_order.record import load_parts, load_record
from dispatch_app.services.work_order.rows import WorkOrderRecord
from dispatch_app.services.work_order.status import change_status
from dispatch_app.services.work_order.time_entries import add_time_entry, remove_time_entry

__all__ = [
    "MAX_PHOTO_BYTES",
    "THUMBNAIL_SIDE",
    "WorkOrderRecord",
    "add_labour",
    "add_material",
    "add_note",
    "add_time_entry",
    "attach_photo",
    "attach_photo_file",
    "change_status",
    "inspect_photo",
    "load_parts",
    "load_photo",
    "load_record",
    "remove_line_item",
    "remove_photo",
    "remove_time_entry",
    "search_parts",
    "update_line_item",
]
