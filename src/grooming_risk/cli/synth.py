"""`grooming-risk synth`: write a synthetic labelled dataset and its dataset card."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

err = Console(stderr=True)

PROGRESS_FROM = 1000  # below this many conversations a bar is just noise


def synth(
    n: int = typer.Option(1000, "-n", "--count", min=0, help="How many conversations to generate."),
    seed: int = typer.Option(
        0, "--seed", "-s", help="Random seed; the same seed and options give the same file."
    ),
    output: Path = typer.Option(
        ...,
        "-o",
        "--output",
        help="Output file: .jsonl, .jsonl.gz or .parquet ('-' writes JSONL to stdout, no card).",
    ),
    grooming: float = typer.Option(0.35, min=0.0, help="Relative weight of grooming conversations."),
    sextortion: float = typer.Option(0.20, min=0.0, help="Relative weight of sextortion conversations."),
    benign: float = typer.Option(0.45, min=0.0, help="Relative weight of benign conversations."),
    hard_negative_share: float = typer.Option(
        0.45, min=0.0, max=1.0, help="Share of benign conversations that are hard negatives (keep >= 1/3)."
    ),
    min_messages: int = typer.Option(6, min=6, help="Shortest conversation, in messages."),
    max_messages: int = typer.Option(150, min=6, help="Longest conversation, in messages."),
    max_participants: int = typer.Option(6, min=2, help="Most participants in one conversation."),
    platforms: str | None = typer.Option(
        None, help="Comma-separated platforms (default: game_chat,direct_message,group_chat,social_dm,forum)."
    ),
    noise: float = typer.Option(
        1.0, min=0.0, max=3.0, help="Typing-noise scale (typos, slang, emoji); 0 = clean."
    ),
    obfuscation_rate: float = typer.Option(
        0.35, min=0.0, max=1.0, help="Chance an app name in an offender's message is disguised ('s n a p')."
    ),
    repeat_offender_share: float = typer.Option(
        0.06,
        min=0.0,
        max=1.0,
        help="Chance that a risky conversation reuses an earlier offender's account (a returning "
        "offender with another child; sender profiles and author-level metrics need them).",
    ),
    max_offender_conversations: int = typer.Option(
        3, min=1, help="Most conversations one offender account appears in."
    ),
    timestamp_share: float = typer.Option(
        0.8, min=0.0, max=1.0, help="Share of conversations with sent_at times."
    ),
    phrase_pool: str = typer.Option(
        "all",
        help="Templates to draw from: 'all'; 'train' (all but a fixed held-out share of each template "
        "list); 'heldout' (only that share). A 'heldout' file validates a model trained on 'train' "
        "data on wordings it never saw.",
    ),
    heldout_phrase_share: float = typer.Option(
        0.25, min=0.01, max=0.99, help="Share of each template list in the held-out pool."
    ),
    language: str = typer.Option(
        "en", help="Language of the conversations: en, es, fr, de, or mix (en 70%, es/fr/de 10% each)."
    ),
    writers: str = typer.Option(
        "all",
        help="Phrase-bank writers who may speak: 'train' (all but the fixed validation writers), "
        "'validation' (only those: unseen-writer validation data), 'all', or comma-separated writer ids "
        "(en_w0 is the original template banks).",
    ),
    writer_share: float = typer.Option(
        0.5,
        min=0.0,
        max=1.0,
        help="Share of English conversations spoken from the independent writers' banks rather than "
        "the original templates (when both are allowed).",
    ),
    carriers: Path | None = typer.Option(
        None,
        "--carriers",
        exists=True,
        dir_okay=False,
        help="Real chats (e.g. `data import chitchat` output) to weave English risk and hard negatives "
        "into: one real person becomes the offender, the other's replies come from the victim banks.",
    ),
    carrier_share: float = typer.Option(
        1.0,
        min=0.01,
        max=1.0,
        help="Use only this share of --carriers: the same fixed, id-hashed subset a training config's "
        "data.mix share keeps, so woven and real training chats come from the same conversations.",
    ),
    woven_share: float = typer.Option(
        0.6,
        min=0.0,
        max=1.0,
        help="Share of English risky and hard-negative conversations woven into a carrier (with --carriers).",
    ),
    card: bool = typer.Option(True, "--card/--no-card", help="Write <output>.card.json beside the data."),
    progress: bool = typer.Option(
        True, "--progress/--no-progress", help=f"Progress bar on stderr (n >= {PROGRESS_FROM})."
    ),
) -> None:
    """Generate synthetic grooming, sextortion and benign conversations.

    Labels, per-message warning-sign categories and the index of the first sign are known by construction.

    Benign data includes hard negatives (a parent planning a surprise, classmates asking ages, a coach arranging team photos) that share words with risky chats. The data holds no sexual content.

    Deterministic for a seed. Writes <output>.card.json (source, generator version, seed, parameters, counts) beside the data.
    """
    from grooming_risk.data.cards import CountAccumulator, DatasetCard, write_card
    from grooming_risk.data.sampling import in_share
    from grooming_risk.data.synth import GENERATOR_VERSION, SynthConfig, generate
    from grooming_risk.io import RecordWriter, read_conversations
    from grooming_risk.io.formats import dataset_name

    try:
        config = SynthConfig(
            label_mix={"grooming": grooming, "sextortion": sextortion, "benign": benign},
            hard_negative_share=hard_negative_share,
            min_messages=min_messages,
            max_messages=max_messages,
            max_participants=max_participants,
            platforms=tuple(p.strip() for p in platforms.split(","))
            if platforms
            else SynthConfig().platforms,
            noise=noise,
            obfuscation_rate=obfuscation_rate,
            timestamp_share=timestamp_share,
            repeat_offender_share=repeat_offender_share,
            max_offender_conversations=max_offender_conversations,
            phrase_pool=phrase_pool,
            heldout_phrase_share=heldout_phrase_share,
            language=language,
            writers=writers,
            writer_share=writer_share,
            woven_share=woven_share,
        )
        carrier_chats = (
            [c for c in read_conversations(carriers) if in_share(c.conversation_id, carrier_share)]
            if carriers is not None
            else []
        )
    except (ValueError, OSError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None

    to_stdout = str(output) == "-"
    counts = CountAccumulator()
    started = time.perf_counter()
    try:
        writer = RecordWriter(output)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    show = progress and n >= PROGRESS_FROM and not to_stdout
    with writer:
        if show:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            with Progress(
                TextColumn("synth"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            ) as bar:
                task = bar.add_task("synth", total=n)
                for i, conversation in enumerate(generate(n, seed, config, carrier_chats), start=1):
                    writer.write(conversation)
                    counts.add(conversation)
                    if i % 200 == 0 or i == n:
                        bar.update(task, completed=i)
        else:
            for conversation in generate(n, seed, config, carrier_chats):
                writer.write(conversation)
                counts.add(conversation)
    elapsed = time.perf_counter() - started
    totals = counts.counts()

    card_path = None
    if card and not to_stdout:
        card_path = write_card(
            output,
            DatasetCard(
                name=dataset_name(output),
                source="synthetic",
                generator_version=GENERATOR_VERSION,
                seed=seed,
                parameters={
                    "n": n,
                    **config.to_dict(),
                    "carriers": str(carriers) if carriers is not None else None,
                    "carrier_share": carrier_share,
                    "carrier_conversations": len(carrier_chats),
                },
                counts=totals,
            ),
        )
    rate = n / elapsed if elapsed > 0 else float("inf")
    labels = ", ".join(f"{k} {v}" for k, v in totals.by_label.items())
    err.print(
        f"wrote {totals.conversations} conversations ({totals.messages} messages; {labels}; "
        f"{totals.hard_negatives} hard negatives) to {output} in {elapsed:.1f}s ({rate:.0f} conversations/s)"
        + (f"; card {card_path}" if card_path else ""),
        highlight=False,
        soft_wrap=True,
    )
