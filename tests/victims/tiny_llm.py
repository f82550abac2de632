"""A tiny causal LM built in code for ``llm:`` victims' tests: a 2-layer Llama with random weights over a
word-level vocabulary (the prompt's words and the keyword data's), with a ChatML-like chat template, saved
with ``save_pretrained`` as any user's folder would be. Its answers mean nothing; the arithmetic the
victim does over them is what the tests check."""

from __future__ import annotations

from pathlib import Path

from tests.stand_ins import VOCABULARY

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
PROMPT_WORDS = (
    "classify sentiment or category of following text as answer with one word you are a careful classifier "
    "review is it system user assistant negative positive neutral very not at all . : , ? !"
).split()


def tiny_causal_lm(directory: Path, *, chat: bool = True, seed: int = 0) -> Path:
    """Save the tiny model and its tokenizer in ``directory`` (with a chat template when ``chat``)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = sorted({*VOCABULARY, *PROMPT_WORDS, *(w.capitalize() for w in PROMPT_WORDS)})
    special = ["[UNK]", "[PAD]", "<|im_start|>", "<|im_end|>"]
    vocab = {token: i for i, token in enumerate([*special, *words])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        pad_token="[PAD]",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
    )
    if chat:
        tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=vocab["[PAD]"],
        bos_token_id=None,
        eos_token_id=vocab["<|im_end|>"],
    )
    model = LlamaForCausalLM(config)
    with torch.no_grad():  # larger weights than the initialiser's: answers whose probabilities differ
        for parameter in model.parameters():
            parameter.mul_(8.0 if parameter.dim() > 1 else 1.0)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
