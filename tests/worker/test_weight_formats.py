"""A real worker exporting the tiny model in two weight formats: int4 symmetric (group size 64, the largest of
128/64/32 dividing its hidden size 64) for one entry, `auto` (int8 at this size) for the other; both answer."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.servers import start_worker
from tests.support.tiny_model import make_tiny_model, write_models_yaml

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    hf = make_tiny_model(root / "tiny", seed=7)
    entries = [
        {"id": "tiny-int4", "kind": "base", "source": str(hf), "weight_format": "int4"},
        {"id": "tiny-auto", "kind": "base", "source": str(hf)},
    ]
    config = write_models_yaml(root / "models.yaml", entries, worker={"engine": "openvino"})
    with start_worker(config, models_dir=root / "models", timeout=300) as running:
        yield root, running


def int4_constant_shapes(folder) -> list[list[int]]:
    import openvino

    model = openvino.Core().read_model(str(folder / "openvino_model.xml"))
    return [
        list(op.get_output_shape(0))
        for op in model.get_ops()
        if op.get_type_name() == "Constant" and op.get_output_element_type(0) in (openvino.Type.i4, openvino.Type.u4)
    ]


def test_each_entry_gets_the_export_of_its_format(setup):
    root, _worker = setup
    int4, int8 = root / "tiny.openvino-int4", root / "tiny.openvino-int8"
    assert json.loads((int4 / "llmchat_export.json").read_text())["weight_format"] == "int4"
    assert json.loads((int8 / "llmchat_export.json").read_text())["weight_format"] == "int8"
    shapes = int4_constant_shapes(int4)
    assert shapes and all(shape[-1] == 64 for shape in shapes)  # [out, in / 64, 64]: groups of 64
    assert not int4_constant_shapes(int8)


def test_models_show_the_format_and_both_answer(setup):
    _root, worker = setup
    rows = {row["id"]: row for row in httpx.get(f"{worker.url}/v1/models").json()["data"]}
    assert (rows["tiny-int4"]["weight_format"], rows["tiny-auto"]["weight_format"]) == ("int4", "int8")
    for model in ("tiny-int4", "tiny-auto"):
        body = {"model": model, "prompt": "Hello there", "max_tokens": 8, "temperature": 0, "ignore_eos": True}
        response = httpx.post(f"{worker.url}/v1/completions", json=body, timeout=60)
        assert response.status_code == 200, response.text
        assert response.json()["usage"]["completion_tokens"] == 8 and response.json()["choices"][0]["text"]
    assert len(httpx.get(f"{worker.url}/health").json()["engines"]) == 2  # one engine per export
