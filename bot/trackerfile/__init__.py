"""The tracker file both ways: export it as the plan's Markdown, import a filled-in copy.

One job per module, in the order they depend on each other:

- ``language``: the template language (``TLine``, ``Slot``, ``Lit``, ``parse_line``, escaping);
- ``fill``: a slot's text from the learner's data (every derived figure from ``bot.progress``);
- ``blocks``: the ``@name`` blocks whose length follows the data (time log, notes, mocks...);
- ``templates``: a plan's template, its data file (``bot/plans/vllm.tracker.md``) or generic;
- ``export``: render the filled-in tracker (``render_markdown``, ``export_filename``);
- ``upload``, ``matching``, ``cells``, ``read``: check an upload, match its lines to the
  template, read typed values, collect the file's claims (``parse_tracker``);
- ``changes``: the typed changes between the claims and the store (``diff``);
- ``apply``: read an upload for a learner and apply its changes through the services
  (``prepare_import``, ``apply_import``); it is not imported here: the data service
  (``bot.services.data``) imports it, and no other module of the package imports a service;
- ``data_export``: everything stored about a person as JSON or CSV.

The formats are described in docs/export-format.md.
"""

from bot.trackerfile.changes import Change, Claim, diff
from bot.trackerfile.data_export import DataBundle, collect, filenames, to_csv_zip, to_json
from bot.trackerfile.export import export_filename, render_markdown
from bot.trackerfile.read import ImportPlan, LineNote, parse_tracker
from bot.trackerfile.upload import MAX_BYTES, decode_upload

__all__ = [
    "MAX_BYTES",
    "Change",
    "Claim",
    "DataBundle",
    "ImportPlan",
    "LineNote",
    "collect",
    "decode_upload",
    "diff",
    "export_filename",
    "filenames",
    "parse_tracker",
    "render_markdown",
    "to_csv_zip",
    "to_json",
]
