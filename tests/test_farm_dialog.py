"""SPEC §14 in the studio: the Export dialog driven by real clicks and keys (QTest) against the test
cluster — the scheduler address typed and remembered, the workers listed with per-worker progress,
Cancel cancelling the cluster's tasks with the previous sequence intact."""
import shutil
import signal
import time

from farm_fixtures import local_export, moving_session, snapshot
from helpers import make_atlas
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest


def click(widget):
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_s14_export_dialog_on_the_cluster_lists_workers_and_cancel_cancels_tasks(window, qtbot, farm, tmp_path):
    atlas = make_atlas(tmp_path / "atlas")
    a = moving_session(tmp_path / "a", atlas, 500)           # 5 tasks: most still to do after the first
    b = moving_session(tmp_path / "b", atlas, 500, shift=2.0)
    out = tmp_path / "out"
    local_export(b, out)                                   # the previous sequence: another session's
    before = snapshot(out / "in" / "fg")
    assert window.open_session(a)

    dlg = window.export_dialog()
    dlg.show()
    dlg.out_edit.clear()
    QTest.keyClicks(dlg.out_edit, str(out))
    QTest.keyClicks(dlg.scheduler_edit, farm.address)
    click(dlg.check_button)
    qtbot.waitUntil(lambda: dlg.check_job is None, timeout=20000)
    assert dlg.workers_table.isVisible() and dlg.workers_table.rowCount() == 2, dlg.status.text()
    assert "2 workers ready" in dlg.status.text()

    click(dlg.start_button)                                # export on the cluster, then Cancel mid-run
    qtbot.waitUntil(lambda: dlg.bar.value() > 0 or dlg.job is None, timeout=30000)
    for p in farm.workers.values():                        # the run frozen after its first task
        p.send_signal(signal.SIGSTOP)
    try:
        assert dlg.result is None and dlg.job is not None, dlg.status.text()
        click(dlg.cancel_button)
        qtbot.waitUntil(lambda: dlg.job is None or dlg.result is not None, timeout=20000)
    finally:
        for p in farm.workers.values():
            p.send_signal(signal.SIGCONT)
    assert "cancelled" in dlg.status.text() and dlg.result is None
    with farm.client() as client:
        deadline = time.monotonic() + 5
        while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) == 0
    assert snapshot(out / "in" / "fg") == before
    dlg.close()

    dlg = window.export_dialog()                           # the address is remembered
    assert dlg.scheduler_edit.text() == farm.address
    dlg.out_edit.setText(str(out))
    dlg.show()
    click(dlg.start_button)
    qtbot.waitUntil(lambda: dlg.result is not None or dlg.job is None, timeout=60000)
    assert dlg.result is not None and dlg.result.report["passed"], dlg.status.text()
    table = dlg.workers_table
    frames = [int(table.item(r, 3).text()) for r in range(table.rowCount())]
    assert sum(frames) == 500 - dlg.result.report["reused_frames"] and len(frames) == 2
    assert snapshot(out / "in" / "fg") == snapshot(local_export(a, tmp_path / "ref") / "in" / "fg")
    dlg.close()
    shutil.rmtree(tmp_path / "ref")
