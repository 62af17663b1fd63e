"""Every change to the image and volume stores is an event, whichever process makes it (the app and
``dockyard events`` follow them)."""

from __future__ import annotations

import io


def _events_since(engine, offset: int) -> list[tuple[str, str, str, str]]:
    return [
        (e.type, e.action, e.id, str(e.attributes.get("name", "")))
        for e in engine.events(since_offset=offset, timeout=0)
    ]


def test_tag_untag_and_delete_are_events(engine_, busybox) -> None:
    image_id = engine_.images.resolve(busybox)
    offset = engine_.event_offset()
    engine_.images.tag(busybox, "other:1")
    engine_.images.remove("other:1")
    assert _events_since(engine_, offset) == [
        ("image", "tag", image_id, "other:1"),
        ("image", "untag", image_id, image_id),
    ]
    offset = engine_.event_offset()
    engine_.images.remove(busybox)
    seen = _events_since(engine_, offset)
    assert ("image", "untag", image_id, image_id) in seen
    assert seen[-1] == ("image", "delete", image_id, image_id)


def test_moving_a_tag_untags_the_image_that_had_it(engine_, busybox) -> None:
    first = engine_.images.resolve(busybox)
    offset = engine_.event_offset()
    second = engine_.images.import_(io.BytesIO(_tar()), "busybox:latest")
    seen = _events_since(engine_, offset)
    assert ("image", "untag", first, first) in seen
    assert ("image", "tag", second, "busybox:latest") in seen
    assert seen[-1] == ("image", "import", second, "busybox:latest")


def test_cli_import_save_and_load_are_seen_by_another_process(cli, engine_, busybox, tmp_path) -> None:
    image_id = engine_.images.resolve(busybox)
    offset = engine_.event_offset()
    archive = str(tmp_path / "bb.tar")
    cli("save", "-o", archive, busybox)
    cli("rmi", busybox)
    cli("load", "-i", archive)
    actions = [(t, a, n) for t, a, _, n in _events_since(engine_, offset)]
    assert actions.index(("image", "save", busybox)) < actions.index(("image", "delete", image_id))
    assert ("image", "tag", busybox) in actions
    assert actions[-1] == ("image", "load", busybox)


def test_volume_create_and_destroy_are_events(cli, engine_) -> None:
    offset = engine_.event_offset()
    cli("volume", "create", "data")
    cli("volume", "rm", "data")
    seen = [(e.type, e.action, e.id) for e in engine_.events(since_offset=offset, timeout=0)]
    assert seen == [("volume", "create", "data"), ("volume", "destroy", "data")]


def _tar() -> bytes:
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("hello")
        data = b"hi\n"
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue()
