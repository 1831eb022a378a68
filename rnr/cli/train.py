"""rnr-train: the three training stages, each from a YAML config.

    rnr-train --stage reasoner --config configs/reasoner/<preset>.yaml [--data DIR]
              [--model ID|PATH] [--output DIR] [--max-steps N] [key=value ...]
    rnr-train --stage restorer --config configs/restorer/<preset>.yaml [--data DIR]
              [--model ID|PATH] [--reasoner PATH] [--output DIR] [--max-steps N] [key=value ...]
    rnr-train --stage grpo --config configs/grpo/<preset>.yaml --restorer PATH --reasoner PATH
              [--data DIR] [--output DIR] [--max-steps N] [key=value ...]

Config flows one way: the stage's dataclass defaults, then the YAML file, then the
flags, then `key=value` overrides; unknown keys are an error and the resolved config is
written into the output folder. Many GPUs: `accelerate launch -m rnr.cli.train ...`.
`--backend lite` trains the compact CPU models that ship in the package (configs/lite/).
"""

from __future__ import annotations

import argparse
import sys

from rnr.training_data import GRPO_COLUMNS, PAIR_COLUMNS

PROG = "rnr-train"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train the reasoner, the restorer, or GRPO-refine the restorer.",
        epilog="On a CPU, use --backend lite: the default backend, qwen, fine-tunes billion-parameter models and wants a GPU.",
    )
    parser.add_argument("--stage", required=True, choices=("reasoner", "restorer", "grpo"),
                        help="reasoner: learn to diagnose photos (stage 1); restorer: learn to restore them guided by the "
                             "diagnosis (stage 2); grpo: refine a trained restorer with rewards (stage 3)")
    parser.add_argument("--backend", default="qwen", choices=("qwen", "lite"),
                        help="qwen (default): Qwen3-VL / Qwen-Image-Edit with LoRA, for GPUs; lite: the compact models "
                             "shipped in the package, trained on a CPU (configs/lite/)")
    parser.add_argument("--config", metavar="FILE.yaml", help="a preset, e.g. configs/reasoner/qwen3-vl-4b.yaml")
    parser.add_argument("--data", metavar="DIR", help="training data: an rnr-synth output")
    parser.add_argument("--model", metavar="ID|PATH", help="the model to fine-tune")
    parser.add_argument("--output", metavar="DIR", help="where the trained weights go (resumed if it holds checkpoints)")
    parser.add_argument("--max-steps", type=int, metavar="N", help="stop after N optimizer steps")
    parser.add_argument("--reasoner", metavar="PATH", help="restorer: prompts from this reasoner's diagnoses; grpo: the frozen judge")
    parser.add_argument("--restorer", metavar="PATH", help="grpo: the SFT restorer to refine (an rnr-train restorer output)")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. learning_rate=2e-4")
    return parser


def check_data(config, columns: tuple[str, ...], sets: str | None = None) -> None:
    """Refuse an unusable training set in one line before any model loads (left to the stage when none is given)."""
    from rnr.training_data import check_limit, check_training_set, split_sets

    if hasattr(config, "check_ready"):
        config.check_ready()  # a missing --model or --restorer is the first thing to say
    check_limit(getattr(config, "limit", None))
    for data in split_sets(config.data if sets is None else sets):
        check_training_set(data, columns)


def train_reasoner(args: argparse.Namespace) -> int:
    from reasoner.train import TRAIN_COLUMNS, ReasonerTrainConfig, train
    from rnr.config import load_config, with_overrides

    config = load_config(ReasonerTrainConfig, args.config, args.overrides)
    config = with_overrides(config, data=args.data, model=args.model, output=args.output, max_steps=args.max_steps)
    check_data(config, TRAIN_COLUMNS)
    output = train(config)
    print(f"{PROG}: reasoner saved to {output}; load it with QwenReasoner.from_pretrained({str(output)!r})")
    return 0


def train_restorer(args: argparse.Namespace) -> int:
    from restorer.train import RestorerTrainConfig, train
    from rnr.config import load_config, with_overrides

    config = load_config(RestorerTrainConfig, args.config, args.overrides)
    config = with_overrides(
        config, data=args.data, model=args.model, output=args.output, max_steps=args.max_steps, reasoner=args.reasoner
    )
    check_data(config, PAIR_COLUMNS)
    output = train(config)
    print(f"{PROG}: restorer LoRA saved to {output}; load it with QwenEditRestorer.from_pretrained(BASE, lora={str(output)!r})")
    return 0


def train_grpo(args: argparse.Namespace) -> int:
    from rl.grpo import GRPOConfig, train
    from rnr.config import load_config, with_overrides

    config = load_config(GRPOConfig, args.config, args.overrides)
    config = with_overrides(
        config, data=args.data, model=args.model, output=args.output, max_steps=args.max_steps,
        reasoner=args.reasoner, restorer=args.restorer,
    )
    check_data(config, GRPO_COLUMNS)
    output = train(config)
    print(f"{PROG}: GRPO-refined restorer saved to {output}; it loads like the SFT restorer")
    return 0


def train_lite_reasoner(args: argparse.Namespace) -> int:
    from reasoner.lite_train import LiteReasonerConfig, train
    from rnr.config import load_config, with_overrides

    config = with_overrides(load_config(LiteReasonerConfig, args.config, args.overrides), data=args.data, output=args.output, max_steps=args.max_steps)
    check_data(config, PAIR_COLUMNS)
    check_data(config, PAIR_COLUMNS, sets=config.calibration_data)
    output = train(config)
    print(f"{PROG}: lite reasoner saved to {output}; load it with LiteReasoner.load({str(output / 'lite-reasoner.safetensors')!r})")
    return 0


def train_lite_restorer(args: argparse.Namespace) -> int:
    from restorer.lite_train import LiteRestorerConfig, train
    from rnr.config import load_config, with_overrides

    config = with_overrides(load_config(LiteRestorerConfig, args.config, args.overrides), data=args.data, output=args.output, max_steps=args.max_steps)
    check_data(config, PAIR_COLUMNS)
    output = train(config)
    print(f"{PROG}: lite restorer saved to {output}; load it with LiteRestorer.load({str(output / 'lite-restorer.safetensors')!r})")
    return 0


def train_lite_grpo(args: argparse.Namespace) -> int:
    from reasoner.lite import LiteReasoner
    from restorer.lite import LitePolicy, LiteRestorer
    from rl.grpo import GRPOConfig, train
    from rnr.config import load_config, with_overrides

    config = load_config(GRPOConfig, args.config, args.overrides)
    config = with_overrides(
        config, data=args.data, output=args.output, max_steps=args.max_steps, reasoner=args.reasoner, restorer=args.restorer
    )
    config.check_ready()
    check_data(config, GRPO_COLUMNS)
    policy = LitePolicy(LiteRestorer.load(config.restorer), config)
    output = train(config, policy=policy, judge=LiteReasoner.load(config.reasoner))
    print(f"{PROG}: GRPO-refined lite restorer saved to {output / 'lite-restorer.safetensors'}")
    return 0


STAGES = {
    ("reasoner", "qwen"): train_reasoner,
    ("restorer", "qwen"): train_restorer,
    ("grpo", "qwen"): train_grpo,
    ("reasoner", "lite"): train_lite_reasoner,
    ("restorer", "lite"): train_lite_restorer,
    ("grpo", "lite"): train_lite_grpo,
}


def run(args: argparse.Namespace) -> int:
    return STAGES[(args.stage, args.backend)](args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_intermixed_args(argv)  # key=value may come before or after the flags
    from reasoner.qwen import ReasonerLoadError
    from restorer.qwen import RestorerLoadError
    from rnr.config import ConfigError

    try:
        return run(args)
    except (ConfigError, ReasonerLoadError, RestorerLoadError, FileNotFoundError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
