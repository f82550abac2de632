"""The Ray executor on a local Ray instance (2 CPUs): the same stored results as in-process, a killed
worker's unfinished examples attacked elsewhere (each example stored exactly once), workers' errors as
they were raised, and the CLI's ``--executor ray``."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import ray  # the 'distributed' extra, installed by scripts/setup.sh

from tests.runs.test_runner import (
    broken_attack,
    keyword_model,
    make_examples,
    make_test_job,
    run_in_fresh_store,
)
from textrobust.data import Split
from textrobust.errors import ParameterError, ResourceMissingError, TextrobustError
from textrobust.runs.executor import WorkerSpec
from textrobust.runs.executors import make_executor
from textrobust.runs.ray_executor import RayExecutor, ShippedVictim
from textrobust.runs.runner import AttackJob, run_attack
from textrobust.store import Store
from textrobust.victims import resolve_victim


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray instance of 2 CPUs for the module (starting one takes seconds)."""
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False)
    yield
    ray.shutdown()


def stored_rows(path: Path) -> list[tuple]:
    with Store(path) as store:
        return store.comparable_result_rows()


def successes(path: Path) -> int:
    """Results with an adversarial text: equal rows prove nothing when every attack returned nothing."""
    with Store(path) as store:
        run = store.runs()[0]
        return sum(1 for r in store.results(run.id) if r.status == "success" and r.adversarial_text)


@pytest.mark.slow
def test_ray_workers_store_byte_identical_results_to_in_process(local_ray, tmp_path: Path) -> None:
    job = make_test_job(n=12, seed=5)
    run_in_fresh_store(tmp_path / "a.sqlite", job)
    run_in_fresh_store(tmp_path / "b.sqlite", job, executor=RayExecutor(2), shard_size=3)
    in_process, on_ray = stored_rows(tmp_path / "a.sqlite"), stored_rows(tmp_path / "b.sqlite")
    assert len(in_process) == 12 and on_ray == in_process
    assert successes(tmp_path / "a.sqlite") > 0


@pytest.mark.slow
def test_a_killed_worker_has_its_unfinished_examples_attacked_elsewhere(local_ray, tmp_path: Path) -> None:
    job = make_test_job(n=24, seed=2, delay=0.2)  # slow enough that the kill lands mid-shard
    executor = RayExecutor(2)
    killed: list[int] = []

    def kill_a_worker(_index: int, _result: object) -> None:
        if not killed:
            pid = executor.worker_pids()[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    with Store(tmp_path / "ray.sqlite") as store:
        outcome = run_attack(
            job, store, executor=executor, shard_size=4, progress=False, on_result=kill_a_worker
        )
        # The store refuses a second result for an example, so finishing at all means none was repeated.
        assert outcome.run.status == "finished" and outcome.attacked == 24
        assert store.finished_indices(outcome.run.id) == set(range(24))
    assert killed and killed[0] not in executor.worker_pids()
    run_in_fresh_store(tmp_path / "reference.sqlite", job)
    assert stored_rows(tmp_path / "ray.sqlite") == stored_rows(tmp_path / "reference.sqlite")


class DyingModel:
    labels = ["negative", "positive"]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")


def dying_model() -> DyingModel:
    return DyingModel()


@pytest.mark.slow
def test_a_shard_that_kills_every_worker_stops_the_run_with_one_error(local_ray, tmp_path: Path) -> None:
    job = make_test_job(n=4)
    deadly = AttackJob(job.parameters, job.examples, WorkerSpec(dying_model, job.worker.build_attack, 0))
    with Store(tmp_path / "s.sqlite") as store:
        with pytest.raises(TextrobustError, match="a worker died 2 times attacking examples 0, 1"):
            run_attack(deadly, store, executor=RayExecutor(1, max_retries=1), shard_size=2, progress=False)
        assert store.runs() == []  # nothing was attacked, so no run was recorded


@pytest.mark.slow
def test_worker_errors_reach_the_driver_as_raised(local_ray, tmp_path: Path) -> None:
    job = make_test_job(n=3)
    broken = AttackJob(job.parameters, job.examples, WorkerSpec(keyword_model, broken_attack, 0))
    crashing = make_test_job(n=6, fail_on=make_examples(6).texts[4])
    with Store(tmp_path / "s.sqlite") as store:
        with pytest.raises(ResourceMissingError, match="masked LM"):  # the worker's error, not a dead actor
            run_attack(broken, store, executor=RayExecutor(2), progress=False)
        assert store.runs() == []
        with pytest.raises(RuntimeError, match="attack crashed"):
            run_attack(crashing, store, executor=RayExecutor(1), shard_size=2, progress=False)
        (run,) = store.runs()
        assert run.status == "interrupted" and store.finished_indices(run.id) == {0, 1, 2, 3}


@pytest.mark.slow
def test_attack_command_on_ray_stores_what_the_in_process_run_stores(
    local_ray, tiny_wordcnn_dir: Path, small_mr, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli.test_attack import _tiny_masked_lm
    from textrobust.cli import main

    mlm = _tiny_masked_lm(tmp_path / "mlm", small_mr.split("train").texts)
    argv = [
        "attack", "--victim", str(tiny_wordcnn_dir), "--recipe", "mlm-synonym", "--mlm", str(mlm), "--n", "6",
        "--disable", "pos,sentence-similarity", "--no-progress", "--batch-examples", "2",
    ]  # fmt: skip
    assert main([*argv, "--store", str(tmp_path / "local.sqlite")]) == 0
    code = main([*argv, "--store", str(tmp_path / "ray.sqlite"), "--executor", "ray", "--workers", "2"])
    err = capsys.readouterr().err
    assert code == 0, err
    local, on_ray = stored_rows(tmp_path / "local.sqlite"), stored_rows(tmp_path / "ray.sqlite")
    assert len(local) == 6 and on_ray == local
    assert successes(tmp_path / "local.sqlite") > 0


def test_a_shipped_victim_folder_loads_with_identical_probabilities(tiny_wordcnn_dir: Path) -> None:
    texts = ["a gripping , funny film", "dull and far too long", "meh"]
    shipped = ShippedVictim.pack(resolve_victim(tiny_wordcnn_dir))
    original = resolve_victim(tiny_wordcnn_dir).load().predict_proba(texts)
    assert np.array_equal(shipped().predict_proba(texts), original)


class FakeCluster:
    """What the executor asks of Ray when placing workers."""

    def __init__(self, cpus: float, gpus: float) -> None:
        self.resources = {"CPU": cpus, **({"GPU": gpus} if gpus else {})}

    def cluster_resources(self) -> dict[str, float]:
        return self.resources


def test_transformer_victims_ask_for_gpus_and_word_victims_run_on_cpus(tiny_wordcnn_dir: Path) -> None:
    word = WorkerSpec(keyword_model, broken_attack, gpu=False)
    transformer = WorkerSpec(keyword_model, broken_attack, gpu=True)
    four_gpus, no_gpus = FakeCluster(cpus=32, gpus=4), FakeCluster(cpus=16, gpus=0)
    assert RayExecutor()._gpus(four_gpus, transformer) == 1.0
    assert RayExecutor(gpus_per_worker=0.25)._gpus(four_gpus, transformer) == 0.25
    assert RayExecutor(gpus_per_worker=0.5)._gpus(four_gpus, word) == 0.0
    assert RayExecutor()._gpus(no_gpus, transformer) == 0.0
    # Without --workers: as many workers as the cluster has room for.
    assert RayExecutor(gpus_per_worker=0.5).worker_count(four_gpus, transformer) == 8
    assert RayExecutor().worker_count(four_gpus, word) == 32
    assert RayExecutor(3).worker_count(four_gpus, word) == 3
    assert not resolve_victim(tiny_wordcnn_dir).uses_gpu


def test_options_are_checked_before_any_work() -> None:
    with pytest.raises(ParameterError, match="ray_address must be 'auto' or HOST:PORT"):
        make_executor(kind="ray", ray_address="nowhere")
    with pytest.raises(ParameterError, match="gpus_per_worker must be ≥ 0"):
        make_executor(kind="ray", gpus_per_worker=-1)
    with pytest.raises(ParameterError, match="gpus_per_worker applies only to the Ray executor"):
        make_executor(2, gpus_per_worker=1)
    with pytest.raises(ParameterError, match="executor must be one of local, ray"):
        make_executor(kind="dask")
    assert RayExecutor(address="10.0.0.5:6379").ship_victims and not RayExecutor().ship_victims


def test_without_ray_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails as if it were not installed
    with pytest.raises(TextrobustError, match=r'pip install "textrobust\[distributed\]"'):
        make_executor(2, kind="ray")


@pytest.mark.slow
def test_defense_generation_on_ray_makes_the_examples_it_makes_in_process(local_ray, tmp_path: Path) -> None:
    """Co-tuning and augmentation attack the current model through the same executors: on Ray the model
    travels as a saved folder and every worker builds the attack, with the same results."""
    from tests.stand_ins import keyword_dataset, stand_in_resources
    from textrobust.defenses.generation import AdversarialGenerator
    from textrobust.victims.training import TrainConfig, train_victim

    # The keyword data and a WordCNN that learnt it: the stand-in neighbours know its words, so attacks
    # succeed (on MR sentences every one failed, and equal results then proved nothing).
    dataset = keyword_dataset()
    config = TrainConfig(epochs=3, batch_size=32, learning_rate=3e-3, progress=False, seed=1)
    victim, _report = train_victim("wordcnn", dataset, None, config, vectors=None)
    test = dataset.split("test")
    examples = Split(test.texts[:12], test.labels[:12])
    made = {}
    for name, executor in (("in-process", None), ("ray", RayExecutor(2))):
        generate = AdversarialGenerator(
            "textfooler", options=stand_in_resources(), progress=False, executor=executor
        )
        generation = generate(victim, examples)
        made[name] = {i: (r.status, r.adversarial_text, r.queries) for i, r in generation.results.items()}
    assert len(made["ray"]) == 12 and made["ray"] == made["in-process"]
    assert any(status == "success" and text for status, text, _queries in made["ray"].values())  # attacks ran
