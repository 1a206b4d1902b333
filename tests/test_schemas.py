"""The shipped JSON Schemas (issue 2): valid schemas, production samples pass, both validators agree."""
import json

import jsonschema
import pytest
from helpers import SAMPLES

from contracts.jsonfile import SCHEMAS, _fast_validator, _validator

NAMES = sorted(p.name.split(".")[0] for p in SCHEMAS.glob("*.schema.json") if p.name != "common.schema.json")


@pytest.mark.parametrize("name", NAMES)
def test_every_schema_is_a_valid_draft_2020_12_schema(name):
    schema = _validator(name).schema
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"urn:lipsync-studio:{name}"


@pytest.mark.parametrize("name,file", [("atlas", "atlas.min.json"), ("session_b", "sess_real_01.session.json"),
                                       ("mouth_timeline", "mouth_timeline_test1.json"),
                                       ("pose_timeline", "pose_timeline_m0_wrapper_scroll6.json"),
                                       ("expression_timeline", "sess_real_01.expression_timeline.json")])
def test_production_samples_validate(name, file):
    doc = json.loads((SAMPLES / file).read_text())
    assert not list(_validator(name).iter_errors(doc))
    assert _fast_validator(name).is_valid(doc)


CASES = [
    ("pose_timeline", [{"t_ms": 0, "yaw": 1}], True),
    ("pose_timeline", [{"t_ms": "0"}], False),
    ("pose_timeline", {"meta": {}, "frames": []}, True),  # v0.2: a warning, not an error
    ("pose_timeline", {"meta": {"interpolation": "cubic"}, "frames": [{"t_ms": 0}]}, False),
    ("mouth_timeline", {"frames": [{"t_ms": 0, "mouth": "a"}]}, True),
    ("mouth_timeline", {"frames": [{"t_ms": 0}]}, False),
    ("mouth_timeline", [{"t_ms": 0, "mouth_id": "1"}], False),
    ("expression_timeline", [{"t_ms": 0, "emo_id": "1_2", "blink": 1}], True),
    ("expression_timeline", {"timeline": [{"t_ms": 0, "dur_ms": -5, "expression": "blink"}]}, False),
    ("session_a", {"schema_version": "runtime_session_v0.1", "session_id": "s", "inputs": {"pose_timeline": "p"},
                   "render": {"canvas_w": "wide"}}, False),
    ("session_b", {"schema_version": "session_runtime_v0.1", "session_id": "s", "pose_timeline": "p",
                   "emo_map": {"1": "smile"}}, True),
    ("atlas", {"views": {"front": {"closed": 3}}}, False),
]


@pytest.mark.parametrize("name,doc,valid", CASES)
def test_fast_and_explaining_validators_agree(name, doc, valid):
    assert _fast_validator(name).is_valid(doc) is valid
    assert (not list(_validator(name).iter_errors(doc))) is valid
