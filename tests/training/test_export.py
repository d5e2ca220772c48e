"""`llmchat export --merge`: the merged checkpoint computes what base + adapter computes, without peft."""

import json

import pytest

from tests.training.cli_helper import run_cli


def test_merged_and_adapter_models_give_identical_logits(lora_run, registry_env, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llmchat.training.export import load_run_model

    out = tmp_path / "merged"
    assert run_cli(["export", str(lora_run), "--merge", "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    assert "quantization_config" not in config and not (out / "adapter_config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(str(out), dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    adapted, _ = load_run_model(lora_run)
    ids = tokenizer(
        ["Below is an instruction.\n\n### Instruction:\nWhat is 4 + 4?\n\n### Response:\n"], return_tensors="pt"
    )["input_ids"]
    with torch.inference_mode():
        expected, actual = adapted(input_ids=ids).logits, merged(input_ids=ids).logits
    assert torch.allclose(expected, actual, atol=1e-4)


def test_export_by_run_id_and_errors(lora_run, registry_env, capsys):
    assert run_cli(["export", "tiny-lora"]) == 2  # nothing asked for
    assert "choose --merge" in capsys.readouterr().err
    assert run_cli(["export", "no-such-run", "--merge"]) == 2
    assert "no finished run 'no-such-run'" in capsys.readouterr().err
    assert run_cli(["export", "tiny-lora", "--gguf", "Q5_K"]) == 2
    assert "--gguf: 'Q5_K' is not one of Q8_0, Q4_0" in capsys.readouterr().err


def test_modelfile_wraps_the_prompt_in_the_alpaca_template():
    from llmchat.models.modelfile import ollama_modelfile
    from llmchat.prompts import load_alpaca_template

    text = ollama_modelfile("run-q8_0.gguf", load_alpaca_template())
    assert text.startswith('FROM ./run-q8_0.gguf\nTEMPLATE """Below is an instruction')
    assert '### Instruction:\n{{ .Prompt }}\n\n### Response:\n"""\n' in text
    assert 'PARAMETER stop "### Instruction:"\nPARAMETER stop "### Input:"\nPARAMETER stop "### Response:"\n' in text


@pytest.mark.integration  # starts a real worker
def test_gguf_exports_of_a_run_load_and_answer_in_the_worker(lora_run, registry_env, tmp_path):
    """Q8_0 and Q4_0 written by the `gguf` package from the merged run; the real worker (OpenVINO GenAI reads GGUF
    directly) serves both, and the Q8_0 file answers as the merged model does."""
    import httpx

    from llmchat.models.gguf_file import read_gguf_info
    from llmchat.prompts import load_alpaca_template
    from tests.support.servers import start_worker
    from tests.support.tiny_model import write_models_yaml

    assert run_cli(["export", "tiny-lora", "--gguf", "q8_0", "--gguf", "Q4_0"]) == 0
    exports = lora_run / "exports"
    files = {quant: exports / f"tiny-lora-{quant.lower()}.gguf" for quant in ("Q8_0", "Q4_0")}
    for quant, path in files.items():
        info = read_gguf_info(path)
        assert (info.architecture, info.file_type, info.openvino_refusal()) == ("llama", quant, None)
        assert (exports / f"tiny-lora-{quant.lower()}.Modelfile").read_text().startswith(f"FROM ./{path.name}\n")
    entries = [
        {"id": f"run-{quant.lower()}", "kind": "chat", "source": str(path), "prompt_style": "alpaca"}
        for quant, path in files.items()
    ]
    config = write_models_yaml(tmp_path / "models.yaml", entries, worker={"engine": "openvino", "max_batch_size": 2})
    prompt = load_alpaca_template().render("What is 4 + 4?")
    with start_worker(config, models_dir=tmp_path / "models", timeout=240) as worker:
        with httpx.Client(base_url=worker.url, timeout=120) as client:
            answers = {}
            for quant in files:
                body = {"model": f"run-{quant.lower()}", "prompt": prompt, "max_tokens": 4, "temperature": 0}
                response = client.post("/v1/completions", json={**body, "ignore_eos": True})
                assert response.status_code == 200, response.text
                answers[quant] = response.json()["choices"][0]["text"]
        assert f"OpenVINO reads {files['Q8_0']}" in worker.log()
    assert answers["Q4_0"]
    assert answers["Q8_0"] == _greedy(lora_run / "merged", prompt, 4)


def _greedy(hf_folder, prompt: str, tokens: int) -> str:
    import torch

    from llmchat.models.loading import load_pretrained

    model, tokenizer = load_pretrained(hf_folder)
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=tokens, do_sample=False, eos_token_id=None)
    return tokenizer.decode(out[0][ids.shape[1] :])


def test_openvino_export_of_a_run_is_listed_beside_its_ggufs(lora_run, registry_env):
    from llmchat.training.export import list_exports

    assert run_cli(["export", "tiny-lora", "--openvino", "int4"]) == 0
    folder = lora_run / "exports" / "tiny-lora.openvino-int4"
    assert (folder / "openvino_model.xml").is_file() and (folder / "openvino_tokenizer.xml").is_file()
    kinds = {item["name"]: item["kind"] for item in list_exports(lora_run)}
    assert kinds["exports/tiny-lora.openvino-int4"] == "openvino" and kinds["merged"] == "hf"
