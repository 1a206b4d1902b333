"""Live drift monitor (issue 5): drift against the frame's interval, dropped frames, history."""
from studio.qa.drift import DriftMonitor


def test_drift_is_zero_inside_the_frame_and_signed_outside():
    m = DriftMonitor(40)
    m.presented(10, 0.400)      # clock at the frame start
    m.presented(11, 0.479)      # inside [440, 480)
    m.presented(12, 0.530)      # clock past the frame's end: picture 10 ms late
    m.presented(14, 0.550)      # clock before the frame: 10 ms early; frame 13 dropped
    s = m.stats()
    assert s["frames"] == 4 and s["dropped"] == 1
    assert m._drift == [0.0, 0.0, -10.0, 10.0]
    assert s["max_ms"] == 10.0 and s["mean_ms"] == 0.0


def test_finished_runs_go_to_the_history():
    m = DriftMonitor(40, history=2)
    for run in range(3):
        m.presented(0, 0.0)
        m.finish_run()
    assert len(m.history) == 2 and m.stats() is None
    assert DriftMonitor.describe(m.history[-1]).startswith("drift mean +0.0 ms")
