"""Names the dead-code check (vulture, run by ``make lint``) cannot see used, each with what uses it."""

# ruff: noqa
# fmt: off

# Records' fields: part of what the records say (shown by inspect/JSON output, read by tests and callers).
end_line, legacy_form, empty_layer, link_target, copies, smallest_size, inefficiencies  # noqa: B018
layers_downloaded, pushed, mounted, tar_bytes  # noqa: B018
# Dockerfile facts the parser reports (``# syntax=``, ``!`` exceptions in .dockerignore): tested, kept for
# the builder's diagnostics.
syntax, has_exceptions  # noqa: B018
# json's decoder hooks that engine/jsonio.py's stand-in must accept.
object_hook, object_pairs_hook, parse_int, memo, parse_constant  # noqa: B018
# Attributes set for their effect: the inotify watch descriptor (kept with its fd), an empty import path
# in the launched child (sys.meta_path), the compression names a layer can have (documented).
wd, meta_path, COMPRESSIONS  # noqa: B018
# Attributes tarfile reads: a member's group name when it writes the header; its module's ``grp``, set to
# None so that no group is looked up inside a container's root (runtime/copy.py).
gname, grp  # noqa: B018
# Public API without a caller inside dockyard: docker-py's names (Images.untag is ``docker image rm`` of one
# tag), dive's per-image tree, ``docker diff``'s letters, a stats target record.
untag, image_tree, docker_kind, Target  # noqa: B018
# cgroup views used by the cgroup tests on machines of the other version (v1 state files, a v2 tree).
from_state, v2_at  # noqa: B018
# A function only the type checker reads: it holds DockyardApp to the AppServices protocol.
_gives_the_screen_its_services  # noqa: B018
# The app: how many times the lists were asked for (tests check the clock asks none); a DataTable column's
# sizing attributes, set to fit the columns to the pane (Textual reads them when it lays the table out);
# DataTable's update counter, moved on when widgets/in_place.py puts all its rows in (its caches key on it).
reloads, auto_width, _require_update_dimensions, _update_count  # noqa: B018
# The app's disk usage and pull dialogs: what their tables show, read by their tests; a search result's
# field (Docker Hub's ``is_automated``).
table_text, layer_rows, automated  # noqa: B018
# The app's Top tab: how many times it asked the engine (tests check it asks nothing while hidden).
readings  # noqa: B018
# asyncio's protocol callbacks of the service's upgraded connections (app/service/hijack.py).
data_received, eof_received, pause_writing, resume_writing  # noqa: B018
# Inline styles of the details pane's border while the focus is inside it (app/tui/focus_frame.py; Textual
# reads them when it draws the pane).
border, border_title_color, border_title_style  # noqa: B018
# The main screen's compositor, replaced by one that draws a change through the widgets it touches only
# (app/tui/compositor.py; Textual's Screen uses it).
_compositor  # noqa: B018
# Functions only the type checker reads: they hold Engine, RemoteEngine and the app's EngineSet to the
# EngineAPI protocol (engine/interface.py, app/tui/engines.py).
_local_is_an_engine, _remote_is_an_engine, _a_set_is_an_engine  # noqa: B018
# Whether a caller made the supervisor process by forking (tests check a caller without threads does).
forked  # noqa: B018
# Textual reads these: the app's animation level (none), and the input thread of the app's terminal driver
# (app/tui/driver.py).
animation_level, run_input_thread  # noqa: B018
