"""The Stats tab's CPU and memory graphs: a y axis with values and units, an x axis with time, bars where the
samples are (a real container burning CPU), and the scales' arithmetic."""

from __future__ import annotations

import re

import pytest

from app.tui.widgets.containers_table import ContainersTable
from app.tui.widgets.time_chart import TimeChart, ago_label, binary_step, bytes_label, nice_step

from .conftest import make_app, settle, wait_for
from .screen_text import widget_lines

BURN = ["sh", "-c", "trap 'exit 0' TERM; yes > /dev/null & while true; do sleep 0.1; done"]
Y_LABEL = re.compile(r"^\s*([\d.]+)(%|B|KiB|MiB|GiB) [┤└]")


def _axis(lines: list[str]) -> list[tuple[float, str]]:
    """The y axis' values and units, top to bottom."""
    out = []
    for line in lines:
        m = Y_LABEL.match(line)
        if m:
            out.append((float(m.group(1)), m.group(2)))
    return out


@pytest.mark.asyncio
@pytest.mark.slow
async def test_cpu_and_memory_graphs_have_axes_with_units(tui_engine, config, busybox, containers):
    c = containers(command=BURN, name="burner", cpus=0.5, memory=64 * 1024 * 1024)
    app = make_app(tui_engine, config)
    async with app.run_test(size=(140, 50)) as pilot:
        await settle(pilot)
        table = app.main.query_one(ContainersTable)
        table.move_cursor(row=table.get_row_index(c.id))
        table.focus()
        await pilot.press("S")
        await wait_for(
            pilot,
            lambda: len(app.history.series.get(c.id).cpu) >= 4 if c.id in app.history.series else False,
            timeout=15,
            what="four samples",
        )
        await pilot.pause(1.2)
        cpu = app.main.query_one("#chart-cpu", TimeChart)
        mem = app.main.query_one("#chart-mem", TimeChart)
        cpu_lines, mem_lines = widget_lines(app, cpu), widget_lines(app, mem)

        # y axis: five values, top to bottom, evenly spaced, down to 0, in % and in bytes
        axis = _axis(cpu_lines)
        assert [u for _v, u in axis] == ["%"] * 5
        values = [v for v, _u in axis]
        assert values[-1] == 0 and values == sorted(values, reverse=True)
        steps = {round(values[i] - values[i + 1], 6) for i in range(4)}
        assert len(steps) == 1
        burned = max(app.history.series[c.id].cpu)
        assert 20 < burned < 70  # half a CPU
        assert values[0] >= burned and values[0] <= 2.5 * burned  # the top is the next nice step above
        mem_axis = _axis(mem_lines)
        assert mem_axis[-1] == (0.0, "B") and {u for _v, u in mem_axis[:-1]} <= {"KiB", "MiB"}

        # x axis: how long ago, ending at now
        last = cpu_lines[-1]
        assert last.rstrip().endswith("now") and "-1m" in last and "-30s" in last
        assert (
            last.index("-1m")
            < last.index("-45s")
            < last.index("-30s")
            < last.index("-15s")
            < last.index("now")
        )
        assert "└" in cpu_lines[-2] and "┴" in cpu_lines[-2]

        # bars at the right end (the samples are recent), none at the left (a minute ago nothing ran)
        plot = [line.split("┤", 1)[1] for line in cpu_lines if "┤" in line]
        bottom = plot[-1]
        assert any(ch in "▁▂▃▄▅▆▇█" for ch in bottom[-8:])
        assert bottom[:20].strip() == ""

        # the values next to the names
        head = "\n".join(widget_lines(app, app.main.query_one("#stats")))
        assert re.search(r"CPU %\s+\d+\.\d\d%", head)
        assert re.search(r"Memory\s+[\d.]+[KM]iB of 64MiB", head)


def test_nice_scales_and_labels():
    assert [nice_step(x) for x in (0.25, 0.3, 1.2, 2.1, 2.6, 7, 12.5, 26)] == [
        0.25,
        0.5,
        2,
        2.5,
        5,
        10,
        20,
        50,
    ]
    assert binary_step(1000) == 1024 and binary_step(1500) == 2048 and binary_step(3e6) == 4 * 1024**2
    assert [bytes_label(v) for v in (0, 512, 2048, 1.5 * 1024**2, 3 * 1024**3)] == [
        "0B",
        "512B",
        "2KiB",
        "1.5MiB",
        "3GiB",
    ]
    assert [ago_label(s) for s in (0, 15, 60, 90, 300)] == ["now", "-15s", "-1m", "-1m30s", "-5m"]


def test_columns_follow_time_and_show_pauses():
    chart = TimeChart("percent")
    # samples every second for 20 s, then nothing for 30 s (stopped), then 5 s more
    times = [float(t) for t in range(0, 20)] + [float(t) for t in range(50, 55)]
    chart.set_data(times, [10.0] * 20 + [40.0] * 5, now=55.0)
    assert chart.span() == 60
    cols = chart.columns(60, 60)  # one column a second
    assert cols[0] is None  # before the first sample
    assert cols[-5:] == [40.0] * 5
    assert cols[10] == 10.0
    assert cols[25] == 10.0  # the next sample was due in that second
    assert all(v is None for v in cols[26:50])  # then the pause shows as a gap
    assert chart.scale()[0] == 40.0  # 4 rows of 10 %
