"""Train the small demo Arabic->English model on Tatoeba, on the CPU, and export it as a model dir.

Recipe (fixed seeds; see models/README.md):
  1. one shared SentencePiece unigram vocabulary on the Arabic + English training text; its normalisation
     rules (NFKC, plus removal of Arabic diacritics and tatweel) are compiled into the .spm file, so the
     runtime needs no Arabic-specific preprocessing;
  2. a small Transformer encoder-decoder (transformers.MarianMTModel) trained with AdamW, inverse-sqrt
     learning rate, label smoothing and length-bucketed batches, checkpointed every epoch;
  3. the last epochs' weights are averaged, converted to CTranslate2 with int8 weights, and written with
     the SentencePiece model and a manifest.json into the model dir;
  4. bench/demo_model_eval.py scores the result on tatoeba-dev (evaluation only, never training) and
     writes the scores into the manifest.

Usage:
  .venv/bin/python tools/train_demo_model.py [--data-dir ../shared/data] [--out models/demo-ar-en-tatoeba]
      [--work-dir work/demo-model] [--epochs N] [--minutes N] [--resume]
Training stops after --epochs, or earlier at the end of the step where --minutes of training time ran out.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODEL_NAME = "demo-ar-en-tatoeba"
SEED = 1234

# Architecture: small enough to train in under an hour on two CPU cores, big enough for short sentences.
MAX_POSITIONS = 256          # position embeddings; the runtime keeps windows and outputs inside them
ARCH = dict(d_model=256, encoder_layers=3, decoder_layers=3, encoder_attention_heads=4, decoder_attention_heads=4,
            encoder_ffn_dim=1024, decoder_ffn_dim=1024)
# Arabic short vowels/tanween/shadda/sukun (U+064B-U+0652), superscript alef (U+0670), tatweel (U+0640):
# written inconsistently in Tatoeba (a third of the lines), so they are removed during normalisation.
ARABIC_STRIP = [chr(c) for c in range(0x064B, 0x0653)] + ["\u0670", "\u0640"]
MAX_LEN = 96                     # pieces; longer training pairs (very rare in Tatoeba) are skipped


class TrainError(Exception):
    """Bad input data or arguments; one-line message."""


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def read_pairs(data_dir: Path) -> list[tuple[str, str]]:
    src_path = data_dir / "tatoeba-train" / "Tatoeba.ar-en.ar"
    tgt_path = data_dir / "tatoeba-train" / "Tatoeba.ar-en.en"
    for path in (src_path, tgt_path):
        if not path.is_file():
            raise TrainError(f"{path}: training file not found (use --data-dir)")
    src = src_path.read_text(encoding="utf-8").splitlines()
    tgt = tgt_path.read_text(encoding="utf-8").splitlines()
    if len(src) != len(tgt):
        raise TrainError(f"{src_path}: {len(src)} lines but {tgt_path.name} has {len(tgt)}; files must be line-aligned")
    pairs = [(s.strip(), t.strip()) for s, t in zip(src, tgt)]
    return [(s, t) for s, t in pairs if s and t]


def write_normalization_rules(path: Path) -> None:
    """SentencePiece rule TSV: NFKC of every code point, control chars dropped, Arabic diacritics dropped."""
    rules = {}
    for cp in range(1, 0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        norm = unicodedata.normalize("NFKC", ch)
        category = unicodedata.category(ch)
        if ch in "\t\n\r" or category == "Zs":
            norm = " "
        elif category in ("Cc", "Cf"):
            norm = ""
        if norm != ch:
            rules[ch] = norm
    for ch in ARABIC_STRIP:
        rules[ch] = ""
    with path.open("w", encoding="utf-8") as f:
        for src, tgt in sorted(rules.items()):
            f.write(" ".join(f"{ord(c):X}" for c in src) + "\t" + " ".join(f"{ord(c):X}" for c in tgt) + "\n")


def train_spm(pairs, work: Path, vocab_size: int):
    import sentencepiece as spm
    text = work / "spm-train.txt"
    with text.open("w", encoding="utf-8") as f:
        for s, t in pairs:
            f.write(s + "\n" + t + "\n")
    rules = work / "normalization.tsv"
    write_normalization_rules(rules)
    # ids: </s>=0 and <unk>=1 as in Marian vocabularies; <pad> is appended after the pieces (see build_model)
    spm.SentencePieceTrainer.train(
        input=str(text), model_prefix=str(work / "spm"), vocab_size=vocab_size, model_type="unigram",
        character_coverage=1.0, byte_fallback=True, normalization_rule_tsv=str(rules),
        eos_id=0, unk_id=1, bos_id=-1, pad_id=-1, num_threads=2, minloglevel=2)
    return spm.SentencePieceProcessor(model_file=str(work / "spm.model"))


def make_batches(lengths, max_tokens: int, rng: random.Random):
    """Length-bucketed batches: similar lengths together, padded size (n * longest) <= max_tokens."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    batches, current, longest = [], [], 0
    for i in order:
        longest_if_added = max(longest, lengths[i])
        if current and longest_if_added * (len(current) + 1) > max_tokens:
            batches.append(current)
            current, longest_if_added = [], lengths[i]
        current.append(i)
        longest = longest_if_added
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def build_model(vocab_with_pad: int, dropout: float):
    from transformers import MarianConfig, MarianMTModel
    pad = vocab_with_pad - 1
    config = MarianConfig(
        vocab_size=vocab_with_pad, **ARCH, max_position_embeddings=MAX_POSITIONS, dropout=dropout, attention_dropout=0.1,
        activation_dropout=0.0, activation_function="swish", scale_embedding=True,
        pad_token_id=pad, eos_token_id=0, decoder_start_token_id=pad, forced_eos_token_id=0,
        share_encoder_decoder_embeddings=True, tie_word_embeddings=True)
    return MarianMTModel(config)


def collate(batch_ids, src, tgt, pad: int):
    import torch
    n = len(batch_ids)
    s_len = max(len(src[i]) for i in batch_ids)
    t_len = max(len(tgt[i]) for i in batch_ids)
    input_ids = torch.full((n, s_len), pad, dtype=torch.long)
    dec_in = torch.full((n, t_len), pad, dtype=torch.long)
    labels = torch.full((n, t_len), -100, dtype=torch.long)
    for row, i in enumerate(batch_ids):
        input_ids[row, :len(src[i])] = torch.tensor(src[i])
        t = tgt[i]
        labels[row, :len(t)] = torch.tensor(t)
        dec_in[row, 1:len(t)] = torch.tensor(t[:-1])   # decoder starts from <pad> (a zero embedding)
    return input_ids, input_ids.ne(pad).long(), dec_in, labels


def averaged_state(paths):
    import torch
    avg = None
    for p in paths:
        state = torch.load(p, map_location="cpu")
        if avg is None:
            avg = {k: v.clone().double() for k, v in state.items()}
        else:
            for k, v in state.items():
                avg[k] += v.double()
    return {k: (v / len(paths)).to(torch.float32) for k, v in avg.items()}


class _pad_start_marian_loader:
    """Convert MarianMT keeping the decoder start exactly as trained.

    CTranslate2's stock Marian loader drops the <pad> row and starts the decoder from a zero embedding
    (true for Marian-trained models). Here the output projection is tied to the embeddings, so training
    moves the <pad> row away from zero and the decoder learned to start from that embedding; starting
    from zeros instead loses the first word. This loader keeps <pad> as the start token, and export()
    gives <pad> a -1e4 output bias so it is never generated.
    """

    def __enter__(self):
        from ctranslate2.converters import transformers as ct2_transformers

        class PadStartLoader(ct2_transformers.MarianMTLoader):
            def get_model_spec(self, model):
                model.config.normalize_before = False
                model.config.normalize_embedding = False
                return ct2_transformers.BartLoader.get_model_spec(self, model)

            def set_config(self, config, model, tokenizer):
                super().set_config(config, model, tokenizer)
                config.decoder_start_token = tokenizer.pad_token

            def set_decoder(self, spec, decoder):
                ct2_transformers.BartLoader.set_decoder(self, spec, decoder)

            def get_vocabulary(self, model, tokenizer):
                return ct2_transformers.BartLoader.get_vocabulary(self, model, tokenizer)

        self.registry = ct2_transformers._MODEL_LOADERS
        self.saved = self.registry["MarianConfig"]
        self.registry["MarianConfig"] = PadStartLoader()
        return self

    def __exit__(self, *exc):
        self.registry["MarianConfig"] = self.saved
        return False


def export(model, sp_model: Path, vocab: dict, out: Path, work: Path, manifest: dict) -> None:
    import ctranslate2
    from transformers import MarianTokenizer
    hf_dir = work / "hf"
    if hf_dir.exists():
        shutil.rmtree(hf_dir)
    hf_dir.mkdir(parents=True)
    (hf_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.copy(sp_model, hf_dir / "source.spm")
    shutil.copy(sp_model, hf_dir / "target.spm")
    tokenizer = MarianTokenizer(str(hf_dir / "source.spm"), str(hf_dir / "target.spm"), str(hf_dir / "vocab.json"),
                                unk_token="<unk>", eos_token="</s>", pad_token="<pad>")
    import torch
    with torch.no_grad():   # <pad> is only the decoder start token: never generate it
        model.final_logits_bias[0, model.config.pad_token_id] = -1e4
    model.save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)
    # convert into a fresh folder first so a failure never leaves a half-written model dir behind
    staging = work / "export"
    if staging.exists():
        shutil.rmtree(staging)
    with _pad_start_marian_loader():
        ctranslate2.converters.TransformersConverter(str(hf_dir)).convert(str(staging), quantization="int8")
    shutil.copy(sp_model, staging / "source.spm")
    shutil.copy(sp_model, staging / "target.spm")
    manifest["weights_sha256"] = hashlib.sha256((staging / "model.bin").read_bytes()).hexdigest()
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(staging, out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=REPO / "models" / MODEL_NAME)
    ap.add_argument("--work-dir", type=Path, default=REPO / "work" / "demo-model")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=55.0, help="training time budget (stops cleanly)")
    ap.add_argument("--vocab-size", type=int, default=5000)
    ap.add_argument("--batch-tokens", type=int, default=1600, help="padded source tokens per batch")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--checkpoint-every", type=int, default=60, help="steps between weight snapshots")
    ap.add_argument("--average", type=int, default=4, help="average the last N weight snapshots")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --work-dir")
    ap.add_argument("--limit-pairs", type=int, default=0, help="use only the first N pairs (smoke tests)")
    ap.add_argument("--skip-eval", action="store_true", help="do not run bench/demo_model_eval.py at the end")
    args = ap.parse_args(argv)

    import torch
    torch.set_num_threads(args.threads)
    random.seed(SEED)
    torch.manual_seed(SEED)
    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    ckpt_dir = work / "checkpoints"
    if not args.resume and ckpt_dir.exists():
        shutil.rmtree(ckpt_dir)      # a fresh run must never average in snapshots of an earlier run
    ckpt_dir.mkdir(exist_ok=True)

    pairs = read_pairs(args.data_dir)
    if args.limit_pairs:
        pairs = pairs[:args.limit_pairs]
    log(f"{len(pairs)} training pairs")
    if args.resume and (work / "spm.model").exists():
        import sentencepiece as spm
        sp = spm.SentencePieceProcessor(model_file=str(work / "spm.model"))
    else:
        sp = train_spm(pairs, work, args.vocab_size)
    n_pieces = sp.get_piece_size()
    pad = n_pieces                       # <pad> is the last id, as the CTranslate2 Marian converter expects
    vocab = {sp.id_to_piece(i): i for i in range(n_pieces)}
    vocab["<pad>"] = pad

    src, tgt = [], []
    for s, t in pairs:
        s_ids = sp.encode(s) + [0]       # source ends with </s>: manifest source_suffix ["</s>"]
        t_ids = sp.encode(t) + [0]
        if len(s_ids) <= MAX_LEN and len(t_ids) <= MAX_LEN:
            src.append(s_ids)
            tgt.append(t_ids)
    lengths = [max(len(s), len(t)) for s, t in zip(src, tgt)]
    steps_per_epoch = len(make_batches(lengths, args.batch_tokens, random.Random(SEED)))
    log(f"{len(src)} pairs after length filter; {sum(map(len, src))} source / {sum(map(len, tgt))} target pieces")

    model = build_model(n_pieces + 1, args.dropout)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9, weight_decay=0.0)
    schedule = lambda step: min((step + 1) / args.warmup, math.sqrt(args.warmup / (step + 1)))  # noqa: E731
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100, label_smoothing=0.1)
    step, epoch, batch_index, trained_seconds = 0, 0, 0, 0.0
    state_path = work / "state.pt"
    if args.resume and state_path.exists():
        state = torch.load(state_path, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, epoch, trained_seconds = state["step"], state["epoch"], state["trained_seconds"]
        batch_index = state.get("batch_index", 0)
        log(f"resumed in epoch {epoch + 1} after batch {batch_index}, step {step}")
    log(f"model: {sum(p.numel() for p in model.parameters())} parameters")

    budget = args.minutes * 60

    def save_checkpoint():
        # weights snapshot (averaged at the end) + full state to resume from after a crash or time-out
        torch.save(model.state_dict(), ckpt_dir / f"step{step:06d}.pt")
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "step": step, "epoch": epoch, "batch_index": batch_index,
                    "trained_seconds": trained_seconds}, state_path)

    out_of_time = trained_seconds >= budget
    while epoch < args.epochs and not out_of_time:
        model.train()
        rng = random.Random(SEED + epoch)     # per-epoch order independent of resumes
        torch.manual_seed(SEED + epoch + batch_index)
        batches = make_batches(lengths, args.batch_tokens, rng)
        t0 = time.time()
        started = trained_seconds
        total_loss, total_tokens = 0.0, 0
        while batch_index < len(batches):
            input_ids, mask, dec_in, labels = collate(batches[batch_index], src, tgt, pad)
            logits = model(input_ids=input_ids, attention_mask=mask, decoder_input_ids=dec_in).logits
            loss = loss_fn(logits.view(-1, logits.size(-1)), labels.view(-1))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            batch_index += 1
            n_tok = int(labels.ne(-100).sum())
            total_loss += float(loss.detach()) * n_tok
            total_tokens += n_tok
            trained_seconds = started + time.time() - t0
            if step % 20 == 0:
                log(f"epoch {epoch + 1} batch {batch_index}/{len(batches)} step {step} loss {total_loss / total_tokens:.3f} "
                    f"lr {scheduler.get_last_lr()[0]:.2e} {total_tokens / (time.time() - t0):.0f} tgt tok/s")
            if trained_seconds >= budget:
                out_of_time = True
                break
            if step % args.checkpoint_every == 0 and batch_index < len(batches):
                save_checkpoint()
        if batch_index >= len(batches):
            epoch += 1
            batch_index = 0
            log(f"epoch {epoch} done: loss {total_loss / max(1, total_tokens):.3f}, {trained_seconds / 60:.1f} min trained")
        else:
            log(f"time budget reached in epoch {epoch + 1} at step {step}")
        save_checkpoint()

    checkpoints = sorted(p for p in ckpt_dir.glob("step*.pt") if int(p.stem[4:]) <= step)[-args.average:]
    if not checkpoints:
        raise TrainError(f"{ckpt_dir}: no checkpoint to export (raise --minutes)")
    log(f"averaging {[p.name for p in checkpoints]}")
    model.load_state_dict(averaged_state(checkpoints))
    model.eval()

    manifest = {
        "name": MODEL_NAME,
        "description": "Demo-quality Arabic->English model for short everyday sentences; not for news.",
        "source_lang": "ar", "target_lang": "en",
        "format": "ctranslate2", "quantization": "int8",
        "source_prefix": [], "source_suffix": ["</s>"], "target_prefix": [], "max_positions": MAX_POSITIONS,
        "quality_rank": 0, "demo": True,
        "training_data": "Tatoeba ar-en (OPUS Tatoeba release), 20,838 sentence pairs",
        "license": "CC-BY 2.0 FR (training data: Tatoeba, https://tatoeba.org)",
        "normalize": "sentencepiece rules: NFKC, Arabic diacritics and tatweel removed (inside source.spm)",
        "source_vocab_size": n_pieces, "target_vocab_size": n_pieces, "shared_vocab": True,
        "architecture": {"type": "transformer (MarianMT)", **ARCH, "parameters": sum(p.numel() for p in model.parameters())},
        "training": {"recipe": "tools/train_demo_model.py", "seed": SEED, "epochs": round(epoch + batch_index / max(1, steps_per_epoch), 2), "steps": step,
                     "minutes": round(trained_seconds / 60, 1), "device": "cpu", "threads": args.threads,
                     "averaged_checkpoints": len(checkpoints), "batch_tokens": args.batch_tokens, "lr": args.lr,
                     "warmup": args.warmup, "dropout": args.dropout, "label_smoothing": 0.1},
        "scores": None,
    }
    export(model, work / "spm.model", vocab, args.out, work, manifest)
    log(f"wrote {args.out}")
    if not args.skip_eval:
        subprocess.run([sys.executable, str(REPO / "bench" / "demo_model_eval.py"), "--model-dir", str(args.out),
                        "--data-dir", str(args.data_dir), "--update-manifest"], check=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TrainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
