"""What llmchat reads from a GGUF's header, which files OpenVINO GenAI reads as they are, and the Q8_0 rewrite of
those it does not (real GGUFs of the tiny model, written with the gguf package)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from llmchat.models.gguf_convert import readable_gguf
from llmchat.models.gguf_file import UnservableGGUF, read_gguf_info
from llmchat.models.gguf_to_hf import write_hf_folder
from llmchat.models.gguf_writer import write_llama_gguf
from tests.support.tiny_model import CHAT_TEMPLATE


@pytest.fixture(scope="module")
def ggufs(tiny_model_path, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ggufs")
    files = {
        quant: write_llama_gguf(tiny_model_path, folder / f"tiny-{quant}.gguf", quant) for quant in ("Q8_0", "F32")
    }
    files["made-up"] = write_llama_gguf(tiny_model_path, folder / "made-up.gguf", "Q8_0", architecture="madeupllm")
    return files


def test_header_gives_architecture_context_template_and_types(ggufs):
    info = read_gguf_info(ggufs["Q8_0"])
    assert (info.architecture, info.context_length, info.file_type) == ("llama", 512, "Q8_0")
    assert info.chat_template == CHAT_TEMPLATE
    assert info.weight_types == {"Q8_0"} and info.vector_types == {"F32"}
    assert info.weight_format == "gguf Q8_0" and info.openvino_refusal() is None


def test_refusals_name_the_architecture_or_the_types(ggufs):
    assert read_gguf_info(ggufs["F32"]).openvino_refusal() == "llama/F32 weights"
    assert read_gguf_info(ggufs["made-up"]).openvino_refusal() == "architecture madeupllm"


def test_a_readable_file_is_used_as_it_is(ggufs, tmp_path):
    assert readable_gguf(ggufs["Q8_0"], tmp_path / "cache") == ggufs["Q8_0"]
    assert not list(ggufs["Q8_0"].parent.glob("*.openvino-*"))


def test_unreadable_weights_are_rewritten_once_as_q8_0(ggufs, tmp_path, caplog):
    from gguf import GGUFReader, dequantize

    with caplog.at_level("WARNING", logger="llmchat.models"):
        rewritten = readable_gguf(ggufs["F32"], tmp_path / "cache")
    assert rewritten == ggufs["F32"].parent / "tiny-F32.openvino-q8_0.gguf"
    assert "converting" in caplog.text and "OpenVINO GenAI cannot read llama/F32 weights directly" in caplog.text
    info = read_gguf_info(rewritten)
    assert info.weight_types == {"Q8_0"} and info.openvino_refusal() is None and info.context_length == 512
    original = {t.name: t for t in GGUFReader(str(ggufs["F32"])).tensors}
    for tensor in GGUFReader(str(rewritten)).tensors:  # the same values, to Q8_0's precision
        expected = np.asarray(original[tensor.name].data, dtype=np.float32).reshape(-1)
        got = dequantize(tensor.data, tensor.tensor_type).reshape(-1)
        assert np.abs(got - expected).max() <= np.abs(expected).max() / 100
    made = rewritten.stat().st_mtime_ns
    assert readable_gguf(ggufs["F32"], tmp_path / "cache") == rewritten and rewritten.stat().st_mtime_ns == made


def test_a_gguf_becomes_a_bf16_hf_folder_with_the_same_model(ggufs, tmp_path):
    import torch

    from llmchat.models.loading import load_pretrained

    folder = write_hf_folder(ggufs["Q8_0"], tmp_path / "hf")
    assert json.loads((folder / "config.json").read_text())["dtype"] == "bfloat16"
    assert json.loads((folder / "model.safetensors.index.json").read_text())["weight_map"]
    converted, tokenizer = load_pretrained(folder)
    whole, gguf_tokenizer = load_pretrained(ggufs["Q8_0"])  # transformers' own (whole-file) de-quantisation
    ids = gguf_tokenizer("Hello! Who are you?", return_tensors="pt")["input_ids"]
    assert tokenizer("Hello! Who are you?")["input_ids"] == ids[0].tolist() and tokenizer.model_max_length == 512
    with torch.no_grad():
        expected, got = whole(ids).logits, converted(ids).logits
    assert (expected - got).abs().max().item() < 0.1 * expected.abs().max().item()  # bf16 rounding only
    assert torch.equal(expected.argmax(-1), got.argmax(-1))


def test_an_architecture_nobody_reads_is_refused_clearly(ggufs, tmp_path):
    with pytest.raises(ValueError, match="it needs an export"):
        readable_gguf(ggufs["made-up"], tmp_path / "cache")
    with pytest.raises(UnservableGGUF, match=r"neither OpenVINO GenAI nor transformers read .* madeupllm"):
        write_hf_folder(ggufs["made-up"], tmp_path / "hf")


@pytest.mark.integration
def test_the_tokenizer_reads_the_header_not_the_tensors(tiny_model_path, tmp_path):
    """A GGUF with a 2 GiB tensor table entry on a sparse file: the tokenizer loads without that memory."""
    import gguf

    from llmchat.models.gguf_writer import _write_metadata

    big = tmp_path / "big.gguf"
    config = {
        "num_attention_heads": 4,
        "max_position_embeddings": 512,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 1,
        "rope_theta": 10000.0,
        "rms_norm_eps": 1e-6,
        "vocab_size": 400,
    }
    tokenizer_config = json.loads((tiny_model_path / "tokenizer_config.json").read_text(encoding="utf-8"))
    writer = gguf.GGUFWriter(str(big), arch="llama")
    _write_metadata(writer, config, tokenizer_config, tiny_model_path, "F32")
    rows, width = 2**14, 2**15  # 2 GiB of float32
    writer.add_tensor_info("token_embd.weight", (rows, width), np.dtype(np.float32), rows * width * 4)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    header_end = writer.fout[0].tell()
    writer.close()
    alignment = 32
    start = -(-header_end // alignment) * alignment
    with open(big, "r+b") as file:
        file.truncate(start + rows * width * 4)  # sparse: no disk, and zeros if anything reads it
    script = textwrap.dedent(
        f"""
        import resource
        from pathlib import Path
        from llmchat.models.loading import load_tokenizer
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tokenizer = load_tokenizer(Path({str(big)!r}))
        assert tokenizer.decode(tokenizer("Hello there")["input_ids"]) == "Hello there"
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
        """
    )
    grown_mib = int(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout)
    assert grown_mib < 256
