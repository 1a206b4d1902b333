"""SPEC §14 object-store output, against moto's S3 server on 127.0.0.1 (farm_fixtures.py): a run uploads
to PREFIX/runs/<run_id>/ and commits by writing CURRENT last; a kill before CURRENT leaves the previous
run current; a rerun reuses unchanged frames by server-side copy; runs older than the previous one go;
credentials come from the environment and are never printed."""
import json

from farm_fixtures import BUCKET, SECRET, local_export, report_core, small_session, snapshot


def current(fs, prefix) -> dict:
    return json.loads(fs.cat_file(f"{BUCKET}/{prefix}/CURRENT"))


def run_frames(fs, prefix, run_id) -> dict[str, bytes]:
    keys = sorted(fs.ls(f"{BUCKET}/{prefix}/runs/{run_id}/in/fg", detail=False))
    return {k.rsplit("/", 1)[1]: v for k, v in fs.cat(keys).items()}


def runs(fs, prefix) -> list[str]:
    fs.invalidate_cache()
    return sorted(p.rsplit("/", 1)[1] for p in fs.ls(f"{BUCKET}/{prefix}/runs", detail=False))


def edit_mouth(session, index):
    path = session.parent / "mouth.json"
    mouth = json.loads(path.read_text())
    mouth[index]["mouth_id"] = (mouth[index]["mouth_id"] + 1) % 6
    path.write_text(json.dumps(mouth))


def assert_run_is(fs, prefix, run_id, ref):
    assert run_frames(fs, prefix, run_id) == snapshot(ref / "in" / "fg")       # byte-identical to a local export
    report = json.loads(fs.cat_file(f"{BUCKET}/{prefix}/runs/{run_id}/run_report.json"))
    assert report_core(report) == report_core(ref / "run_report.json")
    assert report["frames_dir"] == f"s3://{BUCKET}/{prefix}/runs/{run_id}/in/fg"
    csv = fs.cat_file(f"{BUCKET}/{prefix}/runs/{run_id}/frames.csv").decode()
    assert csv.replace(report["frames_dir"], "FG") == (ref / "frames.csv").read_text().replace(str(ref / "in" / "fg"), "FG")
    return report


def test_s14_store_commit_kill_before_current_reuse_by_copy_and_old_runs_removed(farm, moto, tmp_path):
    s = small_session(tmp_path / "s", frames=40)
    url = f"s3://{BUCKET}/p"
    res = farm.cli("export", s, "--out", url)                        # 1. upload, then CURRENT
    assert res.returncode == 0, res.stderr
    first = current(moto, "p")
    assert first["frames"] == 40 and first["previous_run_id"] is None
    frames_before = run_frames(moto, "p", first["run_id"])
    assert frames_before == snapshot(local_export(s, tmp_path / "ref1") / "in" / "fg")
    edit_mouth(s, 10)
    res = farm.cli("export", s, "--out", url, LIPSYNC_FAULT="store_uploaded")   # 2. kill -9 just before CURRENT
    assert res.returncode == -9, res.stderr
    assert current(moto, "p") == first and run_frames(moto, "p", first["run_id"]) == frames_before
    assert len(runs(moto, "p")) == 2                                  # the killed run is there; nobody follows it
    res = farm.cli("export", s, "--out", url)                        # 3. reuses the current run's frames by copy
    assert res.returncode == 0, res.stderr
    second = current(moto, "p")
    assert second["previous_run_id"] == first["run_id"]
    report = assert_run_is(moto, "p", second["run_id"], local_export(s, tmp_path / "ref2"))
    assert report["reused_frames"] >= 37                             # only the edited frames were rendered
    res = farm.cli("export", s, "--out", url)                        # 4. runs older than the previous one go
    assert res.returncode == 0 and "removed 2 run(s) older than the previous one" in res.stderr
    assert runs(moto, "p") == sorted([second["run_id"], current(moto, "p")["run_id"]])
    assert SECRET not in res.stdout + res.stderr


def test_s14_store_cluster_export_and_refusal_without_credentials_printed(farm, moto, tmp_path):
    s = small_session(tmp_path / "s", frames=40)
    url = f"s3://{BUCKET}/cluster"
    res = farm.cli("export", s, "--out", url, "--scheduler", farm.address)   # workers upload their own frames
    assert res.returncode == 0, res.stderr
    assert_run_is(moto, "cluster", current(moto, "cluster")["run_id"], local_export(s, tmp_path / "ref"))
    res = farm.cli("export", s, "--out", "s3://no-such-bucket-here/x")
    assert res.returncode == 4, res.stderr
    assert "cannot write s3://no-such-bucket-here/x" in res.stderr and SECRET not in res.stdout + res.stderr
